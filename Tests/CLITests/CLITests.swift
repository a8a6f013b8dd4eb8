import Foundation
import TestSupport
import XCTest

/// The `vowifi` binary as users run it (built by `swift build --build-tests`).
final class CLITests: XCTestCase {
    static var binary: String {
        let debug = Vectors.repoRoot.appendingPathComponent(".build/debug/vowifi").path
        return debug
    }

    /// The main job: one phone through attach, REGISTER, echo call, BYE, detach.
    func testDemoPasses() throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = try run(["demo", "--media", "1", "--out", d])
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("RESULT: PASS"), r.out)
        for step in ["IKE_SA_INIT", "IKE_AUTH (EAP-AKA)", "CHILD_SA + CFG_REPLY", "SIP REGISTER (IMS AKA)", "INVITE", "RTP echo", "BYE"] {
            XCTAssertTrue(r.out.contains(step), "missing step \(step)")
        }
        // The Wireshark key files were written live.
        XCTAssertTrue(FileManager.default.fileExists(atPath: d + "/keys/ikev2_decryption_table"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: d + "/keys/esp_sa"))
    }

    /// Every handset profile attaches, registers and completes a loopback call.
    func testEveryProfileCompletesACall() throws {
        let help = try run(["demo", "--help"])
        guard let line = help.out.split(separator: "\n").first(where: { $0.hasPrefix("profiles:") }) else { return XCTFail(help.out) }
        let profiles = line.dropFirst("profiles:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertGreaterThanOrEqual(profiles.count, 5)
        for p in profiles {
            let d = tempDir()
            defer { try? FileManager.default.removeItem(atPath: d) }
            let r = try run(["demo", "--profile", p, "--media", "0.5", "--out", d])
            XCTAssertEqual(r.status, 0, "profile \(p):\n" + r.out + r.err)
        }
    }

    /// `vowifi run` on the default configs prints its summary and stops on SIGTERM within a second.
    func testRunPrintsSummaryAndStopsOnSIGTERM() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { throw XCTSkip("not built") }
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        // Unprivileged-style run on loopback high ports is covered by the e2e tests; here
        // the default configs as shipped, with the in-process path and a private log.
        p.arguments = ["run", "--in-process", "--log", d + "/run.log"]
        p.currentDirectoryURL = Vectors.repoRoot
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        try p.run()
        var text = ""
        let until = Date().addingTimeInterval(20)
        while !text.contains("running;") && Date() < until && p.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { usleep(20_000) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        XCTAssertTrue(text.contains("ePDG"), text)
        XCTAssertTrue(text.contains("PDN"), text)
        XCTAssertTrue(text.contains("HSS"), text)
        XCTAssertTrue(text.contains("running;"), text)
        let t0 = Date()
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1.0)
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func testConfigCheckPrintsTheEPDGParametersAndRejectsTypos() throws {
        let r = try run(["config", "check", "config/mme-ims.cfg"])
        XCTAssertEqual(r.status, 0, r.err)
        for key in ["bind_addr", "private_key", "certificate", "esp_duration", "ike_duration", "omit_auth_in_first_auth_rsp",
                    "p_cscf_ipv4_address_attribute_type", "p_cscf_ipv6_address_attribute_type", "ike_encryption_algo_list",
                    "ike_integrity_algo_list", "ike_prf_list", "ike_dh_group_list", "esp_encryption_algo_list",
                    "esp_integrity_algo_list", "esp_dh_group_list", "dpd_timer_value", "mobike", "ike_generate_error",
                    "idr_for_emergency", "dont_fragment", "additional_ue_auth_type"] {
            XCTAssertTrue(r.out.contains("  \(key): "), "missing \(key)")
        }
        let bad = try run(["config", "check", "Tests/Fixtures/configs/broken/misspelt-key.cfg"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("misspelt-key.cfg:5:"), bad.err)
        XCTAssertTrue(bad.err.contains("did you mean 'esp_duration'"), bad.err)
    }

    /// additional_ue_auth_type pap/chap needs the PDN's username and password: `config check` says where.
    func testConfigCheckReportsMissingPDNCredentials() throws {
        let r = try run(["config", "check", "Tests/Fixtures/configs/broken/additional-auth-no-password.cfg"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("additional-auth-no-password.cfg:8:3: error: pdn_list[0] (\"ims\"): password missing; epdg.additional_ue_auth_type \"chap\""), r.err)
    }
}

/// Running the built binary, for every CLI test class.
struct Run { var status: Int32; var out: String; var err: String }

extension XCTestCase {
    func run(_ args: [String], timeout: Double = 120) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: CLITests.binary) else { throw XCTSkip("\(CLITests.binary) not built") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = args
        p.currentDirectoryURL = Vectors.repoRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        // Drain both pipes while the process runs, so a chatty child never blocks.
        var outData = Data(), errData = Data()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline {
            outData += out.fileHandleForReading.availableDataNonBlocking()
            errData += err.fileHandleForReading.availableDataNonBlocking()
            usleep(20_000)
        }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        outData += out.fileHandleForReading.readDataToEndOfFile()
        errData += err.fileHandleForReading.readDataToEndOfFile()
        return Run(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "vowifi-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

}

extension FileHandle {
    /// Whatever is readable now, without blocking.
    func availableDataNonBlocking() -> Data {
        var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) == 1 else { return Data() }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = Glibc.read(fileDescriptor, &buf, buf.count)
        return n > 0 ? Data(buf.prefix(n)) : Data()
    }
}
