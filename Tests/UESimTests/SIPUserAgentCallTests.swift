import XCTest
import SIP
@testable import UESim

final class SIPUserAgentCallTests: XCTestCase {
    let answerSDP = "v=0\r\no=- 77 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
        + "m=audio 40000 RTP/AVP 97 100\r\na=rtpmap:97 AMR-WB/16000/1\r\na=fmtp:97 mode-change-capability=2\r\n"
        + "a=rtpmap:100 telephone-event/16000\r\n"
        + "a=curr:qos local sendrecv\r\na=curr:qos remote none\r\n"
        + "a=des:qos mandatory local sendrecv\r\na=des:qos mandatory remote sendrecv\r\na=conf:qos remote sendrecv\r\na=sendrecv\r\n"

    /// INVITE tel:666 → 100 → 183 (100rel, SDP) → PRACK → 200 → UPDATE → 200 → 180 (100rel) → PRACK → 200 INVITE → ACK → BYE.
    func testOutgoingCallWithPreconditionsPrackUpdateAck() throws {
        var ua = SIPUserAgent(config: Net.config())
        let inv = try XCTUnwrap(Net.sent(try ua.invite("666", now: 0)).first)
        XCTAssertEqual(inv.method, "INVITE")
        XCTAssertEqual(inv.requestURI?.description, "tel:666")
        XCTAssertEqual(try inv.to().uri.description, "tel:666")
        XCTAssertEqual(try inv.cseq(), SIPCSeq(sequence: 1, method: "INVITE"))
        XCTAssertEqual(inv.optionTags("Supported"), ["100rel", "precondition", "timer"])
        XCTAssertEqual(inv.headerLines("Route"), ["<sip:198.51.100.10:5060;lr>"])
        XCTAssertEqual(try inv.contacts().first?.uri.description, "sip:001010000000001@198.18.0.2:5060")
        XCTAssertEqual(inv.contentType, "application/sdp")
        let offer = try SessionDescription(parsing: inv.body)
        XCTAssertEqual(offer.address, "198.18.0.2")
        XCTAssertEqual(offer.port, 50000)
        XCTAssertEqual(offer.codecs.map(\.name), ["AMR-WB", "AMR", "telephone-event", "telephone-event"])
        XCTAssertEqual(offer.speechCodec?.payloadType, 97)
        XCTAssertTrue(String(decoding: inv.body, as: UTF8.self).contains("a=rtpmap:97 AMR-WB/16000/1\r\n"))
        XCTAssertTrue(String(decoding: inv.body, as: UTF8.self).contains("a=curr:qos local none\r\na=curr:qos remote none\r\na=des:qos mandatory local sendrecv\r\n"))
        XCTAssertEqual(ua.nextDeadline, 0.5)   // timer A

        XCTAssertTrue(Net.events(ua.receive(Net.response("100 Trying", to: inv, toTag: nil), from: Net.pcscf, now: 0.05)).isEmpty)
        XCTAssertEqual(ua.nextDeadline, 32)    // A cancelled, B left

        let rr = ["Record-Route: <sip:scscf.example:6060;lr>", "Record-Route: <sip:198.51.100.10:5060;lr>"]
        let p183 = Net.response("183 Session Progress", to: inv, toTag: "callee1",
                                extra: rr + ["Contact: <sip:callee@203.0.113.5:5060>", "Require: 100rel, precondition", "RSeq: 1"], body: answerSDP)
        let out183 = ua.receive(p183, from: Net.pcscf, now: 0.1)
        XCTAssertEqual(Net.events(out183), [.callProgress(status: 183), .prackSent(rseq: 1)])
        let prack = try XCTUnwrap(Net.sent(out183).first)
        XCTAssertEqual(prack.method, "PRACK")
        XCTAssertEqual(prack.header("RAck"), "1 1 INVITE")
        XCTAssertEqual(try prack.cseq(), SIPCSeq(sequence: 2, method: "PRACK"))
        XCTAssertEqual(prack.requestURI?.description, "sip:callee@203.0.113.5:5060")
        XCTAssertEqual(prack.headerLines("Route"), ["<sip:198.51.100.10:5060;lr>", "<sip:scscf.example:6060;lr>"])   // reversed
        XCTAssertEqual(try prack.to().tag, "callee1")
        XCTAssertEqual(try prack.callID(), try inv.callID())
        XCTAssertEqual(ua.callMedia, RemoteMedia(address: "203.0.113.5", port: 40000, payloadType: 97, codec: "AMR-WB", clockRate: 16000))

        // Retransmitted 183 (same RSeq) is not PRACKed again.
        XCTAssertFalse(Net.events(ua.receive(p183, from: Net.pcscf, now: 0.15)).contains(.prackSent(rseq: 1)))

        // 200 to PRACK → UPDATE confirming local QoS (RFC 3312).
        let outP = ua.receive(Net.response("200 OK", to: prack), from: Net.pcscf, now: 0.2)
        XCTAssertEqual(Net.events(outP), [.updateSent])
        let update = try XCTUnwrap(Net.sent(outP).first)
        XCTAssertEqual(update.method, "UPDATE")
        XCTAssertEqual(try update.cseq(), SIPCSeq(sequence: 3, method: "UPDATE"))
        let upd = try SessionDescription(parsing: update.body)
        XCTAssertEqual(upd.version, 2)
        XCTAssertTrue(upd.preconditions.contains(.init(kind: "curr", side: "local", direction: "sendrecv")))
        XCTAssertTrue(upd.preconditions.contains(.init(kind: "curr", side: "remote", direction: "sendrecv")))
        XCTAssertTrue(Net.events(ua.receive(Net.response("200 OK", to: update, body: answerSDP), from: Net.pcscf, now: 0.25)).isEmpty)

        // 180 with the next RSeq → PRACK with RAck 2 1 INVITE.
        let p180 = Net.response("180 Ringing", to: inv, toTag: "callee1",
                                extra: rr + ["Contact: <sip:callee@203.0.113.5:5060>", "Require: 100rel", "RSeq: 2"])
        let out180 = ua.receive(p180, from: Net.pcscf, now: 0.3)
        XCTAssertEqual(Net.events(out180), [.callProgress(status: 180), .prackSent(rseq: 2)])
        let prack2 = try XCTUnwrap(Net.sent(out180).first)
        XCTAssertEqual(prack2.header("RAck"), "2 1 INVITE")
        XCTAssertEqual(try prack2.cseq().sequence, 4)

        // 200 INVITE → ACK (CSeq 1 ACK, new branch, route set), call established.
        let ok = Net.response("200 OK", to: inv, toTag: "callee1", extra: rr + ["Contact: <sip:callee@203.0.113.5:5060>"], body: answerSDP)
        let outOK = ua.receive(ok, from: Net.pcscf, now: 0.4)
        let ack = try XCTUnwrap(Net.sent(outOK).first)
        XCTAssertEqual(ack.method, "ACK")
        XCTAssertEqual(try ack.cseq(), SIPCSeq(sequence: 1, method: "ACK"))
        XCTAssertEqual(ack.requestURI?.description, "sip:callee@203.0.113.5:5060")
        XCTAssertNotEqual(try ack.topVia().branch, try inv.topVia().branch)
        XCTAssertEqual(ack.headerLines("Route").count, 2)
        XCTAssertEqual(Net.events(outOK), [.callEstablished(RemoteMedia(address: "203.0.113.5", port: 40000, payloadType: 97, codec: "AMR-WB", clockRate: 16000))])
        XCTAssertTrue(ua.isInCall)
        // A retransmitted 200 gets the same ACK and no second event.
        let again = ua.receive(ok, from: Net.pcscf, now: 0.9)
        XCTAssertEqual(Net.sent(again), [ack])
        XCTAssertTrue(Net.events(again).isEmpty)

        // BYE.
        let bye = try XCTUnwrap(Net.sent(ua.hangUp(now: 10)).first)
        XCTAssertEqual(bye.method, "BYE")
        XCTAssertEqual(try bye.cseq(), SIPCSeq(sequence: 5, method: "BYE"))
        XCTAssertEqual(try bye.to().tag, "callee1")
        XCTAssertEqual(Net.events(ua.receive(Net.response("200 OK", to: bye), from: Net.pcscf, now: 10.1)), [.callEnded(byRemote: false)])
        XCTAssertFalse(ua.isInCall)
    }

