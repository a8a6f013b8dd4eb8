import XCTest
import Foundation
import Glibc
@testable import Runtime

/// `runUntilSignal` in a real process: a child (this test binary, re-run with
/// VOWIFI_SIGNAL_CHILD=1) starts loops with a UDP service, prints "ready", and must stop
/// cleanly when the parent sends SIGTERM to the whole process (not to a thread).
final class SignalProcessTests: XCTestCase {
    func testSIGTERMStopsRunUntilSignalCleanly() throws {
        if ProcessInfo.processInfo.environment["VOWIFI_SIGNAL_CHILD"] == "1" {
            try childBody()
            return
        }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        var args = ["30", exe]
        if exe.hasSuffix("/xctest") { args.append(CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? "") }
        args.append("RuntimeTests.SignalProcessTests/testSIGTERMStopsRunUntilSignalCleanly")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["VOWIFI_SIGNAL_CHILD"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        // Wait for "ready" (the child's loops and signal watcher are up).
        var text = ""
        let reader = out.fileHandleForReading
        while !text.contains("child ready") {
            let d = reader.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
        }
        XCTAssertTrue(text.contains("child ready"), text)
        // `timeout` forwards SIGTERM to the child process.
        kill(p.processIdentifier, SIGTERM)
        text += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("child stopped by signal 15, loop threads left: 0"), text)
    }

    private func childBody() throws {
        Signals.blockInCurrentThread([SIGINT, SIGTERM])
        let group = try EventLoopGroup(loopCount: 2, name: "rt-sigchild")
        _ = try group.onEveryLoop { loop in
            try UDPSocket.bind(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { s, b, p in s.send(b, to: p) }.localAddress
        }
        let heard = Collector<Int32>()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            FileHandle.standardOutput.write(Data("child ready\n".utf8))
        }
        let s = try group.runUntilSignal { heard.append($0) }
        let left = ProcSelf.threadNames().filter { $0.hasPrefix("rt-sigchild") }.count
        FileHandle.standardOutput.write(Data("child stopped by signal \(s), loop threads left: \(left)\n".utf8))
        XCTAssertEqual(heard.values, [SIGTERM])
    }
}
