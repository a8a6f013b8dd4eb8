import XCTest
import Wire
import IKEv2
@testable import Analysis

/// `vowifi analyze` on attaches with the RFC 4739 second authentication (additional_ue_auth_type):
/// the second round's {IDi} does not hide the first request's SA/CP, the EAP-MD5/GTC messages are
/// named, and a refused PDN password is explained as such.
final class SecondAuthAnalysisTests: XCTestCase {
    func capture(_ name: String, method: AdditionalAuthMethod, phonePassword: String?) throws -> CaptureBuilder {
        var p = CaptureBuilder.defaultPolicy()
        p.apns[0].credentials = PDNCredentials(username: "alice", password: "pdn-pass")
        p.additionalAuth = method
        let b = try CaptureBuilder(name: name, policy: p)
        var cfg = IKEInitiatorConfig(imsi: CaptureBuilder.imsi, mcc: "001", mnc: "01")
        cfg.pdnUsername = phonePassword == nil ? nil : "alice"
        cfg.pdnPassword = phonePassword
        try b.attach(config: cfg)
        return b
    }

    func testCHAPAttachPassesWithBothRoundsNamed() throws {
        let b = try capture("chap", method: .chap, phonePassword: "pdn-pass")
        defer { b.cleanup() }
        XCTAssertEqual(b.ue.state, .established)
        b.now += 1
        b.detach()
        let f = try XCTUnwrap(b.analyze().flows.first)
        XCTAssertEqual(f.step(.eapAKA)?.verdict, .pass)
        let auth = try XCTUnwrap(f.step(.ikeAuth))
        XCTAssertEqual(auth.verdict, .pass, auth.explanation ?? "")
        XCTAssertTrue(auth.summary.contains("IDr ims; second authentication EAP-MD5-Challenge as 'alice'"), auth.summary)
        XCTAssertEqual(f.step(.childSA)?.verdict, .pass, f.step(.childSA)?.explanation ?? "")
        XCTAssertEqual(f.step(.cfgReply)?.verdict, .pass, f.step(.cfgReply)?.explanation ?? "")
        XCTAssertTrue(f.events.contains { $0.label.contains("EAP-Request/EAP-MD5-Challenge") }, f.events.map(\.label).description)
        XCTAssertTrue(f.events.contains { $0.label.contains("EAP-Response/EAP-MD5-Challenge") })
    }

    func testWrongPDNPasswordIsExplained() throws {
        let b = try capture("pap-wrong", method: .pap, phonePassword: "wrong")
        defer { b.cleanup() }
        let f = try XCTUnwrap(b.analyze().flows.first)
        XCTAssertEqual(f.step(.eapAKA)?.verdict, .pass)
        let auth = try XCTUnwrap(f.step(.ikeAuth))
        XCTAssertEqual(auth.verdict, .fail)
        XCTAssertEqual(auth.explanation, "IKE_AUTH: the ePDG refused the PDN credentials of the second authentication (EAP-GTC as 'alice', additional_ue_auth_type) with EAP-Failure and AUTHENTICATION_FAILED — wrong username or password for the APN")
    }

    func testMissingSecondRoundIsExplained() throws {
        let b = try capture("noround", method: .chap, phonePassword: nil)
        defer { b.cleanup() }
        let auth = try XCTUnwrap(b.analyze().flows.first?.step(.ikeAuth))
        XCTAssertEqual(auth.verdict, .fail)
        XCTAssertTrue(auth.explanation?.contains("AUTHORIZATION_REJECTED after EAP-Success — the phone is not authorized for APN \"ims\"") == true, auth.explanation ?? "")
    }
}
