import TestSupport
import XCTest
import AKA
import SIP
@testable import IMS

func summary(_ x: (SIPMessage, SIPPeer)) -> String {
    "\(x.0.statusCode ?? 0) \((try? x.0.cseq().method) ?? "?")"
}

/// Request builders shared by the call and robustness tests.
extension XCTestCase {
    func offerSDP(_ ue: TestUE, local: String = "none", port: Int = 31000) -> String {
        [
            "v=0", "o=rue 3251 3251 IN IP6 \(ue.peer.address)", "s=-", "b=AS:41", "t=0 0",
            "m=audio \(port) RTP/AVP 116 107 118 96 111 110", "c=IN IP6 \(ue.peer.address)", "b=AS:41",
            "a=rtpmap:116 AMR-WB/16000/1", "a=fmtp:116 mode-change-capability=2;max-red=0",
            "a=rtpmap:107 AMR-WB/16000/1", "a=fmtp:107 octet-align=1;mode-change-capability=2;max-red=0",
            "a=rtpmap:118 AMR/8000/1", "a=fmtp:118 octet-align=1;mode-change-capability=2;max-red=0",
            "a=rtpmap:96 AMR/8000/1", "a=fmtp:96 mode-change-capability=2;max-red=0",
            "a=rtpmap:111 telephone-event/16000", "a=fmtp:111 0-15", "a=rtpmap:110 telephone-event/8000", "a=fmtp:110 0-15",
            "a=curr:qos local \(local)", "a=curr:qos remote none", "a=des:qos mandatory local sendrecv",
            "a=des:qos optional remote sendrecv", "a=sendrecv", "a=rtcp:\(port + 1)", "a=ptime:20", "a=maxptime:240",
        ].joined(separator: "\r\n") + "\r\n"
    }

