import XCTest
import AKA
import SIP
@testable import IMS

final class IMSRegistrationTests: XCTestCase {
    func ue(_ i: Int, usimSQN: SQN = .zero) -> TestUE {
        TestUE(imsi: "00101000000000\(i)", address: "2001:db8:3000:1::\(i + 1)", usim: try! USIM(algorithm: milenage(), lastSQN: usimSQN))
    }

    func testAKAv1ChallengeAndRegistration() throws {
        let (ims, subs) = makeIMS()
        subs.randSource = { Array(0..<16).map { UInt8($0) } }
        let a = ue(1)
        let first = ims.receive(datagram: a.register(), from: a.peer, now: 0)
        let c = sent(first)
        XCTAssertEqual(c.count, 1)
        let (challenge, dest) = c[0]
        XCTAssertEqual(dest, a.peer)
        XCTAssertEqual(challenge.statusCode, 401)
        XCTAssertNotNil(try challenge.to().tag)
        XCTAssertEqual(try challenge.topVia().branch, "z9hG4bKreg0011")
        let wa = try SIPAuthHeader(parsing: Substring(challenge.header("WWW-Authenticate")!), header: "WWW-Authenticate")
        XCTAssertEqual(wa["realm"], domain)
        XCTAssertEqual(wa["algorithm"], "AKAv1-MD5")
        XCTAssertEqual(wa["qop"], "auth")
        XCTAssertTrue(challenge.header("WWW-Authenticate")!.contains("qop=\"auth\""))
        // nonce = base64(RAND || AUTN), with RAND from the source and AUTN from Milenage (SEQ 1 IND 1, AMF 9001).
        let nonceBytes = try XCTUnwrap(Base64.decode(wa["nonce"]!))
        XCTAssertEqual(nonceBytes.count, 32)
        XCTAssertEqual(Array(nonceBytes[0..<16]), Array(0..<16).map { UInt8($0) })
        let expectedVector = try milenage().vector(rand: Array(0..<16).map { UInt8($0) }, sqn: SQN(seq: 1, ind: 1), amf: [0x90, 0x01])
        XCTAssertEqual(Array(nonceBytes[16..<32]), expectedVector.autn)

        // The phone's RES (USIM) equals Milenage f2 computed here; the digest uses it as the password.
        let f2 = try milenage().f2345(rand: Array(0..<16).map { UInt8($0) }).res
        let (auth, answer) = try a.answer(challenge)
        let expected = try DigestAuth.response(algorithm: .akav1MD5, username: a.impi, realm: domain, password: f2, method: "REGISTER",
                                               uri: "sip:\(domain)", nonce: wa["nonce"]!, nc: "00000001", cnonce: "0a4f113b", qop: .auth)
        guard case .response(let r) = answer else { return XCTFail("sync failure") }
        XCTAssertEqual(r, expected)

        let second = ims.receive(datagram: a.register(authorization: auth), from: a.peer, now: 1)
        let ok = try XCTUnwrap(sent(second).first?.0)
        XCTAssertEqual(ok.statusCode, 200)
        let contacts = try ok.contacts()
        XCTAssertEqual(contacts.count, 1)
        XCTAssertEqual(contacts[0].uri.description, a.contactURI)
        XCTAssertEqual(contacts[0].parameters["expires"], "3600", "binding_expires caps the 600000 asked")
        XCTAssertEqual(contacts[0].parameters["+sip.instance"], "<urn:gsma:imei:35902707-293054-0>")
        XCTAssertEqual(ok.header("Path"), "<sip:\(domain);lr>")
        XCTAssertEqual(ok.header("Service-Route"), "<sip:[\(pcscf6)]:5060;lr>")
        XCTAssertEqual(try ok.addresses("P-Associated-URI").map(\.uri.description),
                       ["sip:001010000000001@\(domain)", "tel:0600000001"])
        XCTAssertEqual(events(second), [.registered(impi: a.impi, contact: a.contactURI, expires: 3600)])
        XCTAssertEqual(ims.currentRegistrations.first?.impi, a.impi)
        // The exact start of the bytes on the wire.
        guard case .send(let bytes, _) = second[0] else { return XCTFail() }
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).hasPrefix("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [2001:db8:3000:1::2]:5060;branch=z9hG4bKreg0012;rport\r\n"))
    }

    /// The 401 and the 200 OK, byte for byte (tags and RAND made deterministic).
    func testRegistrationBytes() throws {
        let (ims, subs) = makeIMS()
        let rand = Array(0..<16).map { UInt8($0) }
        subs.randSource = { rand }
        var n = 0
        ims.tokenSource = { _ in n += 1; return "T\(n)" }
        let a = ue(1)
        let c = ims.receive(datagram: a.register(), from: a.peer, now: 0)
        guard case .send(let bytes401, _)? = c.first else { return XCTFail() }
        let autn = try milenage().vector(rand: rand, sqn: SQN(seq: 1, ind: 1), amf: [0x90, 0x01]).autn
        let nonce = try DigestAKA.nonce(rand: rand, autn: autn)
        let head = "Via: SIP/2.0/UDP [2001:db8:3000:1::2]:5060;branch=z9hG4bKreg0011;rport\r\n"
            + "From: <sip:001010000000001@\(domain)>;tag=t0001\r\n"
        XCTAssertEqual(String(decoding: bytes401, as: UTF8.self),
            "SIP/2.0 401 Unauthorized\r\n" + head
            + "To: <sip:001010000000001@\(domain)>;tag=T1\r\n"
            + "Call-ID: reg-001010000000001@2001:db8:3000:1::2\r\n"
            + "CSeq: 1 REGISTER\r\n"
            + "Server: VoWiFi-Core-IMS\r\n"
            + "WWW-Authenticate: Digest realm=\"\(domain)\",nonce=\"\(nonce)\",algorithm=AKAv1-MD5,qop=\"auth\"\r\n"
            + "Content-Length: 0\r\n\r\n")
        let (auth, _) = try a.answer(try SIPMessage(parsing: bytes401))
        let ok = ims.receive(datagram: a.register(authorization: auth), from: a.peer, now: 1)
        guard case .send(let bytes200, let to)? = ok.first else { return XCTFail() }
        XCTAssertEqual(to, a.peer)
        XCTAssertEqual(String(decoding: bytes200, as: UTF8.self),
            "SIP/2.0 200 OK\r\n" + head.replacingOccurrences(of: "reg0011", with: "reg0012")
            + "To: <sip:001010000000001@\(domain)>;tag=T2\r\n"
            + "Call-ID: reg-001010000000001@2001:db8:3000:1::2\r\n"
            + "CSeq: 2 REGISTER\r\n"
            + "Server: VoWiFi-Core-IMS\r\n"
            + "Contact: <sip:001010000000001@[2001:db8:3000:1::2]:5060>;+sip.instance=\"<urn:gsma:imei:35902707-293054-0>\";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";expires=3600\r\n"
            + "Path: <sip:\(domain);lr>\r\n"
            + "Service-Route: <sip:[2001:db8:3000:1::1]:5060;lr>\r\n"
            + "P-Associated-URI: <sip:001010000000001@\(domain)>, <tel:0600000001>\r\n"
            + "Content-Length: 0\r\n\r\n")
    }

    func testRetransmittedRegisterGetsSameChallenge() {
        let (ims, _) = makeIMS()
        let a = ue(1)
        let req = a.register()
        let r1 = ims.receive(datagram: req, from: a.peer, now: 0)
        let r2 = ims.receive(datagram: req, from: a.peer, now: 0.5)
        XCTAssertEqual(r1, r2, "the server transaction resends its 401, no new vector")
    }

    func testWrongResponseIs403() throws {
        let (ims, _) = makeIMS()
        let a = ue(1)
        let c = sent(ims.receive(datagram: a.register(), from: a.peer, now: 0))
        let (auth, _) = try a.answer(c[0].0, overridePassword: Array("not-the-res".utf8))
        let out = ims.receive(datagram: a.register(authorization: auth), from: a.peer, now: 1)
        XCTAssertEqual(sent(out).first?.0.statusCode, 403)
        XCTAssertEqual(events(out), [.authenticationFailed(impi: a.impi, reason: "wrong digest response")])
        XCTAssertTrue(ims.currentRegistrations.isEmpty)
        // Unknown IMPI → 403 as well.
        let stranger = TestUE(imsi: "001019999999999", address: "2001:db8:3000:1::99")
        XCTAssertEqual(sent(ims.receive(datagram: stranger.register(), from: stranger.peer, now: 2)).first?.0.statusCode, 403)
    }

    func testResyncOnAUTS() throws {
        // The USIM has already seen SEQ 1000 in IND slot 1: the network's SQN (SEQ 1, IND 1) is stale.
        let a = ue(1, usimSQN: try SQN(seq: 1000, ind: 1))
        let (ims, _) = makeIMS()
        let c1 = sent(ims.receive(datagram: a.register(), from: a.peer, now: 0))
        let (authSync, answer) = try a.answer(c1[0].0)
        guard case .auts = answer else { return XCTFail("expected a sync failure") }
        let out = ims.receive(datagram: a.register(authorization: authSync), from: a.peer, now: 1)
        XCTAssertEqual(events(out), [.resynchronized(impi: a.impi)])
        let c2 = try XCTUnwrap(sent(out).first?.0)
        XCTAssertEqual(c2.statusCode, 401)
        XCTAssertNotEqual(c2.header("WWW-Authenticate"), c1[0].0.header("WWW-Authenticate"))
        // The new vector's SQN is beyond the USIM's: authentication succeeds.
        let (auth, answer2) = try a.answer(c2)
        guard case .response = answer2 else { return XCTFail("still out of sync") }
        XCTAssertEqual(sent(ims.receive(datagram: a.register(authorization: auth), from: a.peer, now: 2)).first?.0.statusCode, 200)
    }

    func testMD5Registration() throws {
        let (ims, _) = makeIMS()
        let u = TestUE(imsi: "000000000000000", address: "198.51.100.20", impi: "username", impu: "sip:user@\(domain)", password: "amarisoft")
        let c = try XCTUnwrap(sent(ims.receive(datagram: u.register(), from: u.peer, now: 0)).first?.0)
        XCTAssertEqual(c.statusCode, 401)
        let wa = try SIPAuthHeader(parsing: Substring(c.header("WWW-Authenticate")!), header: "WWW-Authenticate")
        XCTAssertEqual(wa["algorithm"], "MD5")
        XCTAssertEqual(wa["realm"], domain)
        let (auth, _) = try u.answer(c)
        let ok = try XCTUnwrap(sent(ims.receive(datagram: u.register(authorization: auth), from: u.peer, now: 1)).first?.0)
        XCTAssertEqual(ok.statusCode, 200)
        XCTAssertEqual(try ok.addresses("P-Associated-URI").map(\.uri.description), ["tel:1234", "sip:user@\(domain)"])
        // Wrong password → 403.
        let v = TestUE(imsi: "000000000000000", address: "198.51.100.21", impi: "username", impu: "sip:user@\(domain)", password: "wrong")
        let c2 = try XCTUnwrap(sent(ims.receive(datagram: v.register(), from: v.peer, now: 2)).first?.0)
        let (bad, _) = try v.answer(c2)
        XCTAssertEqual(sent(ims.receive(datagram: v.register(authorization: bad), from: v.peer, now: 3)).first?.0.statusCode, 403)
    }

    func testAKAv2Registration() throws {
        let (ims, _) = makeIMS()
        let d = ue(4)
        let c = try XCTUnwrap(sent(ims.receive(datagram: d.register(), from: d.peer, now: 0)).first?.0)
        XCTAssertTrue(c.header("WWW-Authenticate")!.contains("algorithm=AKAv2-MD5"))
        // RES alone (AKAv1 style) must not pass for AKAv2.
        let wa = try SIPAuthHeader(parsing: Substring(c.header("WWW-Authenticate")!), header: "WWW-Authenticate")
        let (rand, _, _) = try DigestAKA.parseNonce(wa["nonce"]!)
        let res = try milenage().f2345(rand: rand).res
        let d2 = TestUE(imsi: "001010000000004", address: "2001:db8:3000:1::55", usim: try USIM(algorithm: milenage()))
        let (wrong, _) = try d2.answer(c, overridePassword: res)
        XCTAssertEqual(sent(ims.receive(datagram: d2.register(authorization: wrong), from: d2.peer, now: 1)).first?.0.statusCode, 403)
        let c3 = try XCTUnwrap(sent(ims.receive(datagram: d.register(), from: d.peer, now: 2)).first?.0)
        let (auth, _) = try d.answer(c3)
        XCTAssertEqual(sent(ims.receive(datagram: d.register(authorization: auth), from: d.peer, now: 3)).first?.0.statusCode, 200)
    }

    func testReRegistrationDeregistrationAndExpiry() throws {
        let (ims, _) = makeIMS()
        let a = ue(1)
        try registerUE(ims, a, now: 0, expires: 600)
        // Re-REGISTER with the same (already answered) nonce is accepted without a new challenge.
        let (auth, _) = try a.answer(try XCTUnwrap(sent(ims.receive(datagram: a.register(expires: 600), from: a.peer, now: 10)).first?.0))
        XCTAssertEqual(sent(ims.receive(datagram: a.register(expires: 600, authorization: auth), from: a.peer, now: 11)).first?.0.statusCode, 200)
        let again = sent(ims.receive(datagram: a.register(expires: 300, authorization: auth.replacingOccurrences(of: "nc=00000001", with: "nc=00000001")), from: a.peer, now: 20))
        XCTAssertEqual(again.first?.0.statusCode, 200)
        XCTAssertEqual(try again.first?.0.contacts().first?.parameters["expires"], "300")
        // De-registration: Expires 0 removes the binding; the 200 lists no contact.
        let dereg = ims.receive(datagram: a.register(expires: 0, authorization: auth), from: a.peer, now: 30)
        let ok = try XCTUnwrap(sent(dereg).first?.0)
        XCTAssertEqual(ok.statusCode, 200)
        XCTAssertTrue(try ok.contacts().isEmpty)
        XCTAssertEqual(events(dereg), [.deregistered(impi: a.impi, contact: a.contactURI)])
        XCTAssertTrue(ims.currentRegistrations.isEmpty)
        // Expiry by timer.
        let b = ue(2)
        try registerUE(ims, b, now: 100, expires: 60)
        XCTAssertEqual(ims.currentRegistrations.count, 1)
        XCTAssertLessThanOrEqual(ims.nextDeadline ?? 0, 160.1)
        XCTAssertEqual(events(ims.tick(now: 159)), [])
        XCTAssertEqual(events(ims.tick(now: 160.2)), [.deregistered(impi: b.impi, contact: b.contactURI)])
        XCTAssertTrue(ims.currentRegistrations.isEmpty)
    }

    func testRegEventSubscribeAndNotify() throws {
        let (ims, _) = makeIMS()
        let a = ue(1)
        try registerUE(ims, a, now: 0)
        let sub = Array([
            "SUBSCRIBE sip:001010000000001@\(domain) SIP/2.0",
            "Via: \(a.via("z9hG4bKsub1"))",
            "Max-Forwards: 70",
            "Route: <sip:[\(pcscf6)]:5060;lr>",
            "From: <sip:001010000000001@\(domain)>;tag=subtag",
            "To: <sip:001010000000001@\(domain)>",
            "Call-ID: sub-1@2001:db8:3000:1::2",
            "CSeq: 1 SUBSCRIBE",
            "Event: reg",
            "Expires: 600000",
            "Accept: application/reginfo+xml",
            "Contact: <\(a.contactURI)>",
            "Content-Length: 0", "", "",
        ].joined(separator: "\r\n").utf8)
        let out = sent(ims.receive(datagram: sub, from: a.peer, now: 5))
        XCTAssertEqual(out.count, 2)
        let ok = out[0].0
        XCTAssertEqual(ok.statusCode, 200)
        XCTAssertEqual(ok.header("Expires"), "600000")
        let notify = out[1].0
        XCTAssertEqual(out[1].1, a.peer)
        XCTAssertEqual(notify.method, "NOTIFY")
        XCTAssertEqual(notify.requestURI?.description, a.contactURI)
        XCTAssertEqual(notify.header("Event"), "reg")
        XCTAssertEqual(notify.header("Subscription-State"), "active;expires=600000")
        XCTAssertEqual(notify.contentType, "application/reginfo+xml")
        XCTAssertEqual(try notify.from().tag, try ok.to().tag)
        XCTAssertEqual(try notify.to().tag, "subtag")
        XCTAssertEqual(try notify.callID(), "sub-1@2001:db8:3000:1::2")
        let xml = String(decoding: notify.body, as: UTF8.self)
        XCTAssertEqual(xml, """
        <?xml version="1.0" encoding="UTF-8"?>
        <reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full">
          <registration aor="sip:001010000000001@\(domain)" id="reg1" state="active">
            <contact id="c1-1" state="active" event="registered" expires="3595">
              <uri>sip:001010000000001@[2001:db8:3000:1::2]:5060</uri>
            </contact>
          </registration>
          <registration aor="tel:0600000001" id="reg2" state="active">
            <contact id="c2-1" state="active" event="registered" expires="3595">
              <uri>sip:001010000000001@[2001:db8:3000:1::2]:5060</uri>
            </contact>
          </registration>
        </reginfo>

        """)
        // Unanswered over UDP, the NOTIFY is retransmitted after T1 (timer E).
        XCTAssertEqual(sent(ims.tick(now: 5.5)).map { $0.0.method }, ["NOTIFY"])
        // The phone answers the NOTIFY; the client transaction completes.
        var resp = SIPMessage.response(200)
        for h in ["Via", "From", "To", "Call-ID", "CSeq"] { resp.addHeader(h, notify.header(h)!) }
        XCTAssertEqual(ims.receive(datagram: resp.serialized(), from: a.peer, now: 5.6), [])
        XCTAssertEqual(sent(ims.tick(now: 7)).count, 0, "no more retransmissions")
        // De-registration triggers a NOTIFY with version 1 and the registration terminated.
        let (auth, _) = try a.answer(try XCTUnwrap(sent(ims.receive(datagram: a.register(), from: a.peer, now: 8)).first?.0))
        let dereg = sent(ims.receive(datagram: a.register(expires: 0, authorization: auth), from: a.peer, now: 9))
        XCTAssertEqual(dereg.map { $0.0.method ?? String($0.0.statusCode ?? 0) }, ["200", "NOTIFY"])
        let body2 = String(decoding: dereg[1].0.body, as: UTF8.self)
        XCTAssertTrue(body2.contains("version=\"1\""))
        XCTAssertTrue(body2.contains("<registration aor=\"tel:0600000001\" id=\"reg2\" state=\"terminated\">"))
        XCTAssertFalse(body2.contains("<contact"))
        XCTAssertEqual(try dereg[1].0.cseq().sequence, 2)
        // Network-initiated de-registration also notifies.
        try registerUE(ims, a, now: 11)
        let net = ims.deregister(impi: a.impi, now: 12)
        XCTAssertEqual(events(net), [.deregistered(impi: a.impi, contact: a.contactURI)])
        XCTAssertEqual(sent(net).map { $0.0.method }, ["NOTIFY"])
        XCTAssertTrue(ims.currentRegistrations.isEmpty)
        // A SUBSCRIBE for another event package → 489.
        let bad = String(decoding: sub, as: UTF8.self).replacingOccurrences(of: "Event: reg", with: "Event: presence")
            .replacingOccurrences(of: "sub-1@", with: "sub-2@").replacingOccurrences(of: "z9hG4bKsub1", with: "z9hG4bKsub2")
        XCTAssertEqual(sent(ims.receive(datagram: Array(bad.utf8), from: a.peer, now: 10)).first?.0.statusCode, 489)
    }

    func testRegisterOverTCPStream() throws {
        let (ims, _) = makeIMS()
        let a = TestUE(imsi: "001010000000001", address: "2001:db8:3000:1::2", usim: try USIM(algorithm: milenage()), transport: .tcp)
        let bytes = a.register()
        var out: [IMSAction] = []
        for chunk in stride(from: 0, to: bytes.count, by: 100) {
            out += ims.receive(stream: Array(bytes[chunk..<min(chunk + 100, bytes.count)]), from: a.peer, now: 0)
        }
        XCTAssertEqual(sent(out).map { $0.0.statusCode }, [401])
        XCTAssertEqual(sent(out).first?.1.transport, .tcp)
        // A stream without Content-Length cannot be framed: the connection is closed.
        let broken = ims.receive(stream: Array("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n".utf8), from: a.peer, now: 1)
        XCTAssertEqual(broken.last, .closeConnection(a.peer))
    }

    func testNoAuthenticationAndIMPIDerivedFromIMSI() throws {
        let (ims, subs) = makeIMS()
        // Only a tel IMPU and authent_type none: the phone registers sip:<IMSI>@<home domain> without Authorization.
        subs.add(.init(subscriber: IMSSubscriber(impi: "001010000000003@\(domain)", impus: ["tel:0600000003"], authentType: .none), algorithm: nil))
        let u = TestUE(imsi: "001010000000003", address: "198.51.100.33")
        let req = String(decoding: u.register(), as: UTF8.self)
            .split(separator: "\r\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("Authorization:") }.joined(separator: "\r\n")
        let out = ims.receive(datagram: Array(req.utf8), from: u.peer, now: 0)
        let ok = try XCTUnwrap(sent(out).first?.0)
        XCTAssertEqual(ok.statusCode, 200, "authent_type none: no challenge")
        XCTAssertEqual(events(out), [.registered(impi: "001010000000003@\(domain)", contact: u.contactURI, expires: 3600)])
        XCTAssertEqual(IMSIdentity.impi(imsi: "001010123456789", mncDigits: 2), "001010123456789@ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(IMSIdentity.impi(imsi: "234150999999999", mncDigits: 2), "234150999999999@ims.mnc015.mcc234.3gppnetwork.org")
        XCTAssertEqual(IMSIdentity.impi(imsi: "310260123456789", mncDigits: 3), "310260123456789@ims.mnc260.mcc310.3gppnetwork.org")
        XCTAssertEqual(IMSIdentity.uri(impu: "001010123456789", domain: domain), "sip:001010123456789@\(domain)")
        XCTAssertEqual(IMSIdentity.uri(impu: "sip:user", domain: "amarisoft.com"), "sip:user@amarisoft.com")
        XCTAssertEqual(IMSIdentity.uri(impu: "tel:600", domain: domain), "tel:600")
    }

    func testSecAgreeNegotiatesGmSecurityAssociations() throws {
        let (ims0, subs) = makeIMS()
        var config = ims0.config
        config.ipsec = true
        let ims = IMSCore(config: config, subscribers: subs)
        let rand = Array(repeating: UInt8(0x5A), count: 16)
        subs.randSource = { rand }
        let a = ue(1)
        func withSecurityClient(_ b: [UInt8]) -> [UInt8] {
            let sc = "Security-Client: ipsec-3gpp;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5064;port-s=5066;ealg=des-ede3-cbc;alg=hmac-md5-96,"
                + "ipsec-3gpp;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5064;port-s=5066;ealg=aes-cbc;alg=hmac-sha-1-96\r\nRequire: sec-agree\r\nContent-Length"
            return Array(String(decoding: b, as: UTF8.self).replacingOccurrences(of: "Content-Length", with: sc).utf8)
        }
        let first = ims.receive(datagram: withSecurityClient(a.register()), from: a.peer, now: 0)
        let keys = try milenage().f2345(rand: rand)
        let sa = IMSGmSecurity(ueAddress: a.peer.address, pcscfAddress: pcscf6, portUC: 5064, portUS: 5066, spiUC: 1111, spiUS: 2222,
                               portPC: 5062, portPS: 5063, spiPC: 0x1000, spiPS: 0x1001,
                               integrityAlgorithm: "hmac-sha-1-96", encryptionAlgorithm: "aes-cbc",
                               integrityKey: keys.ik + [0, 0, 0, 0], encryptionKey: keys.ck)
        XCTAssertEqual(first.first, .event(.gmSecurityInstalled(sa)), "des-ede3-cbc is skipped, the second mechanism is taken")
        let c = try XCTUnwrap(sent(first).first?.0)
        XCTAssertEqual(c.header("Security-Server"),
                       "ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=4096;spi-s=4097;port-c=5062;port-s=5063;ealg=aes-cbc;alg=hmac-sha-1-96")
        // The protected REGISTER arrives from port_uc on our port_ps; the 200 goes back the same way.
        let protectedPeer = SIPPeer(address: a.peer.address, port: 5064, transport: .udp, localPort: 5063)
        let (auth, _) = try a.answer(c)
        let ok = sent(ims.receive(datagram: withSecurityClient(a.register(authorization: auth)), from: protectedPeer, now: 1))
        XCTAssertEqual(ok.first?.0.statusCode, 200)
        XCTAssertEqual(ok.first?.1, protectedPeer)
        // Requests to the phone will leave from port_pc towards its port_us.
        XCTAssertEqual(ims.currentRegistrations.first?.bindings.first?.peer,
                       SIPPeer(address: a.peer.address, port: 5066, transport: .udp, localPort: 5062))
        // De-registration removes the SAs after the 200.
        let dereg = ims.receive(datagram: a.register(expires: 0, authorization: auth), from: protectedPeer, now: 2)
        XCTAssertEqual(dereg.last, .event(.gmSecurityRemoved(sa)))
        // With ipsec off (the default) no Security-Server is sent.
        let plain = sent(ims0.receive(datagram: withSecurityClient(a.register()), from: a.peer, now: 3))
        XCTAssertNil(plain.first?.0.header("Security-Server"))
    }

    func testGarbageGetsTypedEventAndMalformedRequestGets400() {
        let (ims, _) = makeIMS()
        let p = SIPPeer(address: "198.51.100.9", port: 5060, transport: .udp)
        let out = ims.receive(datagram: [0x00, 0xFF, 0x13], from: p, now: 0)
        guard case .event(.parseError(let peer, _))? = out.first else { return XCTFail("no parse event") }
        XCTAssertEqual(peer, p)
        let bad = Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.9;branch=z9hG4bK1\r\nFrom: <sip:x@y>;;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".utf8)
        let r = sent(ims.receive(datagram: bad, from: p, now: 0))
        XCTAssertEqual(r.first?.0.statusCode, 400)
        XCTAssertEqual(r.first?.1, p)
    }
}
