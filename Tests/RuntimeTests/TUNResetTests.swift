import Foundation
import Glibc
import Wire
import XCTest
@testable import Runtime

/// The simulated phone's answer to TCP (`IPPacket.tcpReset`) checked against the Linux
/// kernel: a connect() routed into a TUN device whose far side answers every segment with
/// that RST fails at once with ECONNREFUSED, which is what makes the IMS fall back to UDP
/// (RFC 3261 §18.1.1). Runs in a network namespace it creates, as TUNTests does.
final class TUNResetTests: XCTestCase {
    func testKernelTakesOurResetAsConnectionRefused() throws {
        if ProcessInfo.processInfo.environment["VOWIFI_TUN_RST_CHILD"] == "1" {
            try childBody()
            return
        }
        guard getuid() == 0 else { throw XCTSkip("needs root (network namespace, TUN device)") }
        guard access("/dev/net/tun", F_OK) == 0 else { throw XCTSkip("/dev/net/tun is missing on this host") }
        let ns = "vowifi-rst-test-\(getpid())"
        try IPRoute2.run(["netns", "add", ns])
        defer { _ = try? IPRoute2.run(["netns", "del", ns]) }
        try IPRoute2.run(["-n", ns, "link", "set", "lo", "up"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var args = ["60", IPRoute2.path, "netns", "exec", ns, exe]
        if exe.hasSuffix("/xctest") || exe.hasSuffix("swift-testing-helper") {
            args.append(CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? "")
        }
        args.append("RuntimeTests.TUNResetTests/testKernelTakesOurResetAsConnectionRefused")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["VOWIFI_TUN_RST_CHILD"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "child test failed:\n\(text)")
        XCTAssertTrue(text.contains("Executed 1 test, with 0 failures"), text)
    }

    private func childBody() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-rst")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let resets = Collector<[UInt8]>()
        let dev = try loop.submit { () -> TUNDevice in
            try TUNDevice.open(name: "vwrst%d", on: loop) { d, p in
                // The far side is a host without TCP listeners: every segment gets a RST.
                if let rst = IPPacket.tcpReset(for: Array(p)) {
                    resets.append(rst)
                    _ = d.write(rst)
                }
            }
        }
        try TUNDevice.configure(name: dev.name, addresses: ["198.18.0.1/24"], routes: ["198.51.100.0/24"], mtu: 1400)

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(5060).bigEndian
        a.sin_addr.s_addr = inet_addr("198.51.100.9")
        let started = Date()
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let err = errno
        XCTAssertEqual(rc, -1)
        XCTAssertEqual(err, ECONNREFUSED, String(cString: strerror(err)))
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "refused at once, no SYN retries")
        XCTAssertEqual(resets.count, 1)
        try loop.submit { dev.close() }
    }
}