    func request(_ ue: TestUE, _ method: String, uri: String, callID: String, cseq: Int, branch: String, toTag: String? = nil,
                 to: String? = nil, extra: [String] = [], sdp: String? = nil, route: Bool = true) -> [UInt8] {
        var lines = [
            "\(method) \(uri) SIP/2.0",
            "Via: \(ue.via(branch))",
            "Max-Forwards: 70",
        ]
        if route { lines.append("Route: <sip:[\(pcscf6)]:5060;lr>") }
        lines += [
            "From: <\(ue.impu)>;tag=\(ue.tag)c",
            "To: <\(to ?? uri)>" + (toTag.map { ";tag=\($0)" } ?? ""),
            "Call-ID: \(callID)",
            "CSeq: \(cseq) \(method == "ACK" || method == "CANCEL" ? (method == "ACK" && cseq == 1 ? "ACK" : method) : method)",
            "Contact: <\(ue.contactURI)>;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
            "P-Access-Network-Info: IEEE-802.11;i-wlan-node-id=ffffffffffff",
        ]
        lines += extra
        if let sdp { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(sdp?.utf8.count ?? 0)")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + (sdp ?? "")).utf8)
    }

    func inviteExtras(precondition: Bool = true) -> [String] {
        ["Supported: 100rel,timer" + (precondition ? ",precondition" : "") + ",replaces,sec-agree",
         "Allow: INVITE,ACK,OPTIONS,BYE,CANCEL,UPDATE,INFO,PRACK,NOTIFY,MESSAGE,REFER",
         "Session-Expires: 1800", "Min-SE: 90", "P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel"]
    }

}

final class IMSCallTests: XCTestCase {
    func testEchoCallWithPreconditionsPRACKUpdate() throws {
        let (ims, _) = makeIMS()
        let a = ue(1)
        try registerUE(ims, a)
        let cid = "echo-1@2001:db8:3000:1::2"
        // INVITE tel:666 → 100 Trying, media port opened, 183 with the answer sent reliably.
        let inv = ims.receive(datagram: request(a, "INVITE", uri: "tel:666", callID: cid, cseq: 1, branch: "z9hG4bKinv1",
                                                extra: inviteExtras(), sdp: offerSDP(a)), from: a.peer, now: 10)
        let s1 = sent(inv)
        XCTAssertEqual(s1.map { $0.0.statusCode }, [100, 183])
        let media = IMSMediaSession(id: cid, localAddress: pcscf6, localRTPPort: 10000, localRTCPPort: 10001,
                                    remoteAddress: a.peer.address, remoteRTPPort: 31000, remoteRTCPPort: 31001,
                                    payloadType: "116", encoding: "AMR-WB")
        XCTAssertTrue(inv.contains(.openMedia(media)))
        XCTAssertTrue(events(inv).contains(.callStarted(callID: cid, from: a.impu, to: "tel:666", kind: "echo")))
        let p183 = s1[1].0
        XCTAssertEqual(p183.header("Require"), "100rel, precondition")
        XCTAssertEqual(p183.header("RSeq"), "1")
        let toTag = try XCTUnwrap(p183.to().tag)
        XCTAssertEqual(try p183.contacts().first?.uri.description, "sip:[\(pcscf6)]:5060")
        let answer = String(decoding: p183.body, as: UTF8.self)
        XCTAssertEqual(answer, [
            "v=0", "o=- 10000 1 IN IP6 \(pcscf6)", "s=-", "c=IN IP6 \(pcscf6)", "t=0 0",
            "m=audio 10000 RTP/AVP 116 111",
            "a=rtpmap:116 AMR-WB/16000/1", "a=fmtp:116 mode-change-capability=2;max-red=0",
            "a=rtpmap:111 telephone-event/16000", "a=fmtp:111 0-15", "a=ptime:20", "a=maxptime:240",
            "a=curr:qos local sendrecv", "a=curr:qos remote none", "a=des:qos mandatory local sendrecv",
            "a=des:qos mandatory remote sendrecv", "a=conf:qos remote sendrecv", "a=sendrecv",
        ].joined(separator: "\r\n") + "\r\n")

        // No PRACK yet: the 183 is retransmitted after T1.
        XCTAssertEqual(sent(ims.tick(now: 10.5)).map { $0.0.statusCode }, [183])

        // PRACK → 200 (PRACK); preconditions not met yet, so nothing else.
        let prack = ims.receive(datagram: request(a, "PRACK", uri: "sip:[\(pcscf6)]:5060", callID: cid, cseq: 2, branch: "z9hG4bKprack1",
                                                  toTag: toTag, to: "tel:666", extra: ["RAck: 1 1 INVITE"]), from: a.peer, now: 11)
        XCTAssertEqual(sent(prack).map(summary), ["200 PRACK"])
        XCTAssertEqual(sent(ims.tick(now: 12)).count, 0, "183 retransmission stopped")

        // UPDATE with local QoS ready → 200 (UPDATE) with the answer, then 180 and 200 (INVITE).
        let upd = ims.receive(datagram: request(a, "UPDATE", uri: "sip:[\(pcscf6)]:5060", callID: cid, cseq: 3, branch: "z9hG4bKupd1",
                                                toTag: toTag, to: "tel:666", sdp: offerSDP(a, local: "sendrecv")), from: a.peer, now: 12)
        let s3 = sent(upd)
        XCTAssertEqual(s3.map(summary), ["200 UPDATE", "180 INVITE", "200 INVITE"])
        let updAnswer = String(decoding: s3[0].0.body, as: UTF8.self)
        XCTAssertTrue(updAnswer.contains("o=- 10000 2 IN IP6"))
        XCTAssertTrue(updAnswer.contains("a=curr:qos remote sendrecv"))
        XCTAssertFalse(updAnswer.contains("a=conf:qos"))
        let ok = s3[2].0
        XCTAssertTrue(ok.body.isEmpty, "the answer was already given in the 183")
        XCTAssertEqual(ok.header("Session-Expires"), "1800;refresher=uac")
        XCTAssertEqual(try ok.to().tag, toTag)

        // Without ACK the 2xx is retransmitted (T1, then 2*T1...).
        XCTAssertEqual(sent(ims.tick(now: 12.5)).map { $0.0.statusCode }, [200])
        // ACK stops it.
        XCTAssertEqual(ims.receive(datagram: request(a, "ACK", uri: "sip:[\(pcscf6)]:5060", callID: cid, cseq: 1, branch: "z9hG4bKack1",
                                                     toTag: toTag, to: "tel:666"), from: a.peer, now: 12.6), [])
        XCTAssertEqual(sent(ims.tick(now: 20)).count, 0)
        XCTAssertEqual(ims.activeEchoCalls, [cid])
        XCTAssertEqual(ims.dialogs, [IMSDialogInfo(callID: cid, kind: .echo, state: .start, from: a.impu, to: "tel:666", media: media)])

        // BYE → 200 and the media port closes.
        let bye = ims.receive(datagram: request(a, "BYE", uri: "sip:[\(pcscf6)]:5060", callID: cid, cseq: 4, branch: "z9hG4bKbye1",
                                                toTag: toTag, to: "tel:666"), from: a.peer, now: 30)
        XCTAssertEqual(sent(bye).map(summary), ["200 BYE"])
        XCTAssertTrue(bye.contains(.closeMedia(id: cid)))
        XCTAssertTrue(events(bye).contains(.callEnded(callID: cid, reason: "BYE")))
        XCTAssertTrue(ims.activeEchoCalls.isEmpty)
    }

