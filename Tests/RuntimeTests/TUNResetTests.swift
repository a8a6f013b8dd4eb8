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
        if NamespaceChild.isChild("VOWIFI_TUN_RST_CHILD") {
            try childBody()
            return
        }
        try NamespaceChild.run(test: "RuntimeTests.TUNResetTests/testKernelTakesOurResetAsConnectionRefused", environmentFlag: "VOWIFI_TUN_RST_CHILD", namespacePrefix: "vowifi-rst-test")
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
