import XCTest
import Foundation
@testable import Analysis

/// Our capture and key files checked by real tools: tshark decrypts IKEv2 (EAP-AKA) and
/// ESP (SIP) with nothing but the two UAT files; headless Chromium renders the HTML page.
/// Set VOWIFI_ANALYSIS_KEEP=DIR to keep the capture, keys, ladder and page there.
final class ExternalToolTests: XCTestCase {
    static func run(_ tool: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        // Drain both pipes while the tool runs, so a chatty tool cannot block on a full pipe.
        nonisolated(unsafe) var o = Data(), r = Data()
        let g = DispatchGroup()
        g.enter(); DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        g.enter(); DispatchQueue.global().async { r = err.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        g.wait()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self))
    }

    func keep(_ b: CaptureBuilder, _ report: AnalysisReport) {
        guard let d = ProcessInfo.processInfo.environment["VOWIFI_ANALYSIS_KEEP"] else { return }
        try? FileManager.default.createDirectory(atPath: d + "/wireshark", withIntermediateDirectories: true)
        for f in ["ikev2_decryption_table", "esp_sa"] {
            try? FileManager.default.removeItem(atPath: d + "/wireshark/" + f)
            try? FileManager.default.copyItem(atPath: b.keyDir + "/" + f, toPath: d + "/wireshark/" + f)
        }
        let name = (b.capturePath as NSString).lastPathComponent
        try? FileManager.default.removeItem(atPath: d + "/" + name)
        try? FileManager.default.copyItem(atPath: b.capturePath, toPath: d + "/" + name)
        try? LadderRenderer.render(report).write(toFile: d + "/" + name + ".txt", atomically: true, encoding: .utf8)
        try? HTMLRenderer.render(report).write(toFile: d + "/" + name + ".html", atomically: true, encoding: .utf8)
    }

    func testTsharkDecryptsEAPAndSIPWithOurKeyFiles() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { throw XCTSkip("tshark not installed (scripts/setup.sh --test)") }
        let b = try CaptureBuilder(name: "tshark")
        defer { b.cleanup() }
        try b.attach()
        try b.register()
        try b.call(rtpPackets: 5)
        b.detach()
        let report = try b.analyze()
        keep(b, report)
        XCTAssertTrue(report.passed || report.flows.first?.firstProblem?.kind == .subscribe, LadderRenderer.render(report))
        // Only our capture and our key files: XDG_CONFIG_HOME/wireshark/{ikev2_decryption_table,esp_sa}.
        let r = try Self.run("/usr/bin/tshark", ["-r", b.capturePath, "-o", "esp.enable_encryption_decode:TRUE",
                                                 "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "eap.code", "-e", "eap.aka.subtype",
                                                 "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "_ws.malformed"],
                             env: ["XDG_CONFIG_HOME": b.dir, "HOME": b.dir])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertFalse(r.err.contains("Error loading table"), r.err)
        let all = r.out.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertFalse(all.contains { $0.count > 5 && !$0[5].isEmpty }, "malformed packets:\n\(r.out)")
        // The outer interface only: what Wireshark decrypted itself.
        let lines = all.filter { $0.first == "outer" }
        XCTAssertGreaterThan(lines.count, 20)
        let eapCodes = lines.compactMap { $0.count > 1 && !$0[1].isEmpty ? $0[1] : nil }
        let akaSubtypes = lines.compactMap { $0.count > 2 && !$0[2].isEmpty ? $0[2] : nil }
        let methods = lines.compactMap { $0.count > 3 && !$0[3].isEmpty ? $0[3] : nil }
        let statuses = lines.compactMap { $0.count > 4 && !$0[4].isEmpty ? $0[4] : nil }
        // Request/AKA-Challenge (1, subtype 1), Response/AKA-Challenge (2, 1), Success (3).
        XCTAssertEqual(eapCodes, ["1", "2", "3"], r.out)
        XCTAssertEqual(akaSubtypes, ["1", "1"], r.out)
        XCTAssertEqual(methods, ["REGISTER", "REGISTER", "INVITE", "ACK", "BYE"], r.out)
        XCTAssertEqual(statuses, ["401", "200", "100", "180", "200", "200"], r.out)
    }

    func testChromiumRendersTheHTMLPage() throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else { throw XCTSkip("chromium not installed (apt-get install chromium, or scripts/setup.sh --test)") }
        let b = try CaptureBuilder(name: "chromium")
        defer { b.cleanup() }
        try b.attach()
        try b.register()
        try b.call(rtpPackets: 5)
        b.detach()
        let report = try b.analyze()
        keep(b, report)
        let page = b.dir + "/flow.html", shot = b.dir + "/flow.png"
        try HTMLRenderer.render(report).write(toFile: page, atomically: true, encoding: .utf8)
        try "<!DOCTYPE html><html><body></body></html>".write(toFile: b.dir + "/blank.html", atomically: true, encoding: .utf8)
        func screenshot(_ html: String, _ png: String) throws -> (Data?, String) {
            let r = try Self.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                                            "--user-data-dir=\(b.dir)/chromium-profile", "--window-size=1000,1500",
                                            "--enable-logging=stderr", "--v=0", "--screenshot=\(png)", "file://\(html)"],
                                 env: ["HOME": b.dir], timeout: 180)
            return (FileManager.default.contents(atPath: png), r.err)
        }
        let (shotData, err) = try screenshot(page, shot)
        let png = try XCTUnwrap(shotData, "no screenshot; chromium said:\n\(err.suffix(3000))")
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        XCTAssertFalse(err.contains("Uncaught"), "JavaScript error:\n\(err)")
        XCTAssertFalse(err.contains(":CONSOLE(") && err.contains("Error"), "console error:\n\(err)")
        // Non-blank: the same window with an empty page compresses far smaller.
        let (blank, _) = try screenshot(b.dir + "/blank.html", b.dir + "/blank.png")
        let blankSize = try XCTUnwrap(blank?.count)
        XCTAssertGreaterThan(png.count, blankSize * 4, "screenshot \(png.count) bytes vs blank \(blankSize) bytes")
        if let d = ProcessInfo.processInfo.environment["VOWIFI_ANALYSIS_KEEP"] {
            try? FileManager.default.removeItem(atPath: d + "/flow.png")
            try? FileManager.default.copyItem(atPath: shot, toPath: d + "/flow.png")
        }
    }
}