    func testEchoWithoutPreconditionsOrReliableProvisionals() throws {
        let (ims, _) = makeIMS(precondition: .off)
        let a = ue(1)
        try registerUE(ims, a)
        // sip:666@domain;user=phone matches the tel:666 echo entry.
        let s = sent(ims.receive(datagram: request(a, "INVITE", uri: "sip:666@\(domain);user=phone", callID: "e2", cseq: 1,
                                                   branch: "z9hG4bKe2", extra: ["Supported: timer"], sdp: offerSDP(a, local: "sendrecv")),
                                 from: a.peer, now: 0))
        XCTAssertEqual(s.map { $0.0.statusCode }, [100, 180, 200])
        let sdp = try SDPSession(parsing: s[2].0.body)
        XCTAssertEqual(sdp.media.first?.formats, ["116", "111"])
        XCTAssertEqual(s[2].0.contentType, "application/sdp")
        XCTAssertNil(s[2].0.header("RSeq"))
    }

    func testEchoCodeEntryUnknownAndUnregistered() throws {
        let (ims, _) = makeIMS()
        let a = ue(1)
        try registerUE(ims, a)
        func status(_ uri: String, _ id: String) -> [Int?] {
            sent(ims.receive(datagram: request(a, "INVITE", uri: uri, callID: id, cseq: 1, branch: "z9hG4bK" + id,
                                               extra: inviteExtras(), sdp: offerSDP(a)), from: a.peer, now: 1)).map { $0.0.statusCode }
        }
        XCTAssertEqual(status("tel:404", "c404"), [100, 404])
        XCTAssertEqual(status("tel:+33999999", "cunk"), [100, 404])
        XCTAssertEqual(status("tel:0600000005", "c480"), [100, 480], "known IMPU, not registered")
        // An unregistered caller is refused.
        let stranger = TestUE(imsi: "001010000000005", address: "2001:db8:3000:1::77")
        XCTAssertEqual(sent(ims.receive(datagram: request(stranger, "INVITE", uri: "tel:666", callID: "c403", cseq: 1, branch: "z9hG4bKc403",
                                                          sdp: offerSDP(stranger)), from: stranger.peer, now: 2)).map { $0.0.statusCode }, [100, 403])
    }

    func testCancelEchoBeforeAnswer() throws {
        let (ims, _) = makeIMS()
        let a = ue(1)
        try registerUE(ims, a)
        let s = sent(ims.receive(datagram: request(a, "INVITE", uri: "tel:666", callID: "cx", cseq: 1, branch: "z9hG4bKcx",
                                                   extra: inviteExtras(), sdp: offerSDP(a)), from: a.peer, now: 0))
        XCTAssertEqual(s.map { $0.0.statusCode }, [100, 183])
        let out = ims.receive(datagram: request(a, "CANCEL", uri: "tel:666", callID: "cx", cseq: 1, branch: "z9hG4bKcx"), from: a.peer, now: 1)
        XCTAssertEqual(sent(out).map(summary), ["200 CANCEL", "487 INVITE"])
        XCTAssertTrue(out.contains(.closeMedia(id: "cx")))
    }

    func testCallBetweenTwoRegisteredPhones() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        let cid = "a2b@2001:db8:3000:1::2"
        let inv = sent(ims.receive(datagram: request(a, "INVITE", uri: "tel:0600000002", callID: cid, cseq: 1, branch: "z9hG4bKa2b",
                                                     extra: inviteExtras(), sdp: offerSDP(a)), from: a.peer, now: 0))
        XCTAssertEqual(inv.count, 1)
        let (fwd, dest) = inv[0]
        // Like a real phone's, this INVITE is over 1300 bytes once proxied: TCP (RFC 3261 §18.1.1).
        XCTAssertGreaterThan(fwd.serialized().count, 1300)
        XCTAssertEqual(dest, SIPPeer(address: b.peer.address, port: b.peer.port, transport: .tcp))
        XCTAssertEqual(fwd.requestURI?.description, b.contactURI)
        let vias = try fwd.vias()
        XCTAssertEqual(vias.count, 2)
        XCTAssertEqual(vias[0].host, "[\(pcscf6)]")
        XCTAssertEqual(vias[0].transport, "TCP")
        XCTAssertEqual(vias[0].branch, "z9hG4bKvwc.z9hG4bKa2b")
        XCTAssertEqual(vias[1].received, a.peer.address)
        XCTAssertEqual(vias[1].rport, 5060)
        XCTAssertEqual(fwd.header("Record-Route"), "<sip:[\(pcscf6)]:5060;lr>")
        XCTAssertTrue(fwd.headerLines("Route").isEmpty, "our own Route is consumed")
        XCTAssertEqual(try fwd.maxForwards(), 69)
        XCTAssertEqual(fwd.body, Array(offerSDP(a).utf8))

