import XCTest
@testable import SIP

final class SIPParserTests: XCTestCase {
    func parse(_ b: [UInt8]) throws -> SIPMessage { try SIPMessage(parsing: b) }

    func assertRejected(_ b: [UInt8], _ check: (SIPParseError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SIPMessage(parsing: b), file: file, line: line) { e in
            guard let pe = e as? SIPParseError else { return XCTFail("untyped error \(e)", file: file, line: line) }
            XCTAssertTrue(check(pe), "unexpected error \(pe)", file: file, line: line)
        }
    }

    func testWsinv() throws {
        let m = try parse(TM.wsinv)
        XCTAssertEqual(m.method, "INVITE")
        XCTAssertEqual(m.requestURI?.sipURI?.parameters.contains("unknownparam"), true)
        XCTAssertEqual(try m.to().tag, "1918181833n")
        let from = try m.from()
        XCTAssertEqual(from.displayName, "J Rosenberg \\\"")
        XCTAssertEqual(from.tag, "98asjd8")
        XCTAssertEqual(try m.maxForwards(), 68)
        XCTAssertEqual(try m.cseq(), SIPCSeq(sequence: 9, method: "INVITE"))
        let vias = try m.vias()
        XCTAssertEqual(vias.count, 3)
        XCTAssertEqual(vias[0].transport, "UDP")
        XCTAssertEqual(vias[0].host, "192.0.2.2")
        XCTAssertEqual(vias[0].branch, "390skdjuw")
        XCTAssertEqual(vias[1].transport, "TCP")
        XCTAssertEqual(vias[1].host, "spindle.example.com")
        XCTAssertEqual(vias[1].branch, "z9hG4bK9ikj8")
        XCTAssertEqual(vias[2].host, "192.168.255.111")
        XCTAssertEqual(vias[2].branch, "z9hG4bK30239")
        XCTAssertEqual(m.header("Subject"), "")
        XCTAssertEqual(m.header("NewFangledHeader"), "newfangled value continued newfangled value")
        let contact = try XCTUnwrap(m.contacts().first)
        XCTAssertEqual(contact.displayName, "Quoted string \"\"")
        XCTAssertEqual(contact.parameters["newparam"], "newvalue")
        XCTAssertTrue(contact.parameters.contains("secondparam"))
        XCTAssertEqual(contact.parameters["q"], "0.33")
        let route = try XCTUnwrap(m.addresses("Route").first?.uri.sipURI)
        XCTAssertTrue(route.parameters.contains("lr"))
        XCTAssertEqual(route.parameters["unknownwith"], "value")
        XCTAssertEqual(m.body, Array(TM.sdpSmall.utf8))
        XCTAssertEqual(m.contentType, "application/sdp")
    }

