import XCTest
import SIP
import AKA
import TestSupport
@testable import UESim

final class SIPUserAgentRegistrationTests: XCTestCase {
    func challenge(_ req: SIPMessage, nonce: String, algorithm: String = "AKAv1-MD5") -> [UInt8] {
        Net.response("401 Unauthorized", to: req, toTag: "scscf401",
                     extra: ["WWW-Authenticate: Digest realm=\"\(Net.domain)\", nonce=\"\(nonce)\", algorithm=\(algorithm), qop=\"auth,auth-int\""])
    }

    /// TS 35.208 set 19 challenge: RES = f2 is the AKAv1 password, response as derived in http_digest_aka.json.
    func testAKAv1RegistrationAgainstScripted401And200() throws {
        let (alg, set19) = try Net.milenageSet(19)
        let ex = try Net.akaExample("AKAv1-MD5, MILENAGE TS 35.208 test set 19")
        let sqn = try SQN(bytes: Vectors.bytes(set19["sqn"] as! String))
        var ua = SIPUserAgent(config: Net.config(), usim: try USIM(algorithm: alg, lastSQN: try SQN(sqn.value - 32)))
        ua.cnonceOverride = ex["cnonce"] as? String

        let first = Net.sent(ua.register(now: 0))
        XCTAssertEqual(first.count, 1)
        let r1 = first[0]
        XCTAssertEqual(r1.requestURI?.description, "sip:" + Net.domain)
        XCTAssertEqual(r1.header("Authorization"),
                       "Digest username=\"\(Net.impi)\", realm=\"\(Net.domain)\", nonce=\"\", uri=\"sip:\(Net.domain)\", response=\"\"")
        XCTAssertEqual(try r1.from().uri.description, "sip:" + Net.impi)
        XCTAssertEqual(try r1.to().uri.description, "sip:" + Net.impi)
        XCTAssertNotNil(try r1.from().tag)
        XCTAssertNil(try r1.to().tag)
        let via = try r1.topVia()
        XCTAssertTrue(via.hasMagicCookie)
        XCTAssertTrue(via.parameters.contains("rport"))
        XCTAssertEqual(via.sentBy, "198.18.0.2:5060")
        XCTAssertEqual(try r1.cseq(), SIPCSeq(sequence: 1, method: "REGISTER"))
        XCTAssertEqual(try r1.contacts().first?.uri.description, "sip:001010000000001@198.18.0.2:5060")
        XCTAssertEqual(r1.header("Expires"), "600000")
        XCTAssertNoThrow(try SIPMessage(parsing: r1.serialized()))

        // 401 with nonce = base64(RAND || AUTN).
        let nonce = ex["nonce"] as! String
        XCTAssertEqual(try DigestAKA.parseNonce(nonce).rand, Vectors.bytes(set19["rand"] as! String))
        let out2 = ua.receive(challenge(r1, nonce: nonce), from: Net.pcscf, now: 0.1)
        XCTAssertEqual(Net.events(out2), [.challenged(algorithm: "AKAv1-MD5")])
        let r2 = try XCTUnwrap(Net.sent(out2).first)
        XCTAssertEqual(try r2.cseq().sequence, 2)
        XCTAssertEqual(try r2.callID(), try r1.callID())
        XCTAssertEqual(try r2.from().tag, try r1.from().tag)
        XCTAssertNotEqual(try r2.topVia().branch, try r1.topVia().branch)
        let auth = try XCTUnwrap(try r2.authorization())
        XCTAssertEqual(auth["username"], Net.impi)
        XCTAssertEqual(auth["realm"], Net.domain)
        XCTAssertEqual(auth["uri"], "sip:" + Net.domain)
        XCTAssertEqual(auth["nonce"], nonce)
        XCTAssertEqual(auth["algorithm"], "AKAv1-MD5")
        XCTAssertEqual(auth["qop"], "auth")
        XCTAssertEqual(auth["nc"], "00000001")
        XCTAssertEqual(auth["cnonce"], "0a4f113b")
        XCTAssertEqual(auth["response"], ex["response"] as? String)   // c2c6dd76...
        XCTAssertEqual(ua.akaKeys?.ck, Vectors.bytes(set19["f3"] as! String))
        XCTAssertEqual(ua.akaKeys?.ik, Vectors.bytes(set19["f4"] as! String))

        // 200 OK: Service-Route, P-Associated-URI and the Contact's expires are kept.
        let ok = Net.response("200 OK", to: r2, toTag: "scscf200", extra: [
            "Contact: <sip:001010000000001@198.18.0.2:5060>;expires=3600",
            "Service-Route: <sip:orig@scscf.\(Net.domain):6060;lr>",
            "P-Associated-URI: <sip:001010000000001@\(Net.domain)>, <tel:+15551230001>",
        ])
        let out3 = ua.receive(ok, from: Net.pcscf, now: 0.2)
        XCTAssertEqual(Net.events(out3), [.registered(expires: 3600, serviceRoute: ["<sip:orig@scscf.\(Net.domain):6060;lr>"],
                                                       associatedURIs: ["sip:001010000000001@\(Net.domain)", "tel:+15551230001"])])
        XCTAssertEqual(ua.registrationState, .registered)
        XCTAssertEqual(ua.preloadedRoute, ["<sip:198.51.100.10:5060;lr>", "<sip:orig@scscf.\(Net.domain):6060;lr>"])
        XCTAssertNil(ua.nextDeadline.map { $0 < 0.2 ? $0 : nil } ?? nil)
    }

