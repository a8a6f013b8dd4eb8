import XCTest
import AKA
import Crypto
import TestSupport
import Wire
@testable import IKEv2

/// RFC 4739 second authentication (callbox `additional_ue_auth_type`): the EAP-GTC and
/// EAP-MD5-Challenge codecs byte for byte, and whole attaches phone ↔ ePDG in memory.
final class SecondAuthTests: XCTestCase {
    // MARK: Codec (RFC 3748 §5.4, §5.6; vector hand-checked with `openssl dgst -md5`)

    func testEAPMD5ChallengeMatchesOpenSSLVector() throws {
        let v = try XCTUnwrap((try Vectors.json("eap_md5_gtc_rfc3748.json") as? [String: Any])?["md5_challenge"] as? [String: String])
        let id = Vectors.bytes(v["identifier"]!)[0]
        let secret = Array(v["secret_text"]!.utf8)
        let challenge = Vectors.bytes(v["challenge"]!)
        XCTAssertEqual([id] + secret + challenge, Vectors.bytes(v["md5_input"]!))
        let value = EAPMD5Challenge.responseValue(identifier: id, secret: secret, challenge: challenge)
        XCTAssertEqual(value, Vectors.bytes(v["response_value"]!))
        // Request and Response packets, byte exact, and back.
        let req = EAPPacket(code: .request, identifier: id, type: EAPType.md5Challenge, typeData: EAPMD5Challenge(value: challenge).serialize())
        XCTAssertEqual(req.serialize(), Vectors.bytes(v["request_packet"]!))
        let resp = EAPPacket(code: .response, identifier: id, type: EAPType.md5Challenge, typeData: EAPMD5Challenge(value: value).serialize())
        XCTAssertEqual(resp.serialize(), Vectors.bytes(v["response_packet"]!))
        let back = try EAPMD5Challenge(parsing: try EAPPacket(parsing: Vectors.bytes(v["response_packet"]!)).typeData)
        XCTAssertEqual(back.value, value)
        XCTAssertEqual(back.name, [])
        // A different identifier or secret gives another value (the identifier is hashed too).
        XCTAssertNotEqual(EAPMD5Challenge.responseValue(identifier: id &+ 1, secret: secret, challenge: challenge), value)
        XCTAssertNotEqual(EAPMD5Challenge.responseValue(identifier: id, secret: Array("pdn-secreT".utf8), challenge: challenge), value)
    }

    func testEAPMD5NameAndMalformed() throws {
        let m = try EAPMD5Challenge(parsing: [0x02, 0xaa, 0xbb] + Array("epdg".utf8))
        XCTAssertEqual(m.value, [0xaa, 0xbb])
        XCTAssertEqual(m.name, Array("epdg".utf8))
        XCTAssertEqual(m.serialize(), [0x02, 0xaa, 0xbb] + Array("epdg".utf8))
        XCTAssertThrowsError(try EAPMD5Challenge(parsing: [0x10, 1, 2, 3]), "Value-Size beyond the data")
        XCTAssertThrowsError(try EAPMD5Challenge(parsing: [0x00]), "Value-Size 0")
        XCTAssertThrowsError(try EAPMD5Challenge(parsing: []))
    }

    func testEAPGTCBytes() throws {
        let v = try XCTUnwrap((try Vectors.json("eap_md5_gtc_rfc3748.json") as? [String: Any])?["gtc"] as? [String: String])
        XCTAssertEqual(EAPGTC.request(identifier: 7, prompt: v["request_message"]!).serialize(), Vectors.bytes(v["request_packet"]!))
        let resp = EAPGTC.response(identifier: 7, token: Array(v["response_token"]!.utf8))
        XCTAssertEqual(resp.serialize(), Vectors.bytes(v["response_packet"]!))
        let p = try EAPPacket(parsing: Vectors.bytes(v["response_packet"]!))
        XCTAssertEqual(p.type, EAPType.gtc)
        XCTAssertEqual(p.typeData, Array("pdn-secret".utf8))
        XCTAssertEqual(EAPType.name(6), "EAP-GTC")
        XCTAssertEqual(EAPType.name(4), "EAP-MD5-Challenge")
    }

    // MARK: Attaches in memory

    static let credentials = PDNCredentials(username: "alice@pdn.example", password: "s3cret-pdn")

