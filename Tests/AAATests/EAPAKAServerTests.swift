import AKA
import Crypto
import HSS
import IKEv2
import XCTest
@testable import AAA

/// The EAP-AKA/AKA' server state machine, driven by a scripted peer.
final class EAPAKAServerTests: XCTestCase {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010000000001"

    func makeHSS() throws -> HSS {
        try HSS(subscribers: [Subscriber(imsi: Self.imsi, algorithm: .milenage, k: Self.k, opc: Self.opc)])
    }

    func peer(identity: String, k: [UInt8] = k, lastSQN: SQN = .zero) throws -> TestPeer {
        TestPeer(usim: try USIM(algorithm: .milenage(try Milenage(k: k, opc: Self.opc)), lastSQN: lastSQN), identity: identity)
    }

    func request(_ step: EAPServerStep, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        guard case let .request(r) = step else { XCTFail("expected a request, got \(step)", file: file, line: line); return [] }
        return r
    }

    func testEAPAKAFullAuthentication() throws {
        let id = "0\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"
        var server = EAPAKAServer(hss: try makeHSS(), firstIdentifier: 40)
        var p = try peer(identity: id)
        let challenge = try request(server.receive(TestPeer.eapIdentity(9, id)))
        XCTAssertEqual(challenge[0], 1); XCTAssertEqual(challenge[1], 40); XCTAssertEqual(challenge[4], 23)
        let msg = try EAPAKAMessage(parsing: Array(challenge[5...]))
        XCTAssertEqual(msg.subtype, .challenge)
        XCTAssertTrue(msg.kdfs.isEmpty)
        let resp = try p.respond(to: challenge)
        guard case let .success(pkt, result) = server.receive(resp) else { return XCTFail("no success") }
        XCTAssertEqual(pkt, [3, 40, 0, 4])
        XCTAssertEqual(result.msk, p.msk)
        XCTAssertEqual(result.imsi, Self.imsi)
        XCTAssertEqual(result.identity, id)
        XCTAssertEqual(result.method, .aka)
        XCTAssertEqual(result.emsk.count, 64)
        XCTAssertEqual(server.receive(resp), .discard(reason: "session already finished"))
    }

    func testEAPAKAPrimeCarriesKDFAndNetworkName() throws {
        let id = "6\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"
        var server = EAPAKAServer(hss: try makeHSS(), config: EAPAKAServerConfig(accessNetworkName: "WLAN"))
        var p = try peer(identity: id)
        let challenge = try request(server.receive(TestPeer.eapIdentity(1, id)))
        XCTAssertEqual(challenge[4], 50)
        let msg = try EAPAKAMessage(parsing: Array(challenge[5...]))
        XCTAssertEqual(msg.kdfs, [1])
        XCTAssertEqual(msg.kdfInput, Array("WLAN".utf8))
        guard case let .success(_, result) = server.receive(try p.respond(to: challenge)) else { return XCTFail("no success") }
        XCTAssertEqual(result.method, .akaPrime)
        XCTAssertEqual(result.msk, p.msk)
    }

    func testAnonymousIdentityTriggersAKAIdentityRound() throws {
        let permanent = "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org"
        var server = EAPAKAServer(hss: try makeHSS())
        var p = try peer(identity: permanent)
        let idReq = try request(server.receive(TestPeer.eapIdentity(1, "anonymous@wlan.mnc001.mcc001.3gppnetwork.org")))
        let m = try EAPAKAMessage(parsing: Array(idReq[5...]))
        XCTAssertEqual(m.subtype, .identity)
        XCTAssertEqual(m.attributes, [.AT_PERMANENT_ID_REQ])
        let challenge = try request(server.receive(try p.respond(to: idReq)))
        guard case let .success(_, result) = server.receive(try p.respond(to: challenge)) else { return XCTFail("no success") }
        XCTAssertEqual(result.identity, permanent, "MK uses the AT_IDENTITY octets")
        XCTAssertEqual(result.msk, p.msk)
    }

    func testWrongRESGetsNotificationThenFailure() throws {
        let id = "0\(Self.imsi)"
        var server = EAPAKAServer(hss: try makeHSS())
        var p = try peer(identity: id)
        p.corruptRES = true
        let challenge = try request(server.receive(TestPeer.eapIdentity(1, id)))
        let note = try request(server.receive(try p.respond(to: challenge)))
        let n = try EAPAKAMessage(parsing: Array(note[5...]))
        XCTAssertEqual(n.subtype, .notification)
        XCTAssertEqual(n.notification, 16384)
        guard case let .failure(pkt, reason) = server.receive(try p.respond(to: note)) else { return XCTFail("no failure") }
        XCTAssertEqual(pkt[0], 4)
        XCTAssertTrue(reason.contains("AT_RES"), reason)
    }