        // B answers 180 then 200: each goes back to A without our Via.
        func respond(_ code: Int) -> (SIPMessage, SIPPeer) {
            var r = SIPMessage.testResponse(to: fwd, code, toTag: "btag")
            r.addHeader("Record-Route", fwd.header("Record-Route")!)
            r.addHeader("Contact", "<\(b.contactURI)>")
            return sent(ims.receive(datagram: r.serialized(), from: b.peer, now: 1))[0]
        }
        let (ringing, to180) = respond(180)
        XCTAssertEqual(to180, a.peer)
        XCTAssertEqual(try ringing.vias().count, 1)
        XCTAssertEqual(try ringing.topVia().branch, "z9hG4bKa2b")
        let (ok, toOK) = respond(200)
        XCTAssertEqual(ok.statusCode, 200)
        XCTAssertEqual(toOK, a.peer)

        // ACK and BYE from A follow the Record-Route and reach B's contact.
        let ack = sent(ims.receive(datagram: request(a, "ACK", uri: b.contactURI, callID: cid, cseq: 1, branch: "z9hG4bKa2back",
                                                     toTag: "btag", to: "tel:0600000002"), from: a.peer, now: 2))
        XCTAssertEqual(ack.first?.1, b.peer)
        XCTAssertEqual(ack.first?.0.method, "ACK")
        let bye = ims.receive(datagram: request(a, "BYE", uri: b.contactURI, callID: cid, cseq: 2, branch: "z9hG4bKa2bbye",
                                                toTag: "btag", to: "tel:0600000002"), from: a.peer, now: 3)
        XCTAssertEqual(sent(bye).first?.1, b.peer)
        XCTAssertTrue(events(bye).contains(.callEnded(callID: cid, reason: "BYE")))

        // MESSAGE A → B is relayed too.
        let msg = sent(ims.receive(datagram: request(a, "MESSAGE", uri: "tel:0600000002", callID: "sms1", cseq: 1, branch: "z9hG4bKsms",
                                                     extra: ["Content-Type: text/plain"]), from: a.peer, now: 4))
        XCTAssertEqual(msg.first?.1, b.peer)
        XCTAssertEqual(msg.first?.0.method, "MESSAGE")
        XCTAssertNil(msg.first?.0.header("Record-Route"))
    }