    func testAKAv2PasswordIsRFC4169PRF() throws {
        let (alg, set19) = try Net.milenageSet(19)
        let ex = try Net.akaExample("AKAv2-MD5, MILENAGE TS 35.208 test set 19")
        let sqn = try SQN(bytes: Vectors.bytes(set19["sqn"] as! String))
        var ua = SIPUserAgent(config: Net.config(), usim: try USIM(algorithm: alg, lastSQN: try SQN(sqn.value - 32)))
        ua.cnonceOverride = "0a4f113b"
        let r1 = Net.sent(ua.register(now: 0))[0]
        let r2 = try XCTUnwrap(Net.sent(ua.receive(challenge(r1, nonce: ex["nonce"] as! String, algorithm: "AKAv2-MD5"), from: Net.pcscf, now: 0)).first)
        let auth = try XCTUnwrap(try r2.authorization())
        XCTAssertEqual(auth["algorithm"], "AKAv2-MD5")
        XCTAssertEqual(auth["response"], ex["response"] as? String)   // 89652b67...
    }

    /// A stale SQN: the USIM answers AUTS; REGISTER carries auts= and a response over an empty password.
    func testSyncFailureSendsAUTS() throws {
        let (alg, set20) = try Net.milenageSet(20)
        let ex = try Net.akaExample("AKAv1-MD5 resync")
        let rand = Vectors.bytes(ex["rand"] as! String)
        let auts = Vectors.bytes(ex["auts"] as! String)
        // The card's SQN_MS is the one that AUTS carries; the challenge's SQN is beyond Δ of it (Annex C.2.1).
        let sqnMS = try AUTS.recoverSQN(algorithm: alg, rand: rand, auts: auts)
        let challengeSQN = try SQN(bytes: Vectors.bytes(set20["sqn"] as! String))
        XCTAssertFalse(USIMSequenceState(last: sqnMS).isFresh(challengeSQN))
        var ua = SIPUserAgent(config: Net.config(), usim: try USIM(algorithm: alg, lastSQN: sqnMS))
        ua.cnonceOverride = "0a4f113b"
        let r1 = Net.sent(ua.register(now: 0))[0]
        let out = ua.receive(challenge(r1, nonce: ex["nonce"] as! String), from: Net.pcscf, now: 0)
        XCTAssertEqual(Net.events(out), [.challenged(algorithm: "AKAv1-MD5"), .akaSyncFailure])
        let r2 = try XCTUnwrap(Net.sent(out).first)
        let auth = try XCTUnwrap(try r2.authorization())
        XCTAssertEqual(auth["auts"], ex["auts_b64"] as? String)
        XCTAssertEqual(auth["response"], ex["response"] as? String)   // 36552843..., empty password
        XCTAssertEqual(try r2.cseq().sequence, 2)
        XCTAssertEqual(ua.registrationState, .registering)
    }

    func testMACFailureGivesUp() throws {
        let (alg, set19) = try Net.milenageSet(19)
        var autn = Vectors.bytes(set19["autn_derived"] as! String)
        autn[15] ^= 0x01
        let nonce = try DigestAKA.nonce(rand: Vectors.bytes(set19["rand"] as! String), autn: autn)
        var ua = SIPUserAgent(config: Net.config(), usim: try USIM(algorithm: alg))
        let r1 = Net.sent(ua.register(now: 0))[0]
        let out = ua.receive(challenge(r1, nonce: nonce), from: Net.pcscf, now: 0)
        XCTAssertTrue(Net.sent(out).isEmpty)
        XCTAssertTrue(Net.events(out).contains(.akaMACFailure))
        XCTAssertEqual(ua.registrationState, .failed)
        if case let .registrationFailed(status, reason)? = Net.events(out).last {
            XCTAssertEqual(status, 401)
            XCTAssertTrue(reason.contains("MAC"))
        } else { XCTFail("no registrationFailed") }
    }