    func testNoUpdateWithoutPreconditionsAndErrorEndsCall() throws {
        var ua = SIPUserAgent(config: Net.config(preconditions: false))
        let inv = try XCTUnwrap(Net.sent(try ua.invite("tel:666", now: 0)).first)
        XCTAssertEqual(inv.optionTags("Supported"), ["100rel", "timer"])
        XCTAssertFalse(String(decoding: inv.body, as: UTF8.self).contains("qos"))
        let out = ua.receive(Net.response("486 Busy Here", to: inv, toTag: "b"), from: Net.pcscf, now: 0.1)
        XCTAssertEqual(Net.sent(out).first?.method, "ACK")   // built by the INVITE client transaction
        XCTAssertEqual(Net.events(out), [.callFailed(status: 486, reason: "Busy Here")])
        XCTAssertThrowsError(try ua.invite("not a uri", now: 1))
    }

    /// Phone-to-phone: an incoming INVITE is answered 100, 180, 200 with an SDP answer; ACK, then BYE from the peer.
    func testIncomingCallIsAnswered() throws {
        var ua = SIPUserAgent(config: Net.config())
        let offer = "v=0\r\no=- 5 1 IN IP4 198.18.0.9\r\ns=-\r\nc=IN IP4 198.18.0.9\r\nt=0 0\r\nm=audio 50010 RTP/AVP 98 97 101\r\n"
            + "a=rtpmap:98 AMR/8000/1\r\na=rtpmap:97 AMR-WB/16000/1\r\na=rtpmap:101 telephone-event/8000\r\n"
            + "a=curr:qos local none\r\na=curr:qos remote none\r\na=des:qos mandatory local sendrecv\r\na=des:qos none remote sendrecv\r\n"
        let invite = "INVITE sip:001010000000001@198.18.0.2:5060 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKin1\r\n"
            + "Record-Route: <sip:198.51.100.10:5060;lr>\r\n"
            + "Max-Forwards: 69\r\nFrom: <sip:001010000000002@\(Net.domain)>;tag=caller9\r\n"
            + "To: <tel:+15551230001>\r\nCall-ID: in-call-1\r\nCSeq: 7 INVITE\r\n"
            + "Contact: <sip:001010000000002@198.18.0.9:5060>\r\nSupported: 100rel, precondition\r\n"
            + "Content-Type: application/sdp\r\nContent-Length: \(offer.utf8.count)\r\n\r\n" + offer
        let parsed = try SIPMessage(parsing: Array(invite.utf8))
        XCTAssertNoThrow(try SessionDescription(parsing: parsed.body))
        let out = ua.receive(Array(invite.utf8), from: Net.pcscf, now: 0)
        XCTAssertEqual(Net.events(out), [.incomingCall(from: "sip:001010000000002@\(Net.domain)")])
        let sent = Net.sent(out)
        XCTAssertEqual(sent.map(\.statusCode), [100, 180, 200])
        guard sent.count == 3 else { return }
        let ok = sent[2]
        let tag = try XCTUnwrap(try ok.to().tag)
        XCTAssertEqual(try sent[1].to().tag, tag)
        XCTAssertEqual(ok.header("CSeq"), "7 INVITE")
        XCTAssertEqual(ok.headerLines("Record-Route"), ["<sip:198.51.100.10:5060;lr>"])
        let answer = try SessionDescription(parsing: ok.body)
        XCTAssertEqual(answer.codecs.map(\.payloadType), [98, 101])   // first offered speech codec, matching DTMF
        XCTAssertTrue(answer.preconditions.contains(.init(kind: "curr", side: "local", direction: "sendrecv")))
        // No ACK yet: the 200 is retransmitted after T1.
        XCTAssertEqual(ua.nextDeadline, 0.5)
        XCTAssertEqual(Net.sent(ua.tick(now: 0.5)).first?.statusCode, 200)

        let ack = "ACK sip:001010000000001@198.18.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKack1\r\n"
            + "Max-Forwards: 69\r\nFrom: <sip:001010000000002@\(Net.domain)>;tag=caller9\r\nTo: <tel:+15551230001>;tag=\(tag)\r\n"
            + "Call-ID: in-call-1\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n"
        XCTAssertEqual(Net.events(ua.receive(Array(ack.utf8), from: Net.pcscf, now: 0.6)),
                       [.callEstablished(RemoteMedia(address: "198.18.0.9", port: 50010, payloadType: 98, codec: "AMR", clockRate: 8000))])
        XCTAssertNil(ua.nextDeadline.flatMap { $0 < 1 ? $0 : nil })

        let bye = ack.replacingOccurrences(of: "ACK sip", with: "BYE sip").replacingOccurrences(of: "7 ACK", with: "8 BYE")
            .replacingOccurrences(of: "z9hG4bKack1", with: "z9hG4bKbye1")
        let outBye = ua.receive(Array(bye.utf8), from: Net.pcscf, now: 5)
        XCTAssertEqual(Net.sent(outBye).first?.statusCode, 200)
        XCTAssertEqual(Net.events(outBye), [.callEnded(byRemote: true)])
    }

    func testSDPParsingErrors() {
        XCTAssertThrowsError(try SessionDescription(parsing: Array("v=0\r\nc=IN IP4 1.2.3.4\r\n".utf8))) { XCTAssertEqual($0 as? SessionDescriptionError, .noAudio) }
        XCTAssertThrowsError(try SessionDescription(parsing: Array("v=0\r\nm=audio 5 RTP/AVP 0\r\n".utf8))) { XCTAssertEqual($0 as? SessionDescriptionError, .noConnectionAddress) }
        XCTAssertThrowsError(try SessionDescription(parsing: Array("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n".utf8)))
        let s = try? SessionDescription(parsing: Array("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 7 RTP/AVP 0\r\n".utf8))
        XCTAssertEqual(s?.speechCodec?.name, "PCMU")
    }
}