    func testProxiedCancelFollowsTheInvite() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        let inv = sent(ims.receive(datagram: request(a, "INVITE", uri: "tel:0600000002", callID: "cc", cseq: 1, branch: "z9hG4bKcc1",
                                                     extra: inviteExtras(), sdp: offerSDP(a)), from: a.peer, now: 0))
        let cancel = sent(ims.receive(datagram: request(a, "CANCEL", uri: "tel:0600000002", callID: "cc", cseq: 1, branch: "z9hG4bKcc1"),
                                      from: a.peer, now: 1))
        XCTAssertEqual(cancel.first?.1, inv.first?.1, "to B the way the INVITE went (TCP: it is over 1300 bytes)")
        XCTAssertEqual(cancel.first?.1.address, b.peer.address)
        XCTAssertEqual(cancel.first?.0.method, "CANCEL")
        XCTAssertEqual(try cancel.first?.0.topVia(), try inv.first?.0.topVia(), "the INVITE's Via (RFC 3261 §9.1)")
        XCTAssertEqual(cancel.first?.0.requestURI, inv.first?.0.requestURI, "same Request-URI as the forwarded INVITE")
        XCTAssertEqual(try cancel.first?.0.topVia().branch, try inv.first?.0.topVia().branch, "same branch, so B matches it")
        // A call to a phone that is not registered yet is not proxied: 480.
        XCTAssertEqual(sent(ims.receive(datagram: request(a, "MESSAGE", uri: "tel:0600000004", callID: "m4", cseq: 1, branch: "z9hG4bKm4"),
                                        from: a.peer, now: 2)).first?.0.statusCode, 480)
    }

    func testMTCallPRACKAckAndBye() throws {
        let (ims, _) = makeIMS()
        let b = ue(2)
        try registerUE(ims, b)
        XCTAssertNil(ims.mtCall("tel:0600000009", now: 1).callID, "nobody registered there")
        let (cidOpt, start) = ims.mtCall("tel:0600000002", now: 1)
        let cid = try XCTUnwrap(cidOpt)
        let inv = try XCTUnwrap(sent(start).first)
        XCTAssertEqual(inv.1, b.peer)
        XCTAssertEqual(inv.0.method, "INVITE")
        XCTAssertEqual(inv.0.requestURI?.description, b.contactURI)
        XCTAssertEqual(inv.0.optionTags("Supported"), ["100rel"])
        let offer = try SDPSession(parsing: inv.0.body)
        XCTAssertEqual(offer.media.first?.port, 10000)
        XCTAssertEqual(offer.media.first?.rtpmap("116")?.encoding, "AMR-WB")
        XCTAssertTrue(events(start).contains(.callStarted(callID: cid, from: "sip:mt@\(domain)", to: "tel:0600000002", kind: "mt call")))

        func answer(_ code: Int, extra: [(String, String)] = [], sdp: String? = nil) -> [IMSAction] {
            var r = SIPMessage.testResponse(to: inv.0, code, toTag: "ue2")
            r.addHeader("Contact", "<\(b.contactURI)>")
            for (n, v) in extra { r.addHeader(n, v) }
            if let sdp { r.addHeader("Content-Type", "application/sdp"); r.body = Array(sdp.utf8) }
            return ims.receive(datagram: r.serialized(), from: b.peer, now: 2)
        }
        // A reliable 183 with the answer: PRACK goes out and the echo opens towards the phone.
        let early = answer(183, extra: [("Require", "100rel"), ("RSeq", "7")], sdp: offerSDP(b, local: "sendrecv", port: 40000))
        let prack = try XCTUnwrap(sent(early).first)
        XCTAssertEqual(prack.0.method, "PRACK")
        XCTAssertEqual(prack.0.header("RAck"), "7 1 INVITE")
        XCTAssertEqual(prack.0.requestURI?.description, b.contactURI)
        XCTAssertEqual(try prack.0.to().tag, "ue2")
        XCTAssertTrue(early.contains(.openMedia(IMSMediaSession(id: cid, localAddress: pcscf6, localRTPPort: 10000, localRTCPPort: 10001,
                                                                 remoteAddress: b.peer.address, remoteRTPPort: 40000, remoteRTCPPort: 40001,
                                                                 payloadType: "116", encoding: "AMR-WB"))))
        // 200 → ACK (also for a retransmitted 200).
        let ok = sent(answer(200))
        XCTAssertEqual(ok.map { $0.0.method }, ["ACK"])
        XCTAssertEqual(try ok.first?.0.cseq(), SIPCSeq(sequence: 1, method: "ACK"))
        XCTAssertEqual(sent(answer(200)).map { $0.0.method }, ["ACK"])
        XCTAssertEqual(ims.dialogs.first { $0.callID == cid }?.state, .start)
        // The phone hangs up.
        let bye = ims.receive(datagram: request(b, "BYE", uri: "sip:[\(pcscf6)]:5060", callID: cid, cseq: 5, branch: "z9hG4bKmtbye",
                                                toTag: "x", to: "sip:mt@\(domain)", route: false), from: b.peer, now: 3)
        XCTAssertEqual(sent(bye).map(summary), ["200 BYE"])
        XCTAssertTrue(bye.contains(.closeMedia(id: cid)))
        XCTAssertTrue(ims.dialogs.isEmpty)
    }

    func testRTPEcho() {
        var echo = RTPEcho(expectedAddress: "2001:db8:3000:1::2")
        let rtp: [UInt8] = [0x80, 0x74, 0x00, 0x01, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78, 0xF0, 0x44]
        let back = echo.receive(rtp, from: "2001:db8:3000:1::2", port: 31000, kind: .rtp)
        XCTAssertEqual(back?.bytes, rtp)
        XCTAssertEqual(back?.address, "2001:db8:3000:1::2")
        XCTAssertEqual(back?.port, 31000)
        let rtcp: [UInt8] = [0x81, 0xC8, 0x00, 0x06, 0x12, 0x34, 0x56, 0x78]
        XCTAssertEqual(echo.receive(rtcp, from: "2001:db8:3000:1::2", port: 31001, kind: .rtcp)?.port, 31001)
        XCTAssertNil(echo.receive(rtp, from: "203.0.113.5", port: 31000, kind: .rtp), "other hosts are not reflected")
        XCTAssertNil(echo.receive([0x40, 0, 0], from: "2001:db8:3000:1::2", port: 31000, kind: .rtp))
        XCTAssertEqual(echo.rtpPackets, 1)
        XCTAssertEqual(echo.rtcpPackets, 1)
        XCTAssertEqual(echo.dropped, 2)
    }
}
