import XCTest
import AKA
import SIP
@testable import IMS

/// RFC 3261 §18.1.1 in the IMS core: requests we send that are too large for UDP go over TCP
/// (Via rewritten); peers TCP cannot reach keep UDP (said once); a TCP reset retries over UDP;
/// other connection failures are transport errors (500 upstream for a proxied INVITE, 503
/// treatment for our own transactions).
final class IMSLargeRequestTests: XCTestCase {
    /// An SDP offer padded the way phones pad theirs: many codecs, each with rtpmap and fmtp.
    func largeSDP(_ u: TestUE, codecs: Int = 24) -> String {
        var lines = ["v=0", "o=rue 3251 3251 IN IP6 \(u.peer.address)", "s=-", "c=IN IP6 \(u.peer.address)", "t=0 0",
                     "m=audio 31000 RTP/AVP " + (0..<codecs).map { String(96 + $0) }.joined(separator: " ")]
        for i in 0..<codecs {
            lines.append("a=rtpmap:\(96 + i) AMR-WB/16000/1")
            lines.append("a=fmtp:\(96 + i) mode-change-capability=2;max-red=0;octet-align=\(i % 2)")
        }
        return (lines + ["a=sendrecv"]).joined(separator: "\r\n") + "\r\n"
    }

    func inviteB(_ ims: IMSCore, _ a: TestUE, cid: String, sdp: String, now: Double = 0) -> [IMSAction] {
        ims.receive(datagram: request(a, "INVITE", uri: "tel:0600000002", callID: cid, cseq: 1, branch: "z9hG4bK\(cid)",
                                      extra: inviteExtras(), sdp: sdp), from: a.peer, now: now)
    }

    func testLargeProxiedInviteGoesOverTCPWithTCPVia() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        let out = inviteB(ims, a, cid: "big", sdp: largeSDP(a))
        let (fwd, dest) = try XCTUnwrap(sent(out).first)
        XCTAssertGreaterThan(fwd.serialized().count, 1300)
        XCTAssertEqual(dest, SIPPeer(address: b.peer.address, port: b.peer.port, transport: .tcp), "same address and port, TCP")
        let via = try fwd.topVia()
        XCTAssertEqual(via.transport, "TCP")
        XCTAssertEqual(via.sentBy, "[\(pcscf6)]:5060")
        XCTAssertEqual(via.branch, "z9hG4bKvwc.z9hG4bKbig")
        XCTAssertEqual(try fwd.vias()[1].transport, "UDP", "the caller's Via is untouched")
        XCTAssertTrue(events(out).contains(.largeRequestOverTCP(peer: dest, method: "INVITE", bytes: fwd.serialized().count)))

        // Its CANCEL (same branch) follows it over TCP with the same Via.
        let cancel = try XCTUnwrap(sent(ims.receive(datagram: request(a, "CANCEL", uri: "tel:0600000002", callID: "big", cseq: 1,
                                                                       branch: "z9hG4bKbig"), from: a.peer, now: 1)).first)
        XCTAssertEqual(cancel.1, dest)
        XCTAssertEqual(try cancel.0.topVia(), via)