    func harness(_ method: AdditionalAuthMethod?, apnCredentials: PDNCredentials? = credentials) throws -> AttachHarness {
        var p = IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!],
                                                    pcscfAddresses: [IPAddress("198.51.100.1")!], credentials: apnCredentials)])
        p.additionalAuth = method
        return try AttachHarness(policy: p)
    }

    func phone(_ h: AttachHarness, user: String? = credentials.username, password: String? = credentials.password) throws {
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.pdnUsername = user
        cfg.pdnPassword = password
        try h.makeUE(cfg)
    }

    func logs(_ h: AttachHarness) -> [String] { AttachHarness.logs(h.ueActions + h.epdgActions) }

    func attach(_ method: AdditionalAuthMethod, user: String = "alice@pdn.example") throws {
        let h = try harness(method, apnCredentials: PDNCredentials(username: user, password: Self.credentials.password))
        try phone(h, user: user)
        h.run()
        let all = logs(h)
        XCTAssertEqual(h.ue.state, .established, "\(all)")
        XCTAssertEqual(h.ue.secondAuthentication, "\(EAPType.name(method.eapType)!) as '\(user)'")
        // Both ends install the same Child SA, with the CP of the final response.
        let ueChild = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        let nwChild = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        XCTAssertEqual(ueChild.inboundSPI, nwChild.outboundSPI)
        XCTAssertEqual(ueChild.outboundEncryptionKey, nwChild.inboundEncryptionKey)
        XCTAssertEqual(h.ue.assigned?.ipv4, IPAddress(v4: 198, 51, 100, 2))
        XCTAssertEqual(h.ue.assigned?.pcscf, [IPAddress("198.51.100.1")!])
        // The ePDG keeps who was authenticated.
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        XCTAssertEqual(sa.pdnUsername, user)
        XCTAssertTrue(sa.isEstablished)
        // IKE_SA_INIT response announced MULTIPLE_AUTH_SUPPORTED (in clear).
        let initResp = try IKEMessage(parsing: try XCTUnwrap(AttachHarness.sends(h.epdgActions).first))
        XCTAssertTrue(initResp.payloads.has(.MULTIPLE_AUTH_SUPPORTED))
        // Wire flow: INIT + 3 IKE_AUTH of round 1 + 3 of round 2, each answered once.
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 7, "\(all)")
        XCTAssertEqual(AttachHarness.sends(h.epdgActions).count, 7)
        XCTAssertEqual(h.hss.vectorsIssued, 1)
        // Round 1 ends with AUTH + ANOTHER_AUTH_FOLLOWS; the ePDG answers AUTH alone.
        XCTAssertTrue(all.contains { $0.hasPrefix("send IKE_AUTH request #3 [AUTH N(ANOTHER_AUTH_FOLLOWS)]") }, "\(all)")
        XCTAssertTrue(all.contains("send IKE_AUTH response #3 [AUTH]"), "\(all)")
        // Round 2: IDi only, then the method's EAP request, the EAP response, AUTH; the last answer has CP, SA, TSi, TSr.
        XCTAssertTrue(all.contains { $0.hasPrefix("send IKE_AUTH request #4 [IDi(") }, "\(all)")
        XCTAssertTrue(all.contains("send IKE_AUTH response #4 [EAP(EAP-Request id=\(try XCTUnwrap(firstEAPID(all))) type=\(method.eapType))]"), "\(all)")
        let last = try XCTUnwrap(all.first { $0.hasPrefix("send IKE_AUTH response #6 ") })
        XCTAssertTrue(last.hasPrefix("send IKE_AUTH response #6 [AUTH CP(2: INTERNAL_IP4_ADDRESS=198.51.100.2"), last)
        XCTAssertTrue(last.contains(" SA TSi(") && last.contains(" TSr("), last)
        XCTAssertTrue(all.contains { $0.contains("second authentication success: IMSI \(AttachHarness.imsi) APN ims \(method.label) user '\(user)'") }, "\(all)")
    }

    /// The identifier of the round-2 EAP request, from the ePDG's log line.
    func firstEAPID(_ logs: [String]) -> Int? {
        guard let l = logs.first(where: { $0.hasPrefix("send IKE_AUTH response #4 [EAP(EAP-Request id=") }) else { return nil }
        return Int(l.split(separator: "=")[1].split(separator: " ")[0])
    }

    func testPAPAttachOverEAPGTC() throws { try attach(.pap) }

    func testCHAPAttachOverEAPMD5() throws { try attach(.chap) }

    func testPlainUsernameGoesAsKeyID() throws { try attach(.chap, user: "alice") }

    func testWrongPasswordFailsWithPreciseLog() throws {
        for method in [AdditionalAuthMethod.pap, .chap] {
            let h = try harness(method, apnCredentials: PDNCredentials(username: "alice@pdn.example", password: "other"))
            try phone(h)
            h.run()
            XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with AUTHENTICATION_FAILED", notify: .AUTHENTICATION_FAILED), "\(logs(h))")
            XCTAssertTrue(logs(h).contains("second authentication failed: IMSI \(AttachHarness.imsi) APN ims \(method.label) user 'alice@pdn.example': password mismatch"), "\(logs(h))")
            XCTAssertTrue(AttachHarness.children(h.epdgActions + h.ueActions).isEmpty)
            XCTAssertEqual(h.pool.inUse, 0, "no address held")
            XCTAssertEqual(h.epdg.count, 0, "the failed SA is gone")
        }
    }

    func testUnknownUsernameFails() throws {
        let h = try harness(.chap)
        try phone(h, user: "mallory")
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with AUTHENTICATION_FAILED", notify: .AUTHENTICATION_FAILED))
        XCTAssertTrue(logs(h).contains { $0.hasSuffix("EAP-MD5-Challenge (chap) user 'mallory': unknown username (APN ims expects another)") }, "\(logs(h))")
    }

    /// A phone that finishes round 1 without ANOTHER_AUTH_FOLLOWS is refused with AUTHORIZATION_REJECTED.
    func testPhoneWithoutAnotherAuthFollowsIsRejected() throws {
        let h = try harness(.pap)
        try phone(h, user: nil, password: nil)
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with AUTHORIZATION_REJECTED", notify: .AUTHORIZATION_REJECTED), "\(logs(h))")
        XCTAssertTrue(logs(h).contains { $0.contains("IMSI \(AttachHarness.imsi) APN ims: the ePDG requires a second authentication (EAP-GTC (pap)), but the phone sent no ANOTHER_AUTH_FOLLOWS") }, "\(logs(h))")
        XCTAssertTrue(AttachHarness.children(h.epdgActions).isEmpty)
        XCTAssertEqual(h.pool.inUse, 0)
    }

    /// Without additional_ue_auth_type the ePDG offers nothing, and a phone with credentials does one round.
    func testNoSecondRoundWhenNotConfigured() throws {
        let h = try harness(nil)
        try phone(h)
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertFalse(try IKEMessage(parsing: AttachHarness.sends(h.epdgActions)[0]).payloads.has(.MULTIPLE_AUTH_SUPPORTED))
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 4)
        XCTAssertNil(h.epdg.allSAs.first?.pdnUsername)
        XCTAssertFalse(logs(h).contains { $0.contains("ANOTHER_AUTH_FOLLOWS") })
    }

    /// An APN without credentials (the emergency PDN) skips round 2 even when the ePDG asks for one.
    func testAPNWithoutCredentialsSkipsSecondRound() throws {
        let h = try harness(.chap, apnCredentials: nil)
        try phone(h)
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(logs(h))")
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 4, "one round only")
        XCTAssertTrue(logs(h).contains { $0.contains("APN ims has no username/password (emergency): no second authentication") }, "\(logs(h))")
    }

    /// The phone's round-2 AUTH must be keyed with SK_pi over its round-2 IDi: one flipped bit fails.
    func testSecondRoundAUTHIsChecked() throws {
        let h = try harness(.chap)
        try phone(h)
        // Run up to the round-2 AUTH, then corrupt it by re-keying the ePDG's view of IDi.
        h.route(h.ue.start(now: h.now), fromUE: true)
        var guardRounds = 0
        while !h.packetsToEPDG.isEmpty || !h.packetsToUE.isEmpty, guardRounds < 50 {
            guardRounds += 1
            h.now += 0.01
            for m in h.packetsToEPDG { h.route(h.epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: false) }
            h.packetsToEPDG = []
            if let sa = h.epdg.allSAs.first, case .secondEAPSucceeded = sa.phase { sa.secondAuth.idi = IDPayload(.ID_KEY_ID, "someone-else") }
            let b = h.packetsToUE; h.packetsToUE = []
            for m in b { h.route(h.ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: true) }
        }
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with AUTHENTICATION_FAILED", notify: .AUTHENTICATION_FAILED), "\(logs(h))")
        XCTAssertTrue(logs(h).contains { $0.contains("initiator AUTH of the second round (keyed with SK_pi, IDi 'someone-else') does not verify") }, "\(logs(h))")
    }

    /// Runs an attach until the ePDG has sent its round-2 EAP request; returns the ePDG's SA.
    func stopAtSecondEAP(_ method: AdditionalAuthMethod) throws -> (AttachHarness, IKEResponderSA) {
        let h = try harness(method)
        try phone(h)
        h.route(h.ue.start(now: h.now), fromUE: true)
        for _ in 0..<20 {
            h.now += 0.01
            let a = h.packetsToEPDG; h.packetsToEPDG = []
            for m in a { h.route(h.epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: false) }
            if let sa = h.epdg.allSAs.first, case .secondEAPSent = sa.phase { return (h, sa) }
            let b = h.packetsToUE; h.packetsToUE = []
            for m in b { h.route(h.ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: true) }
        }
        throw XCTSkip("never reached the second EAP round")
    }

    /// Bad round-2 answers end the SA with EAP-Failure and a line that says what was wrong.
    func testBadSecondRoundAnswersFailCleanly() throws {
        func answer(_ method: AdditionalAuthMethod, _ payloads: (UInt8) -> [Payload]) throws -> [String] {
            let (h, sa) = try stopAtSecondEAP(method)
            guard case let .secondEAPSent(id) = sa.phase else { return [] }
            let hdr = IKEHeader(spiI: sa.spiI, spiR: sa.spiR, exchangeType: .IKE_AUTH, isInitiator: true, isResponse: false, messageID: 5)
            sa.handleRequest(hdr, payloads(id), now: h.now)
            XCTAssertTrue(sa.isDead)
            XCTAssertNil(sa.pdnUsername)
            return AttachHarness.logs(sa.drain())
        }
        let nak = try answer(.chap) { [.eap(EAPPacket(code: .response, identifier: $0, type: EAPType.nak, typeData: [EAPType.gtc]).serialize())] }
        XCTAssertTrue(nak.contains { $0.hasSuffix("EAP-MD5-Challenge (chap) user 'alice@pdn.example': phone refused the method (EAP-Nak, wants [\"EAP-GTC\"])") }, "\(nak)")
        XCTAssertTrue(nak.contains { $0.contains("EAP(EAP-Failure") && $0.contains("N(AUTHENTICATION_FAILED)") }, "\(nak)")
        let short = try answer(.chap) { [.eap(EAPPacket(code: .response, identifier: $0, type: EAPType.md5Challenge, typeData: [4, 1, 2, 3, 4]).serialize())] }
        XCTAssertTrue(short.contains { $0.hasSuffix("malformed MD5-Challenge response (5 bytes)") }, "\(short)")
        let wrongType = try answer(.pap) { [.eap(EAPPacket(code: .response, identifier: $0, type: EAPType.md5Challenge, typeData: [16] + [UInt8](repeating: 0, count: 16)).serialize())] }
        XCTAssertTrue(wrongType.contains { $0.hasSuffix("EAP-Response of type EAP-MD5-Challenge, expected EAP-GTC") }, "\(wrongType)")
        // RFC 3748 §4.1: a Response with another Identifier (or a Length beyond its octets) is
        // silently discarded; the SA waits for the phone's retransmission.
        for bad in [EAPGTC.response(identifier: 0, token: Array("s3cret-pdn".utf8)).serialize(), [2, 0, 0, 200, 6, 1]] {
            let (h, sa) = try stopAtSecondEAP(.pap)
            guard case let .secondEAPSent(id) = sa.phase else { return XCTFail("not in round 2") }
            var pkt = bad
            pkt[1] = bad.count > 6 ? id &+ 1 : id
            let hdr = IKEHeader(spiI: sa.spiI, spiR: sa.spiR, exchangeType: .IKE_AUTH, isInitiator: true, isResponse: false, messageID: 5)
            sa.handleRequest(hdr, [.eap(pkt)], now: h.now)
            let logs = AttachHarness.logs(sa.drain())
            XCTAssertFalse(sa.isDead, "\(logs)")
            XCTAssertTrue(logs.contains { $0.contains("EAP packet discarded") }, "\(logs)")
            guard case .secondEAPSent = sa.phase else { return XCTFail("left round 2: \(logs)") }
        }
        let noEAP = try answer(.pap) { _ in [.auth(AuthPayload(method: .SHARED_KEY_MIC, data: [UInt8](repeating: 0, count: 32)))] }
        XCTAssertTrue(noEAP.contains { $0.hasSuffix("IKE_AUTH without a valid EAP-Response") }, "\(noEAP)")
    }

    /// Round 2 must be EAP: a {IDi, AUTH} (a PSK attempt) is refused.
    func testSecondRoundWithAUTHIsRefused() throws {
        let (h, sa) = try stopAtSecondEAP(.pap)
        _ = h
        sa.phase = .awaitingSecondAuth
        let hdr = IKEHeader(spiI: sa.spiI, spiR: sa.spiR, exchangeType: .IKE_AUTH, isInitiator: true, isResponse: false, messageID: 4)
        sa.handleRequest(hdr, [.idi(IDPayload(.ID_KEY_ID, "alice")), .auth(AuthPayload(method: .SHARED_KEY_MIC, data: [1, 2, 3]))], now: h.now)
        let l = AttachHarness.logs(sa.drain())
        XCTAssertTrue(l.contains { $0.hasSuffix("second round offers AUTH (SHARED_KEY_MIC); the ePDG requires EAP-GTC (pap)") }, "\(l)")
        XCTAssertTrue(sa.isDead)
    }
}