    func testBadMACGetsNotification() throws {
        let id = "0\(Self.imsi)"
        var server = EAPAKAServer(hss: try makeHSS())
        var p = try peer(identity: id)
        p.corruptMAC = true
        let challenge = try request(server.receive(TestPeer.eapIdentity(1, id)))
        let note = try request(server.receive(try p.respond(to: challenge)))
        XCTAssertEqual(try EAPAKAMessage(parsing: Array(note[5...])).subtype, .notification)
        guard case let .failure(_, reason) = server.receive(try p.respond(to: note)) else { return XCTFail("no failure") }
        XCTAssertTrue(reason.contains("AT_MAC"), reason)
    }

    func testResynchronisationThenSuccess() throws {
        let id = "0\(Self.imsi)"
        let hss = try makeHSS()
        var server = EAPAKAServer(hss: hss)
        var p = try peer(identity: id, lastSQN: try SQN(seq: 500, ind: 3))
        let c1 = try request(server.receive(TestPeer.eapIdentity(1, id)))
        let sync = try p.respond(to: c1)
        XCTAssertEqual(try EAPAKAMessage(parsing: Array(sync[5...])).subtype, .synchronizationFailure)
        let c2 = try request(server.receive(sync))
        XCTAssertEqual(hss.currentSEQ(imsi: Self.imsi), 501)
        guard case .success = server.receive(try p.respond(to: c2)) else { return XCTFail("no success after resync") }
    }

    func testWrongKGivesAuthenticationRejectAndFailure() throws {
        let id = "0\(Self.imsi)"
        var server = EAPAKAServer(hss: try makeHSS())
        var wrong = Self.k
        wrong[15] ^= 0x80
        var p = try peer(identity: id, k: wrong)
        let c = try request(server.receive(TestPeer.eapIdentity(1, id)))
        guard case let .failure(pkt, reason) = server.receive(try p.respond(to: c)) else { return XCTFail("no failure") }
        XCTAssertEqual(p.macFailures, 1)
        XCTAssertEqual(pkt, [4, c[1], 0, 4])
        XCTAssertTrue(reason.contains("Authentication-Reject"), reason)
    }

    func testClientErrorUnknownIMSIAndWrongIdentifier() throws {
        var server = EAPAKAServer(hss: try makeHSS(), firstIdentifier: 10)
        let c = try request(server.receive(TestPeer.eapIdentity(1, "0\(Self.imsi)")))
        let stale = EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)])
            .packet(code: .response, identifier: c[1] &+ 1, method: 23)
        XCTAssertEqual(server.receive(stale), .discard(reason: "EAP identifier 11, expected 10"))
        XCTAssertEqual(server.receive([2, 1]), .discard(reason: "malformed EAP packet: truncated EAP length at offset 2: needed 2 bytes, 0 left"))
        let ce = EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)])
            .packet(code: .response, identifier: c[1], method: 23)
        guard case let .failure(_, reason) = server.receive(ce) else { return XCTFail("no failure") }
        XCTAssertTrue(reason.contains("Client-Error code 0"), reason)

        var s2 = EAPAKAServer(hss: try makeHSS())
        guard case let .failure(_, r2) = s2.receive(TestPeer.eapIdentity(5, "0001019999999999")) else { return XCTFail("no failure") }
        XCTAssertTrue(r2.contains("unknown IMSI"), r2)
    }

    func testNakSwitchesToAKAPrimeAndForeignRealmIsRefused() throws {
        let id = "0\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"
        var server = EAPAKAServer(hss: try makeHSS())
        var p = try peer(identity: id)
        let c = try request(server.receive(TestPeer.eapIdentity(1, id)))
        XCTAssertEqual(c[4], 23)
        let nak = EAPPacket(code: .response, identifier: c[1], type: EAPType.nak, typeData: [50]).serialize()
        let c2 = try request(server.receive(nak))
        XCTAssertEqual(c2[4], 50)
        guard case let .success(_, r) = server.receive(try p.respond(to: c2)) else { return XCTFail("no success") }
        XCTAssertEqual(r.method, .akaPrime)

        var s2 = EAPAKAServer(hss: try makeHSS(), config: EAPAKAServerConfig(homeMCC: "001", homeMNC: "01"))
        guard case let .failure(_, reason) = s2.receive(TestPeer.eapIdentity(1, "0\(Self.imsi)@nai.epc.mnc002.mcc001.3gppnetwork.org"))
        else { return XCTFail("foreign realm accepted") }
        XCTAssertTrue(reason.contains("MNC 002"), reason)
    }

    func testOnlyAKAPrimeConfiguredOverridesPrefix() throws {
        let id = "0\(Self.imsi)"
        var server = EAPAKAServer(hss: try makeHSS(), config: EAPAKAServerConfig(methods: [.akaPrime], defaultMethod: .akaPrime))
        let c = try request(server.receive(TestPeer.eapIdentity(1, id)))
        XCTAssertEqual(c[4], 50)
        XCTAssertEqual(server.method, .akaPrime)
    }
}