        // A small one stays on UDP.
        let small = try XCTUnwrap(sent(inviteB(ims, a, cid: "small", sdp: "v=0\r\n")).first)
        XCTAssertEqual(small.1, b.peer)
        XCTAssertEqual(try small.0.topVia().transport, "UDP")
    }

    func testKnownPathMTULowersTheLimit() throws {
        let (ims, a, _) = try makeIMSWithTwoPhones { $0.pathMTU = 1000 }
        XCTAssertEqual(ims.config.largestUDPRequest, 800, "within 200 bytes of the MTU")
        let fwd = try XCTUnwrap(sent(inviteB(ims, a, cid: "m", sdp: offerSDP(a))).first)
        XCTAssertGreaterThan(fwd.0.serialized().count, 800)
        XCTAssertEqual(fwd.1.transport, .tcp)
    }

    func testPeerWithoutTCPKeepsUDPAndIsToldOnce() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        ims.tcpUnavailableReason = { $0.address == b.peer.address ? "in-process inner path" : nil }
        let first = inviteB(ims, a, cid: "u1", sdp: largeSDP(a))
        XCTAssertEqual(sent(first).first?.1, b.peer)
        XCTAssertEqual(try sent(first).first?.0.topVia().transport, "UDP")
        let said = events(first).filter { if case .largeRequestKeptOnUDP = $0 { return true }; return false }
        XCTAssertEqual(said.count, 1)
        let second = inviteB(ims, a, cid: "u2", sdp: largeSDP(a))
        XCTAssertEqual(sent(second).first?.1, b.peer)
        XCTAssertTrue(events(second).isEmpty || !events(second).contains { if case .largeRequestKeptOnUDP = $0 { return true }; return false },
                      "said once per peer")
    }

    func testResetRetriesOverUDPAndIsRemembered() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        let (fwd, dest) = try XCTUnwrap(sent(inviteB(ims, a, cid: "rst", sdp: largeSDP(a))).first)
        let out = ims.tcpDeliveryFailed(fwd.serialized(), to: dest, refused: true, error: "Connection refused", now: 0.1)
        let retry = try XCTUnwrap(sent(out).first)
        XCTAssertEqual(retry.1, b.peer)
        XCTAssertEqual(try retry.0.topVia().transport, "UDP")
        XCTAssertEqual(retry.0.body, fwd.body)
        // The next large request to that phone goes over UDP directly.
        let next = try XCTUnwrap(sent(inviteB(ims, a, cid: "rst2", sdp: largeSDP(a), now: 1)).first)
        XCTAssertEqual(next.1, b.peer)
        // ...until the memory fades.
        _ = ims.tick(now: 1 + IMSCore.tcpRefusedMemory + 1)
        XCTAssertEqual(try XCTUnwrap(sent(inviteB(ims, a, cid: "rst3", sdp: largeSDP(a), now: 400)).first).1.transport, .tcp)
    }

    func testConnectFailureAnswersTheCaller500() throws {
        let (ims, a, _) = try makeIMSWithTwoPhones()
        let (fwd, dest) = try XCTUnwrap(sent(inviteB(ims, a, cid: "dead", sdp: largeSDP(a))).first)
        XCTAssertEqual(ims.dialogs.map(\.callID), ["dead"])
        let out = ims.tcpDeliveryFailed(fwd.serialized(), to: dest, refused: false, error: "TCP connect timed out", now: 10)
        let r = try XCTUnwrap(sent(out).first)
        XCTAssertEqual(r.1, a.peer)
        XCTAssertEqual(r.0.statusCode, 500)
        XCTAssertEqual(try r.0.vias().count, 1, "our Via removed")
        XCTAssertEqual(try r.0.topVia().branch, "z9hG4bKdead")
        XCTAssertTrue(r.0.header("Warning")?.contains("TCP connect timed out") ?? false, r.0.header("Warning") ?? "")
        XCTAssertTrue(events(out).contains(.callEnded(callID: "dead", reason: "transport error toward the callee")))
        XCTAssertTrue(ims.dialogs.isEmpty)
        // A failed ACK is only noted.
        var ack = fwd
        ack.startLine = .request(method: "ACK", uri: fwd.requestURI!)
        ack.setHeader("CSeq", "1 ACK")
        XCTAssertTrue(sent(ims.tcpDeliveryFailed(ack.serialized(), to: dest, refused: false, error: "x", now: 11)).isEmpty)
    }

    /// Our own transaction (an MT INVITE, with a small path MTU so it counts as large): a reset
    /// re-sends it over UDP on a new transaction that retransmits; a timeout ends the call (503).
    func testOwnTransactionRetriesOverUDPOrEndsOnTransportError() throws {
        let (ims, subs) = makeIMS { $0.tcpThreshold = 400 }
        let b = ue(2)
        try registerUE(ims, b)
        let (cid1, start) = ims.mtCall("tel:0600000002", now: 1)
        let inv = try XCTUnwrap(sent(start).first)
        XCTAssertEqual(inv.1.transport, .tcp)
        XCTAssertEqual(try inv.0.topVia().transport, "TCP")
        XCTAssertTrue(sent(ims.tick(now: 1.6)).isEmpty, "no retransmission over TCP")
        let retry = sent(ims.tcpDeliveryFailed(inv.0.serialized(), to: inv.1, refused: true, error: "Connection refused", now: 2))
        XCTAssertEqual(retry.first?.1, b.peer)
        XCTAssertEqual(try retry.first?.0.topVia().transport, "UDP")
        XCTAssertEqual(sent(ims.tick(now: 2.5)).map { $0.0.method }, ["INVITE"], "UDP retransmission (Timer A)")
        XCTAssertNotNil(cid1)

        let ims2 = IMSCore(config: ims.config, subscribers: subs)
        try registerUE(ims2, b)
        let (cid2, start2) = ims2.mtCall("tel:0600000002", now: 1)
        let inv2 = try XCTUnwrap(sent(start2).first)
        let out = ims2.tcpDeliveryFailed(inv2.0.serialized(), to: inv2.1, refused: false, error: "timed out", now: 11)
        XCTAssertTrue(events(out).contains(.callEnded(callID: try XCTUnwrap(cid2), reason: "transport error (503)")))
        XCTAssertTrue(ims2.dialogs.isEmpty)
    }

    /// The reg-event NOTIFY (our own request, with reginfo XML) above the threshold goes over
    /// TCP too, and the 200 OK (a response) to the SUBSCRIBE stays where the SUBSCRIBE came from.
    func testLargeNotifyGoesOverTCP() throws {
        let (ims, _) = makeIMS { $0.tcpThreshold = 600 }
        let a = ue(1)
        try registerUE(ims, a)
        let sub = a.subscribeRegEvent(branch: "z9hG4bKsubt", tag: "st", callID: "sub-tcp", extra: ["Accept: application/reginfo+xml"])
        let out = ims.receive(datagram: sub, from: a.peer, now: 5)
        let s = sent(out)
        XCTAssertEqual(s.map { $0.0.statusCode ?? 0 }, [200, 0])
        XCTAssertEqual(s[0].1, a.peer, "responses follow the Via, never switched")
        XCTAssertEqual(s[1].0.method, "NOTIFY")
        XCTAssertGreaterThan(s[1].0.serialized().count, 600)
        XCTAssertEqual(s[1].1, SIPPeer(address: a.peer.address, port: a.peer.port, transport: .tcp))
        XCTAssertEqual(try s[1].0.topVia().transport, "TCP")
        XCTAssertTrue(events(out).contains(.largeRequestOverTCP(peer: s[1].1, method: "NOTIFY", bytes: s[1].0.serialized().count)))
    }
}
