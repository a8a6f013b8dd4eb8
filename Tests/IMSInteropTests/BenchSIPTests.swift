import Foundation
import TestSupport
import XCTest

/// `vowifi bench sip` end to end on a small scale: SIPp against our IMS and against the
/// Kamailio the bench configures, every REGISTER and call answered.
final class BenchSIPTests: XCTestCase {
    func testBenchSIPRunsAgainstOurIMSAndKamailio() throws {
        try SIPpRun.requireSIPp()
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/kamailio") else {
            throw XCTSkip("Kamailio is not installed (/usr/sbin/kamailio, Debian package kamailio: scripts/setup.sh --test)")
        }
        let exe = Vectors.repoRoot.appendingPathComponent(".build/debug/vowifi").path
        guard FileManager.default.isExecutableFile(atPath: exe) else { throw XCTSkip("build vowifi first (swift build)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["bench", "sip", "--users", "60", "--calls", "30", "--concurrency", "10",
                       "--scenarios", SIPpRun.scenarios.path]
        p.currentDirectoryURL = Vectors.repoRoot
        let out = Pipe()
        p.standardOutput = out; p.standardError = out; p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.waitForExitStatus(), 0, text)
        // Nothing the bench started (Kamailio's workers, SIPp) outlives it.
        let marker = "vowifi-bench-sip-\(p.processIdentifier)/"
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { pid in
            Int(pid) != nil && ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains(marker)
        }
        XCTAssertEqual(left, [], "processes of the bench still running")
        let ours = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("VoWiFi Core IMS") }, text)
        XCTAssertTrue(ours.contains("60/0") && ours.contains("30/0"), text)
        let kam = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("Kamailio") }, text)
        XCTAssertTrue(kam.contains("60/0"), text)
        XCTAssertTrue(text.contains("machine:"), text)
    }
}