    func testIntmeth() throws {
        let m = try parse(TM.intmeth)
        XCTAssertEqual(m.method, "!interesting-Method0123456789_*+`.%indeed'~")
        let ruri = try XCTUnwrap(m.requestURI?.sipURI)
        XCTAssertEqual(ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        XCTAssertEqual(ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        XCTAssertEqual(ruri.host, "example.com")
        XCTAssertEqual(try m.to().displayName, "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        let from = try m.from()
        XCTAssertEqual(from.displayName, "token1~` token2'+_ token3*%!.-")
        XCTAssertEqual(from.parameters["fromParam''~+*_!.-%"], "работающий")
        XCTAssertEqual(from.tag, "_token~1'+`*%!-.")
        XCTAssertEqual(try m.callID(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        XCTAssertEqual(m.header("extensionheader-!.%*+_`'~"), "大停電")
        XCTAssertEqual(try m.topVia().branch, "z9hG4bK-.!%66*_+`'~")
        XCTAssertEqual(try m.maxForwards(), 255)
    }

    func testEsc01() throws {
        let m = try parse(TM.esc01)
        let ruri = try XCTUnwrap(m.requestURI?.sipURI)
        XCTAssertEqual(ruri.userDecoded, "sips:user@example.com")
        XCTAssertEqual(ruri.host, "example.net")
        XCTAssertEqual(try m.to().uri.sipURI?.userDecoded, "user")
        XCTAssertEqual(try m.from().uri.sipURI?.userDecoded, "I have spaces")
        XCTAssertEqual(try m.callID(), "esc01.239409asdfakjkn23onasd0-3234")
        XCTAssertEqual(m.contentType, "application/sdp")
        let c = try XCTUnwrap(m.contacts().first?.uri.sipURI)
        XCTAssertEqual(c.userDecoded, "caller")
        XCTAssertTrue(c.parameters.contains("%6C%72"))
        XCTAssertEqual(c.parameters["n%61me"], "v%61lue%25%34%31")
        XCTAssertEqual(m.body.count, TM.sdpSmall.utf8.count)
    }

    func testLwsdispAndCompactLength() throws {
        let m = try parse(TM.lwsdisp)
        XCTAssertEqual(try m.from().displayName, "caller")
        XCTAssertEqual(try m.from().uri.description, "sip:caller@example.com")
        XCTAssertEqual(try m.contentLength(), 0)
        XCTAssertTrue(m.body.isEmpty)
    }

    func testLongreq() throws {
        let m = try parse(TM.longreq)
        XCTAssertEqual(try m.vias().count, 34)
        XCTAssertEqual(try m.vias().first?.host, "sip34.example.com")
        XCTAssertEqual(try m.vias().last?.host, "sip1.example.com")
        XCTAssertEqual(try m.to().uri.sipURI?.port, 6000)
        XCTAssertEqual(try m.from().tag, "12" + String(repeating: "982", count: 100) + "424")
        XCTAssertEqual(m.body, Array(TM.sdpSmall.utf8))
    }

    func testResponses() throws {
        let u = try parse(TM.unreason)
        XCTAssertEqual(u.statusCode, 200)
        if case .response(_, let reason) = u.startLine { XCTAssertEqual(reason, "= 2**3 * 5**2 но сто девяносто девять - простое") }
        let n = try parse(TM.noreason)
        XCTAssertEqual(n.statusCode, 100)
        if case .response(_, let reason) = n.startLine { XCTAssertEqual(reason, "") }
    }

    func testUnknownSchemeAndIPv6() throws {
        let m = try parse(TM.unknownScheme)
        XCTAssertEqual(m.requestURI, .other("nobodyKnowsThisScheme:totallyopaquecontent"))
        let r = try parse(TM.ipv6)
        XCTAssertEqual(r.requestURI?.sipURI?.host, "[2001:db8::10]")
        XCTAssertEqual(r.requestURI?.sipURI?.hostAddress, "2001:db8::10")
        let via = try r.topVia()
        XCTAssertEqual(via.host, "[2001:db8::9:1]")
        XCTAssertEqual(via.port, 5070)
        XCTAssertEqual(via.received, "2001:db8::9:255")
        XCTAssertEqual(via.rport, 5070)
        let c = try XCTUnwrap(r.contacts().first)
        XCTAssertEqual(c.displayName, "Caller")
        XCTAssertEqual(c.uri.sipURI?.host, "[2001:db8::1]")
        XCTAssertEqual(c.uri.sipURI?.port, 5060)
    }

    /// More valid RFC 4475 shapes: escnull, semiuri, transports, zeromf, cparam01, inv2543, mpart01.
    func testMoreValidTortureShapes() throws {
        let escnull = try parse(TM.msg([
            "REGISTER sip:example.com SIP/2.0",
            "To: sip:null-%00-null@example.com",
            "From: sip:null-%00-null@example.com;tag=839923423",
            "Max-Forwards: 70",
            "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
            "CSeq: 14398234 REGISTER",
            "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw",
            "Contact: <sip:%00@host5.example.com>",
            "Contact: <sip:%00%00@host5.example.com>",
            "L:0",
        ]))
        XCTAssertEqual(try escnull.to().uri.sipURI?.userDecoded, "null-\u{00}-null")
        XCTAssertEqual(try escnull.contacts().count, 2)

        let semiuri = try parse(TM.msg([
            "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0",
            "To: sip:j_user@example.com",
            "From: sip:caller@example.org;tag=33242",
            "Max-Forwards: 3",
            "Call-ID: semiuri.0ha0isndaksdj",
            "CSeq: 8 OPTIONS",
            "Accept: application/sdp, application/pkcs7-mime,",
            "        multipart/mixed, multipart/signed,",
            "        message/sip, message/sipfrag",
            "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw",
            "l: 0",
        ]))
        XCTAssertEqual(semiuri.requestURI?.sipURI?.user, "user;par=u%40example.net")
        XCTAssertEqual(semiuri.requestURI?.sipURI?.host, "example.com")
        XCTAssertEqual(try semiuri.headerValues("Accept").count, 6)

        let transports = try parse(TM.msg([
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: <sip:caller@example.com>;tag=323",
            "Max-Forwards: 70",
            "Call-ID:  transports.kijh4akdnaqjkwendsasfdj",
            "Accept: application/sdp",
            "CSeq: 60 OPTIONS",
            "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw",
            "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
            "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
            "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
            "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
            "l: 0",
        ]))
        XCTAssertEqual(try transports.vias().map(\.transport), ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])

        let zeromf = try parse(TM.msg([
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=3ew332",
            "Max-Forwards: 0",
            "Call-ID: zeromf.89349d9fnwnd",
            "CSeq: 3923239 OPTIONS",
            "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw",
            "l: 0",
        ]))
        XCTAssertEqual(try zeromf.maxForwards(), 0)

        let cparam = try parse(TM.msg([
            "REGISTER sip:example.com SIP/2.0",
            "Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe",
            "To: sip:watson@example.com",
            "Call-ID: cparam01.70710@saturn.example.com",
            "CSeq: 2 REGISTER",
            "Contact: sip:+19725552222@gw1.example.net;unknownparam",
            "l: 0",
        ]))
        let c = try XCTUnwrap(cparam.contacts().first)
        XCTAssertTrue(c.parameters.contains("unknownparam"), "without <>, ;params belong to the header")
        XCTAssertTrue(c.uri.sipURI?.parameters.isEmpty ?? false)

        // An RFC 2543 INVITE: no branch cookie, no Max-Forwards; its transaction key falls back on Call-ID/CSeq.
        let inv2543 = try parse(TM.msg([
            "INVITE sip:UserB@example.com SIP/2.0",
            "Via: SIP/2.0/UDP iftgw.example.com",
            "From: <sip:+13035551111@ift.client.example.net;user=phone>",
            "Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>",
            "To: sip:+16505552222@ss1.example.net;user=phone",
            "Call-ID: inv2543.1717@ift.client.example.com",
            "CSeq: 56 INVITE",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ], body: TM.sdpSmall))
        XCTAssertEqual(try SIPTransactionKey.server(for: inv2543).branch, "2543:inv2543.1717@ift.client.example.com:56")
        // Without <>, ";user=phone" is a header parameter (RFC 3261 §20), not a URI parameter.
        XCTAssertEqual(try inv2543.to().parameters["user"], "phone")
        XCTAssertNil(try inv2543.to().uri.telephoneNumber)
        XCTAssertEqual(try inv2543.from().uri.telephoneNumber, "+13035551111")

        let boundary = "7a9cbec02ceef655"
        let multipart = "--\(boundary)\r\nContent-Type: text/plain\r\n\r\nhello\r\n--\(boundary)--\r\n"
        let mpart = try parse(TM.msg([
            "MESSAGE sip:kumiko@example.org SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "From: \"Bob\" <sip:bob@example.org>;tag=2c2fd",
            "To: <sip:kumiko@example.org>",
            "Call-ID: mpart01.0r9t@192.0.2.1",
            "CSeq: 1 MESSAGE",
            "Content-Type: multipart/mixed;boundary=\(boundary)",
            "Content-Length: {CL}",
        ], body: multipart))
        XCTAssertEqual(mpart.contentType, "multipart/mixed")
        XCTAssertEqual(mpart.body, Array(multipart.utf8))
    }

    func testInvalidTortureMessagesAreRejected() {
        assertRejected(TM.badinv01) { if case .badHeaderValue = $0 { return true }; return false }
        assertRejected(TM.clerr) { $0 == .contentLengthMismatch(declared: 9999, available: 55) }
        assertRejected(TM.scalar02) { if case .badHeaderValue(let h, _) = $0 { return h == "CSeq" }; return false }
        assertRejected(TM.ltgtruri) { if case .badStartLine = $0 { return true }; return false }
        assertRejected(TM.lwsruri) { if case .badStartLine = $0 { return true }; return false }
        assertRejected(TM.lwsstart) { if case .badStartLine = $0 { return true }; return false }
        assertRejected(TM.trws) { if case .badStartLine = $0 { return true }; return false }
        assertRejected(TM.badvers) { $0 == .unsupportedVersion("SIP/7.0") }
        assertRejected(TM.mismatch01) { if case .badHeaderValue(let h, _) = $0 { return h == "CSeq" }; return false }
        assertRejected(TM.quotbal) { if case .badHeaderValue(let h, _) = $0 { return h == "To" }; return false }
        assertRejected(TM.insuf) { if case .missingHeader = $0 { return true }; return false }
        assertRejected(TM.bigcode) { if case .badStartLine = $0 { return true }; return false }
        assertRejected(TM.spaceInAngle) { if case .badHeaderValue = $0 { return true }; return false }
        assertRejected(Array("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n".utf8)) { $0 == .incompleteHeaders }
        assertRejected(Array("\r\n\r\n".utf8)) { $0 == .emptyMessage }
        assertRejected(Array("INVITE sip:a@b SIP/2.0\r\nNoColonHere\r\n\r\n".utf8)) { if case .badHeaderLine = $0 { return true }; return false }
        assertRejected(Array("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: -5\r\n\r\n".utf8)) {
            if case .badHeaderValue(let h, _) = $0 { return h == "Content-Length" }; return false
        }
        assertRejected([0x49, 0x4E, 0x56, 0xFF, 0x20, 0x0D, 0x0A, 0x0D, 0x0A]) { $0 == .invalidUTF8 }
    }

    /// Every prefix and a set of byte mutations of real messages must give a typed error or a message, never a trap.
    func testMutatedInputNeverCrashes() {
        let seeds = [TM.wsinv, TM.intmeth, TM.imsRegister, TM.imsInvite()]
        var count = 0
        for seed in seeds {
            for cut in stride(from: 0, to: seed.count, by: 7) { _ = try? SIPMessage(parsing: Array(seed[..<cut])); count += 1 }
            var rng: UInt32 = 12345
            for _ in 0..<300 {
                var m = seed
                for _ in 0..<4 {
                    rng = rng &* 1103515245 &+ 12345
                    let pos = Int(rng >> 8) % m.count
                    let bytes: [UInt8] = [0x00, 0x0A, 0x0D, 0x20, 0x22, 0x3C, 0x3E, 0x3B, 0x2C, 0x3A, 0x40, 0x5B, 0x5D, 0xFF, 0x25]
                    m[pos] = bytes[Int(rng >> 20) % bytes.count]
                }
                if let msg = try? SIPMessage(parsing: m) {
                    _ = try? msg.vias(); _ = try? msg.contacts(); _ = try? msg.authorization()
                    _ = try? SIPMessage(parsing: msg.serialized())
                }
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 1000)
    }

    func testIMSRegister() throws {
        let m = try parse(TM.imsRegister)
        XCTAssertEqual(m.method, "REGISTER")
        XCTAssertEqual(m.optionTags("Supported"), ["path", "sec-agree"])
        XCTAssertEqual(m.optionTags("Require"), ["sec-agree"])
        XCTAssertEqual(try m.expires(), 600000)
        let via = try m.topVia()
        XCTAssertEqual(via.hostAddress, "2001:db8:3000:1::2")
        XCTAssertEqual(via.rport, 0)
        let c = try XCTUnwrap(m.contacts().first)
        XCTAssertEqual(c.parameters["+sip.instance"], "<urn:gsma:imei:35902707-293054-0>")
        XCTAssertTrue(c.parameters.contains("+g.3gpp.smsip"))
        XCTAssertEqual(c.uri.sipURI?.host, "[2001:db8:3000:1::2]")
        let auth = try XCTUnwrap(m.authorization())
        XCTAssertEqual(auth.scheme, "Digest")
        XCTAssertEqual(auth["username"], "001010123456789@ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(auth["nonce"], "")
        XCTAssertEqual(auth["uri"], "sip:ims.mnc001.mcc001.3gppnetwork.org")
        let sc = try m.headerValues("Security-Client")
        XCTAssertEqual(sc.count, 2)
        XCTAssertTrue(sc[1].hasSuffix("alg=hmac-md5-96"))
        XCTAssertEqual(try m.headerValues("Allow").count, 11)
        let mech = try m.securityMechanisms()
        XCTAssertEqual(mech.map(\.mechanism), ["ipsec-3gpp", "ipsec-3gpp"])
        XCTAssertEqual(mech[0].parameters["alg"], "hmac-sha-1-96")
        XCTAssertEqual(mech[1].parameters["ealg"], "aes-cbc")
        XCTAssertEqual(mech[0].spiC, 1111); XCTAssertEqual(mech[0].spiS, 2222)
        XCTAssertEqual(mech[0].portC, 5062); XCTAssertEqual(mech[0].portS, 5064)
        XCTAssertEqual(m.header("P-Access-Network-Info"), "IEEE-802.11;i-wlan-node-id=ffffffffffff")
    }

    func testIMSInviteAndRoundTrip() throws {
        let m = try parse(TM.imsInvite())
        XCTAssertEqual(m.requestURI, .tel(TelURI(number: "666")))
        XCTAssertEqual(m.requestURI?.telephoneNumber, "666")
        XCTAssertTrue(m.optionTags("Supported").isSuperset(of: ["100rel", "precondition"]))
        XCTAssertEqual(try m.addresses("Route").first?.uri.sipURI?.host, "[2001:db8:3000:1::1]")
        XCTAssertEqual(m.body, Array(TM.amrwbSDP.utf8))
        // Round trip: serialize, parse again, same message; serialization is then a fixed point.
        let bytes = m.serialized()
        let again = try parse(bytes)
        XCTAssertEqual(again, m)
        XCTAssertEqual(again.serialized(), bytes)
        // The folded, compact torture message round-trips semantically too.
        let w = try parse(TM.wsinv)
        let w2 = try parse(w.serialized())
        XCTAssertEqual(w2, w)
        XCTAssertEqual(try w2.vias(), try w.vias())
    }

    func testSerializationFixesContentLength() throws {
        var m = SIPMessage.response(200)
        m.addHeader("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx")
        m.addHeader("Content-Length", "99")
        m.body = Array("hello".utf8)
        XCTAssertEqual(String(decoding: m.serialized(), as: UTF8.self),
                       "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nContent-Length: 5\r\n\r\nhello")
    }

    func testHeaderEditing() throws {
        var m = try parse(TM.wsinv)
        try m.removeFirstValue("Via")
        XCTAssertEqual(try m.vias().map(\.host), ["spindle.example.com", "192.168.255.111"])
        try m.removeFirstValue("v")
        XCTAssertEqual(try m.vias().map(\.host), ["192.168.255.111"])
        m.prependHeader("Via", SIPVia(transport: "UDP", host: "[2001:db8::1]", port: 5060, branch: "z9hG4bKnew").description)
        XCTAssertEqual(try m.topVia().branch, "z9hG4bKnew")
        XCTAssertEqual(try m.topVia().description, "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKnew")
        m.setHeader("Max-Forwards", "10")
        XCTAssertEqual(try m.maxForwards(), 10)
    }

    func testURIs() throws {
        let u = try SIPURI("sip:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x")
        XCTAssertEqual(u.user, "alice"); XCTAssertEqual(u.password, "secret")
        XCTAssertEqual(u.port, 5061); XCTAssertEqual(u.parameters["transport"], "tcp")
        XCTAssertTrue(u.parameters.contains("lr")); XCTAssertEqual(u.headers, "subject=x")
        XCTAssertEqual(u.description, "sip:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x")
        XCTAssertEqual(try SIPAnyURI("sip:+33-6-00.00(00)00@ims.example;user=phone").telephoneNumber, "+33600000000")
        XCTAssertEqual(try SIPAnyURI("tel:+1-201-555-0123;phone-context=example.com").telephoneNumber, "+12015550123")
        XCTAssertNil(try SIPAnyURI("sip:666@ims.example").telephoneNumber)
        XCTAssertThrowsError(try SIPURI("sip:user@host:99999"))
        XCTAssertThrowsError(try SIPURI("sip:user@[2001:db8::1"))
        XCTAssertThrowsError(try SIPURI("sip:us er@host"))
        XCTAssertThrowsError(try SIPURI("sip:@host"))
        XCTAssertThrowsError(try SIPAnyURI("tel:"))
    }

    func testCommaInsideQuotesAndAngles() throws {
        let m = try parse(TM.msg([
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
            "From: <sip:a@b>;tag=1", "To: <sip:a@b>;tag=2", "Call-ID: x", "CSeq: 1 REGISTER",
            "P-Associated-URI: \"Doe, John\" <sip:john@ims.example>, <tel:+15550100;foo=a,b>",
            "Contact: <sip:x@[2001:db8::2]:5060;ob>;expires=600, \"x,y\" <sip:y@h>;q=0.5",
            "Content-Length: 0",
        ]))
        let pau = try m.addresses("P-Associated-URI")
        XCTAssertEqual(pau.count, 2)
        XCTAssertEqual(pau[0].displayName, "Doe, John")
        XCTAssertEqual(pau[1].uri.description, "tel:+15550100;foo=a,b")
        let c = try m.contacts()
        XCTAssertEqual(c.count, 2)
        XCTAssertEqual(c[0].parameters["expires"], "600")
        XCTAssertEqual(c[1].displayName, "x,y")
    }

    func testStreamFramer() throws {
        let a = TM.imsInvite(), b = TM.lwsdisp
        var f = SIPStreamFramer()
        var stream = Array("\r\n\r\n".utf8) + a + b
        var out: [[UInt8]] = []
        // Feed in awkward chunks.
        while !stream.isEmpty {
            let n = min(13, stream.count)
            f.append(stream.prefix(n)); stream.removeFirst(n)
            while let m = try f.nextMessage() { out.append(m) }
        }
        XCTAssertEqual(out, [a, b])
        XCTAssertEqual(f.bufferedCount, 0)
        var g = SIPStreamFramer()
        g.append(Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n".utf8))
        XCTAssertThrowsError(try g.nextMessage()) { XCTAssertEqual($0 as? SIPParseError, .missingHeader("Content-Length")) }
        var h = SIPStreamFramer(maxMessageSize: 100)
        h.append([UInt8](repeating: 0x41, count: 200))
        XCTAssertThrowsError(try h.nextMessage())
    }
}
