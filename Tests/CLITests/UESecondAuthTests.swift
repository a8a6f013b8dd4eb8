import Foundation
import XCTest

/// `vowifi ue --pdn-user/--pdn-password` against `vowifi run` with `additional_ue_auth_type`:
/// the second authentication (RFC 4739) as a user runs it, by address over loopback UDP.
final class UESecondAuthTests: XCTestCase {
    func testUEWithPDNCredentialsAgainstVowifiRun() throws {
        guard FileManager.default.isExecutableFile(atPath: CLITests.binary) else { throw XCTSkip("not built") }
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let ike = UELoadTests.freePort(), natT = UELoadTests.freePort(), sip = UELoadTests.freePort()
        let (mme, ims) = try UELoadTests.writeRunConfig(dir: d, ike: ike, natT: natT, sip: sip)
        var text = try String(contentsOfFile: mme, encoding: .utf8)
        text = text.replacingOccurrences(of: "  sqn_db: \"sqn.sqlite\",\n", with: "  sqn_db: \"sqn.sqlite\",\n  additional_ue_auth_type: \"pap\",\n")
        text = text.replacingOccurrences(of: "{ access_point_name: \"ims\",", with: "{ access_point_name: \"ims\", username: \"alice\", password: \"pdn-pass\",")
        XCTAssertTrue(text.contains("additional_ue_auth_type") && text.contains("username: \"alice\""), text)
        try text.write(toFile: mme, atomically: true, encoding: .utf8)
        let (core, _) = try UELoadTests.startRun(mme: mme, ims: ims, dir: d)
        defer { if core.isRunning { kill(core.processIdentifier, SIGTERM); core.waitUntilExit() } }

        let base = ["ue", "--epdg", "127.0.0.1:\(ike)", "--natt-port", "\(natT)", "--imsi", "001010000000001",
                    "--opc", "cd63cb71954a9f4e48a5994e37a02baf", "--k", "465b5ce8b199b49faa5f0a2ee238a6bc", "--scenario", "attach"]
        func authLine(_ r: Run) -> String { String(r.out.split(separator: "\n").first { $0.hasPrefix("IKE_AUTH (EAP-AKA)") } ?? "") }

        let good = try run(base + ["--pdn-user", "alice", "--pdn-password", "pdn-pass"])
        XCTAssertEqual(good.status, 0, good.out + good.err)
        XCTAssertTrue(authLine(good).contains("PASS") && authLine(good).contains("second authentication EAP-GTC as 'alice'"), good.out)
        XCTAssertTrue(good.out.split(separator: "\n").contains { $0.hasPrefix("CHILD_SA + CFG_REPLY") && $0.contains("PASS") }, good.out)

        let wrong = try run(base + ["--pdn-user", "alice", "--pdn-password", "nope"])
        XCTAssertNotEqual(wrong.status, 0, wrong.out)
        XCTAssertTrue(authLine(wrong).contains("FAIL") && authLine(wrong).contains("AUTHENTICATION_FAILED"), wrong.out)

        let none = try run(base)
        XCTAssertNotEqual(none.status, 0, none.out)
        XCTAssertTrue(authLine(none).contains("AUTHORIZATION_REJECTED"), none.out)

        let half = try run(base + ["--pdn-user", "alice"])
        XCTAssertNotEqual(half.status, 0)
        XCTAssertTrue(half.err.contains("--pdn-user and --pdn-password go together"), half.err)

        kill(core.processIdentifier, SIGTERM)
        core.waitUntilExit()
        let log = (try? String(contentsOfFile: d + "/core.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("second authentication failed: IMSI 001010000000001 APN ims EAP-GTC (pap) user 'alice': password mismatch"), String(log.suffix(3000)))
    }
}
