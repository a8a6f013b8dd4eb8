import AKA
import Crypto
import HSS
import IKEv2
import Wire
import XCTest
@testable import AAA

/// The sans-I/O RADIUS server: datagrams in, replies out, no sockets.
final class RADIUSServerTests: XCTestCase {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010000000001"
    let secret = Array("s3cret".utf8)
    let ap = RADIUSPeer(address: IPAddress("198.51.100.10")!, port: 40000)
    let rec = Recorder()

    func makeServer(sessionLifetime: Double = 60) throws -> RADIUSServer {
        let hss = try HSS(subscribers: [Subscriber(imsi: Self.imsi, algorithm: .milenage, k: Self.k, opc: Self.opc)])
        let config = RADIUSServerConfig(clients: [RADIUSClient(address: ap.address, secret: secret, name: "ap1")],
                                        sessionLifetime: sessionLifetime)
        let rec = rec
        return RADIUSServer(config: config, hss: hss, log: { l, s in rec.log(l, s) })
    }

    /// An Access-Request carrying `eap`, signed with `secret`; returns bytes and authenticator.
    func accessRequest(id: UInt8, eap: [UInt8]?, state: [UInt8]? = nil, secret: [UInt8]? = nil,
                       messageAuthenticator: Bool = true) throws -> (bytes: [UInt8], auth: [UInt8]) {
        var attrs = [RADIUSAttribute(type: RADIUSAttributeType.userName, string: "0\(Self.imsi)"),
                     RADIUSAttribute(type: RADIUSAttributeType.nasIdentifier, string: "ap1"),
                     RADIUSAttribute(type: RADIUSAttributeType.callingStationId, string: "02-00-00-00-00-02"),
                     RADIUSAttribute(type: RADIUSAttributeType.framedMTU, integer: 1400)]
        if let eap { attrs += RADIUSPacket.eapMessageAttributes(eap) }
        if let state { attrs.append(RADIUSAttribute(type: RADIUSAttributeType.state, value: state)) }
        if messageAuthenticator {
            attrs.append(RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16)))
        }
        let auth = SecureRandom.bytes(16)
        let bytes = try RADIUSAuthenticator.signRequest(RADIUSPacket(code: .accessRequest, identifier: id, attributes: attrs),
                                                        secret: secret ?? self.secret, authenticator: auth)
        return (bytes, auth)
    }

    func reply(_ out: RADIUSOutput, auth: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> RADIUSPacket {
        let bytes = try XCTUnwrap(out.reply, "no reply: \(out.event)", file: file, line: line)
        XCTAssertTrue(RADIUSAuthenticator.verifyResponse(bytes, requestAuthenticator: auth, secret: secret),
                      "reply authenticators do not verify", file: file, line: line)
        let p = try RADIUSPacket(parsing: bytes)
        XCTAssertNotNil(p.first(RADIUSAttributeType.messageAuthenticator), file: file, line: line)
        return p
    }

    func testFullEAPAKAOverRADIUSWithMPPEKeys() throws {
        let server = try makeServer()
        let identity = "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org"
        var peer = TestPeer(usim: try USIM(algorithm: .milenage(try Milenage(k: Self.k, opc: Self.opc))), identity: identity)
        let r1 = try accessRequest(id: 1, eap: TestPeer.eapIdentity(0, identity))
        let out1 = server.handle(datagram: r1.bytes, from: ap, now: 0)
        XCTAssertEqual(out1.event, .challenge)
        let ch = try reply(out1, auth: r1.auth)
        XCTAssertEqual(ch.code, .accessChallenge)
        XCTAssertEqual(ch.identifier, 1)
        let state = try XCTUnwrap(ch.state)
        XCTAssertEqual(state.count, 16)
        XCTAssertEqual(server.sessionCount, 1)

        let r2 = try accessRequest(id: 2, eap: try peer.respond(to: try XCTUnwrap(ch.eapMessage)), state: state)
        let out2 = server.handle(datagram: r2.bytes, from: ap, now: 1)
        let acc = try reply(out2, auth: r2.auth)
        XCTAssertEqual(acc.code, .accessAccept)
        XCTAssertEqual(acc.eapMessage?.first, 3) // EAP-Success
        XCTAssertEqual(acc.userName, identity)
        let msk = try XCTUnwrap(peer.msk)
        XCTAssertEqual(RADIUSAuthenticator.mppeKey(in: acc, vendorType: 17, secret: secret, requestAuthenticator: r2.auth),
                       Array(msk[0..<32]), "MS-MPPE-Recv-Key = MSK[0..32)")
        XCTAssertEqual(RADIUSAuthenticator.mppeKey(in: acc, vendorType: 16, secret: secret, requestAuthenticator: r2.auth),
                       Array(msk[32..<64]), "MS-MPPE-Send-Key = MSK[32..64)")
        guard case let .accepted(result) = out2.event else { return XCTFail("\(out2.event)") }
        XCTAssertEqual(result.msk, msk)
        XCTAssertEqual(server.sessionCount, 0)

        // The retransmitted final request gets the very same Access-Accept (RFC 5080 §2.2.2).
        let dup = server.handle(datagram: r2.bytes, from: ap, now: 2)
        XCTAssertEqual(dup.event, .duplicate)
        XCTAssertEqual(dup.reply, out2.reply)
        XCTAssertTrue(rec.allLines.contains { $0.contains("duplicate Access-Request id=2") })
        // Same ID with a new authenticator is a new request: its State is gone now.
        let r3 = try accessRequest(id: 2, eap: [2, 9, 0, 5, 3], state: state)
        let out3 = server.handle(datagram: r3.bytes, from: ap, now: 3)
        XCTAssertEqual(try reply(out3, auth: r3.auth).code, .accessReject)
        // After the duplicate lifetime the cache is gone too.
        XCTAssertNotEqual(server.handle(datagram: r2.bytes, from: ap, now: 100).event, .duplicate)
    }

    func testEAPStartGetsIdentityRequest() throws {
        let server = try makeServer()
        let r = try accessRequest(id: 5, eap: [])
        let ch = try reply(server.handle(datagram: r.bytes, from: ap, now: 0), auth: r.auth)
        XCTAssertEqual(ch.code, .accessChallenge)
        let eap = try XCTUnwrap(ch.eapMessage)
        XCTAssertEqual(eap[0], 1); XCTAssertEqual(eap[4], 1) // Request/Identity
    }

    func testUnknownClientBadAndMissingMessageAuthenticatorAreDiscarded() throws {
        let server = try makeServer()
        let r = try accessRequest(id: 1, eap: TestPeer.eapIdentity(0, "0\(Self.imsi)"))
        let stranger = RADIUSPeer(address: IPAddress("198.51.100.99")!, port: 1000)
        XCTAssertEqual(server.handle(datagram: r.bytes, from: stranger, now: 0),
                       RADIUSOutput(reply: nil, event: .discarded(reason: "datagram from unknown client 198.51.100.99:1000")))
        let bad = try accessRequest(id: 2, eap: TestPeer.eapIdentity(0, "0\(Self.imsi)"), secret: Array("wrong".utf8))
        let o = server.handle(datagram: bad.bytes, from: ap, now: 0)
        XCTAssertNil(o.reply)
        guard case let .discarded(reason) = o.event else { return XCTFail("\(o.event)") }
        XCTAssertTrue(reason.contains("Message-Authenticator does not verify"), reason)
        XCTAssertTrue(rec.allLines.contains { $0.contains("Message-Authenticator does not verify") })
        let noMA = try accessRequest(id: 3, eap: TestPeer.eapIdentity(0, "0\(Self.imsi)"), messageAuthenticator: false)
        guard case let .discarded(r2) = server.handle(datagram: noMA.bytes, from: ap, now: 0).event else { return XCTFail() }
        XCTAssertTrue(r2.contains("RFC 3579"), r2)
        XCTAssertEqual(server.sessionCount, 0)
    }

    func testGarbageNeverCrashesAndUnknownStateIsRejected() throws {
        let server = try makeServer()
        for n in [0, 1, 19, 20, 21, 64, 300] {
            var g = SecureRandom.bytes(n)
            if n >= 4 { g[0] = 1; g[2] = UInt8(n >> 8); g[3] = UInt8(n & 0xff) }
            // Random attribute bytes may happen to parse: such a request carries no valid
            // EAP-Message with Message-Authenticator, so it is rejected at most (the empty
            // 20-byte Access-Request always is).
            switch server.handle(datagram: g, from: ap, now: 0).event {
            case .discarded: XCTAssertNotEqual(n, 20)
            case .rejected: break
            case let e: XCTFail("garbage of \(n) bytes gave \(e)")
            }
        }
        let r = try accessRequest(id: 9, eap: [2, 7, 0, 5, 3], state: [1, 2, 3, 4])
        let p = try reply(server.handle(datagram: r.bytes, from: ap, now: 0), auth: r.auth)
        XCTAssertEqual(p.code, .accessReject)
        XCTAssertEqual(p.eapMessage, [4, 7, 0, 4])
        let pap = try accessRequest(id: 10, eap: nil)
        let papReply = try reply(server.handle(datagram: pap.bytes, from: ap, now: 0), auth: pap.auth)
        XCTAssertEqual(papReply.code, .accessReject)
        XCTAssertEqual(papReply.attributes.first?.type, RADIUSAttributeType.messageAuthenticator, "Message-Authenticator first")

        // Proxy-State comes back unmodified and in order.
        var proxied = RADIUSPacket(code: .accessRequest, identifier: 11, attributes: [
            RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16)),
            RADIUSAttribute(type: RADIUSAttributeType.proxyState, value: [1]),
            RADIUSAttribute(type: RADIUSAttributeType.proxyState, value: [2, 2])])
        proxied.attributes += RADIUSPacket.eapMessageAttributes(TestPeer.eapIdentity(0, "0\(Self.imsi)"))
        let auth = [UInt8](repeating: 9, count: 16)
        let pb = try RADIUSAuthenticator.signRequest(proxied, secret: secret, authenticator: auth)
        let pr = try reply(server.handle(datagram: pb, from: ap, now: 0), auth: auth)
        XCTAssertEqual(pr.code, .accessChallenge)
        XCTAssertEqual(pr.all(RADIUSAttributeType.proxyState).map(\.value), [[1], [2, 2]])
    }

    func testStatusServerAndIdleSessionExpiry() throws {
        let server = try makeServer(sessionLifetime: 5)
        let ss = try RADIUSAuthenticator.signRequest(RADIUSPacket(code: .statusServer, identifier: 77, attributes: [
            RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16))]),
            secret: secret, authenticator: [UInt8](repeating: 7, count: 16))
        let o = server.handle(datagram: ss, from: ap, now: 0)
        XCTAssertEqual(o.event, .statusServer)
        XCTAssertEqual(try reply(o, auth: [UInt8](repeating: 7, count: 16)).code, .accessAccept)

        let r = try accessRequest(id: 1, eap: TestPeer.eapIdentity(0, "0\(Self.imsi)"))
        let ch = try reply(server.handle(datagram: r.bytes, from: ap, now: 10), auth: r.auth)
        XCTAssertEqual(server.sessionCount, 1)
        server.expire(now: 16)
        XCTAssertEqual(server.sessionCount, 0)
        let r2 = try accessRequest(id: 2, eap: [2, 0, 0, 5, 3], state: ch.state)
        XCTAssertEqual(try reply(server.handle(datagram: r2.bytes, from: ap, now: 16), auth: r2.auth).code, .accessReject)
    }
}