    func testMD5DigestWithPassword() throws {
        var ua = SIPUserAgent(config: Net.config(password: "secret"))
        ua.cnonceOverride = "abcdef01"
        let r1 = Net.sent(ua.register(now: 0))[0]
        let r2 = try XCTUnwrap(Net.sent(ua.receive(challenge(r1, nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", algorithm: "MD5"),
                                                   from: Net.pcscf, now: 0)).first)
        let auth = try XCTUnwrap(try r2.authorization())
        // RFC 2617 §3.2.2 by hand: MD5(HA1:nonce:nc:cnonce:qop:HA2).
        let ha1 = DigestAuth.h(.md5, Array("\(Net.impi):\(Net.domain):secret".utf8))
        let ha2 = DigestAuth.h(.md5, Array("REGISTER:sip:\(Net.domain)".utf8))
        let expected = DigestAuth.h(.md5, Array("\(ha1):dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:abcdef01:auth:\(ha2)".utf8))
        XCTAssertEqual(auth["response"], expected)
        XCTAssertEqual(auth["algorithm"], "MD5")
    }

    func testRegisterRetransmitsOnT1DoublingThenTimesOut() throws {
        var ua = SIPUserAgent(config: Net.config(password: "x"))
        let r1 = Net.sent(ua.register(now: 0))[0]
        XCTAssertEqual(ua.nextDeadline, 0.5)
        let re1 = Net.sent(ua.tick(now: 0.5))
        XCTAssertEqual(re1, [r1])
        XCTAssertEqual(ua.nextDeadline, 1.5)
        XCTAssertEqual(Net.sent(ua.tick(now: 1.5)), [r1])
        XCTAssertEqual(ua.nextDeadline, 3.5)
        var t = 3.5
        var timedOut = false
        while let d = ua.nextDeadline, d <= 40 {
            t = d
            if Net.events(ua.tick(now: t)).contains(.timedOut(method: "REGISTER")) { timedOut = true }
        }
        XCTAssertTrue(timedOut)
        XCTAssertEqual(t, 32, accuracy: 0.001)
        XCTAssertEqual(ua.registrationState, .failed)
    }

    func testRegEventSubscribeAndNotify() throws {
        var ua = SIPUserAgent(config: Net.config())
        let sub = try XCTUnwrap(Net.sent(ua.subscribeRegEvent(now: 0)).first)
        XCTAssertEqual(sub.method, "SUBSCRIBE")
        XCTAssertEqual(sub.header("Event"), "reg")
        XCTAssertEqual(sub.header("Accept"), "application/reginfo+xml")
        XCTAssertEqual(sub.requestURI?.description, "sip:" + Net.impi)
        XCTAssertEqual(sub.headerLines("Route").first, "<sip:198.51.100.10:5060;lr>")
        let ok = Net.response("200 OK", to: sub, toTag: "scscfsub", extra: ["Expires: 600000", "Contact: <sip:scscf.\(Net.domain):6060>"])
        XCTAssertEqual(Net.events(ua.receive(ok, from: Net.pcscf, now: 0.1)), [.subscribed(expires: 600000)])

        let body = "<?xml version=\"1.0\"?><reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"0\" state=\"full\">"
            + "<registration aor=\"sip:\(Net.impi)\" id=\"a7\" state=\"active\"><contact id=\"1\" state=\"active\" event=\"registered\">"
            + "<uri>sip:001010000000001@198.18.0.2:5060</uri></contact></registration></reginfo>"
        let notify = "NOTIFY sip:001010000000001@198.18.0.2:5060 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKnotify1\r\n"
            + "Max-Forwards: 70\r\n"
            + "From: <sip:\(Net.impi)>;tag=scscfsub\r\n"
            + "To: \(sub.header("From")!)\r\n"
            + "Call-ID: \(sub.header("Call-ID")!)\r\n"
            + "CSeq: 1 NOTIFY\r\n"
            + "Event: reg\r\nSubscription-State: active;expires=600000\r\n"
            + "Content-Type: application/reginfo+xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let out = ua.receive(Array(notify.utf8), from: Net.pcscf, now: 0.2)
        let resp = try XCTUnwrap(Net.sent(out).first)
        XCTAssertEqual(resp.statusCode, 200)
        XCTAssertEqual(resp.header("CSeq"), "1 NOTIFY")
        XCTAssertEqual(try resp.topVia().branch, "z9hG4bKnotify1")
        XCTAssertEqual(Net.events(out), [.notified(subscriptionState: "active", registrationState: "active")])

        // A NOTIFY for a subscription we do not have gets 481.
        let stray = notify.replacingOccurrences(of: sub.header("Call-ID")!, with: "other@x").replacingOccurrences(of: "notify1", with: "notify2")
        XCTAssertEqual(Net.sent(ua.receive(Array(stray.utf8), from: Net.pcscf, now: 0.3)).first?.statusCode, 481)
    }
}

extension SIPUserAgentRegistrationTests {
    /// TS 24.229 §5.1.1.4: a 3600 s binding is refreshed 600 s before it expires, a 600 s one at half time.
    func testRegistrationRefresh() throws {
        var ua = SIPUserAgent(config: Net.config(password: "pw"))
        let r1 = Net.sent(ua.register(now: 0))[0]
        _ = ua.receive(Net.response("200 OK", to: r1, extra: ["Contact: <sip:001010000000001@198.18.0.2:5060>;expires=3600"]), from: Net.pcscf, now: 1)
        XCTAssertEqual(ua.refreshAt, 3001)
        XCTAssertEqual(ua.nextDeadline, 6)   // timer K of the REGISTER transaction (T4 after the 200)
        XCTAssertTrue(ua.tick(now: 6).isEmpty)
        XCTAssertEqual(ua.nextDeadline, 3001)
        let re = try XCTUnwrap(Net.sent(ua.tick(now: 3001)).first)
        XCTAssertEqual(re.method, "REGISTER")
        XCTAssertEqual(try re.cseq().sequence, 2)
        XCTAssertEqual(try re.callID(), try r1.callID())
        XCTAssertEqual(ua.registrationState, .registered)
        _ = ua.receive(Net.response("200 OK", to: re, extra: ["Expires: 600"]), from: Net.pcscf, now: 3002)
        XCTAssertEqual(ua.refreshAt, 3302)
        let de = try XCTUnwrap(Net.sent(ua.deregister(now: 3100)).first)
        XCTAssertEqual(de.header("Expires"), "0")
        XCTAssertEqual(Net.events(ua.receive(Net.response("200 OK", to: de), from: Net.pcscf, now: 3101)), [.deregistered])
        XCTAssertNil(ua.refreshAt)
    }
}

extension SIPUserAgentRegistrationTests {
    /// The answered REGISTER, byte for byte (seeded identifiers, set 19 challenge, cnonce of the derived example).
    func testAnsweredRegisterIsByteExact() throws {
        let (alg, set19) = try Net.milenageSet(19)
        let sqn = try SQN(bytes: Vectors.bytes(set19["sqn"] as! String))
        var ua = SIPUserAgent(config: Net.config(), usim: try USIM(algorithm: alg, lastSQN: try SQN(sqn.value - 32)))
        ua.cnonceOverride = "0a4f113b"
        let r1 = Net.sent(ua.register(now: 0))[0]
        let ex = try Net.akaExample("AKAv1-MD5, MILENAGE TS 35.208 test set 19")
        let r2 = Net.sent(ua.receive(challenge(r1, nonce: ex["nonce"] as! String), from: Net.pcscf, now: 0.1))[0]
        let d = Net.domain, u = "001010000000001"
        let expected = "REGISTER sip:\(d) SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK09bc585a244823f2;rport\r\n"
            + "Max-Forwards: 70\r\n"
            + "From: <sip:\(u)@\(d)>;tag=4752675713\r\n"
            + "To: <sip:\(u)@\(d)>\r\n"
            + "Call-ID: bdd732262feb6e9528efe333@198.18.0.2\r\n"
            + "CSeq: 2 REGISTER\r\n"
            + "Contact: <sip:\(u)@198.18.0.2:5060>;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n"
            + "Expires: 600000\r\n"
            + "Authorization: Digest username=\"\(u)@\(d)\", realm=\"\(d)\", nonce=\"gekrbA7g4S6866jZKpnfpbtS6Rx0esOrKlwj0V7jUdU=\", "
            + "uri=\"sip:\(d)\", response=\"c2c6dd76738697b5475f891daa89115b\", algorithm=AKAv1-MD5, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n"
            + "Supported: path, gruu\r\n"
            + "Allow: INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, NOTIFY, MESSAGE, OPTIONS, REFER\r\n"
            + "P-Access-Network-Info: IEEE-802.11\r\n"
            + "User-Agent: VoWiFiCore-UESim/1.0\r\n"
            + "Content-Length: 0\r\n\r\n"
        XCTAssertEqual(r2.serialized(), Array(expected.utf8))
    }
}
