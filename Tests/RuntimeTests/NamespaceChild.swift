import Foundation
import Glibc
import XCTest
@testable import Runtime

/// Runs one test again in a child process (this same test binary) inside a network namespace
/// the parent creates and deletes, so TUN devices and routes never touch the host's
/// interfaces. The child sees `environmentFlag=1` and runs the test's namespace body.
enum NamespaceChild {
    /// True in the child.
    static func isChild(_ environmentFlag: String) -> Bool {
        ProcessInfo.processInfo.environment[environmentFlag] == "1"
    }

    /// Creates the namespace `<prefix>-<pid>` (loopback up), runs `test` ("Target.Class/method")
    /// in it under `timeout 60`, deletes the namespace, and asserts the child passed.
    static func run(test: String, environmentFlag: String, namespacePrefix: String,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (network namespace, TUN device); run the tests as root") }
        guard access("/dev/net/tun", F_OK) == 0 else { throw XCTSkip("/dev/net/tun is missing on this host") }
        let ns = "\(namespacePrefix)-\(getpid())"
        try IPRoute2.run(["netns", "add", ns])
        defer { _ = try? IPRoute2.run(["netns", "del", ns]) }
        // Loopback up before the child starts: Foundation's Process needs it (CFSocket's
        // wakeup sockets are on 127.0.0.1), and the child runs `ip` through Process.
        try IPRoute2.run(["-n", ns, "link", "set", "lo", "up"])
        let p = Process()
        // `timeout` bounds the child so a hang fails the test instead of the whole run.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var args = ["60", IPRoute2.path, "netns", "exec", ns, exe]
        if exe.hasSuffix("/xctest") || exe.hasSuffix("swift-testing-helper") {
            args.append(CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? "")
        }
        args.append(test)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env[environmentFlag] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "child test failed:\n\(text)", file: file, line: line)
        XCTAssertTrue(text.contains("Executed 1 test, with 0 failures"), text, file: file, line: line)
    }
}
