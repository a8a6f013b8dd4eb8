import XCTest
import AKA
import SIP
@testable import IMS

/// RFC 5658 double Record-Route: a call between phones registered through different `sip_addr`
/// addresses (or transports) records both, so that each phone's route set starts with the
/// address it can reach, and the in-dialog requests of either side, carrying both as Route,
/// are relayed with both consumed.
extension IMSFlowAddressTests {
    /// The relayed request or response in `actions` and where it goes.
    func relayed(_ actions: [IMSAction]) throws -> (SIPMessage, SIPPeer) {
        try XCTUnwrap(sent(actions).first, "nothing relayed: \(actions)")
    }

    func testACallAcrossTwoSIPAddrsRecordsBothAndBothSidesRouteThroughTheirOwn() throws {
        let (s0, _) = makeShards()
        let a = ue(1), b = ue(2)
        try register(s0, a, to: pcscfB)
        try register(s0, b, to: pcscf6)
        let rrA = "<sip:\(viaB);lr>", rrB = "<sip:[\(pcscf6)]:5060;lr>"

        // B (through pcscf6) calls A (through pcscfB): A's side on top, then B's.
        let cid = "rr-b2a"
        let (inv, toA) = try relayed(s0.receive(datagram: request(b, "INVITE", uri: a.impu, callID: cid, cseq: 1, branch: "z9hG4bKrr1",
                                                                  extra: inviteExtras(precondition: false), sdp: offerSDP(b)),
                                                from: b.peer, to: pcscf6, now: 1))
        XCTAssertEqual(inv.method, "INVITE")
        XCTAssertEqual(toA.address, a.peer.address)
        XCTAssertEqual(inv.headerLines("Record-Route"), [rrA, rrB])

        // A's 200 carries both back to B unchanged (B reverses them: pcscf6 first).
        var ok = SIPMessage.response(200)
        for v in inv.headerLines("Via") { ok.addHeader("Via", v) }
        for rr in inv.headerLines("Record-Route") { ok.addHeader("Record-Route", rr) }
        for h in ["From", "Call-ID", "CSeq"] { ok.addHeader(h, try XCTUnwrap(inv.header(h))) }
        ok.addHeader("To", try XCTUnwrap(inv.header("To")) + ";tag=atag")
        ok.addHeader("Contact", "<\(a.contactURI)>")
        let (okAtB, toB) = try relayed(s0.receive(datagram: ok.serialized(), from: a.peer, to: pcscfB, now: 2))
        XCTAssertEqual(okAtB.statusCode, 200)
        XCTAssertEqual(toB.address, b.peer.address)
        XCTAssertEqual(okAtB.headerLines("Record-Route"), [rrA, rrB])

        // B's ACK, sent to pcscf6 with Route pcscf6, pcscfB: both consumed, delivered to A's contact.
        let (ack, ackTo) = try relayed(s0.receive(datagram: request(b, "ACK", uri: a.contactURI, callID: cid, cseq: 1, branch: "z9hG4bKrr2",
                                                                    toTag: "atag", to: a.impu, extra: ["Route: \(rrB), \(rrA)"], route: false),
                                                  from: b.peer, to: pcscf6, now: 3))
        XCTAssertEqual(ack.method, "ACK")
        XCTAssertEqual(ackTo.address, a.peer.address)
        XCTAssertTrue(ack.headerLines("Route").isEmpty, "\(ack.headerLines("Route"))")
        XCTAssertEqual(ack.requestURI?.description, a.contactURI)

        // A's BYE, sent to pcscfB with Route pcscfB, pcscf6: both consumed, delivered to B.
        let bye = s0.receive(datagram: request(a, "BYE", uri: b.contactURI, callID: cid, cseq: 2, branch: "z9hG4bKrr3",
                                               toTag: "btag", to: b.impu, extra: ["Route: \(rrA)", "Route: \(rrB)"], route: false),
                             from: a.peer, to: pcscfB, now: 4)
        let (byeAtB, byeTo) = try relayed(bye)
        XCTAssertEqual(byeAtB.method, "BYE")
        XCTAssertEqual(byeTo.address, b.peer.address)
        XCTAssertTrue(byeAtB.headerLines("Route").isEmpty)
        XCTAssertTrue(events(bye).contains(.callEnded(callID: cid, reason: "BYE")))
    }

    /// One address for both phones: a single Record-Route, as before. A TCP caller and a UDP
    /// callee on one address: two, the caller's with transport=tcp (RFC 5658 §4 transport change).
    func testOneRecordRouteOnOneFlowAndTwoAcrossTransports() throws {
        let (s0, _) = makeShards()
        let a = ue(1), b = ue(2)
        let c = TestUE(imsi: "001010000000005", address: "2001:db8:3000:1::6", usim: try USIM(algorithm: milenage()), transport: .tcp)
        try register(s0, a, to: pcscf6)
        try register(s0, b, to: pcscf6)
        try register(s0, c, to: pcscf6)
        let (inv, _) = try relayed(s0.receive(datagram: request(b, "INVITE", uri: a.impu, callID: "rr-one", cseq: 1, branch: "z9hG4bKrr4",
                                                                extra: inviteExtras(precondition: false)),
                                              from: b.peer, to: pcscf6, now: 1))
        XCTAssertEqual(inv.headerLines("Record-Route"), ["<sip:[\(pcscf6)]:5060;lr>"])

        let (inv2, _) = try relayed(s0.receive(stream: request(c, "INVITE", uri: a.impu, callID: "rr-tcp", cseq: 1, branch: "z9hG4bKrr5",
                                                               extra: inviteExtras(precondition: false)),
                                               from: c.peer, to: pcscf6, now: 2))
        XCTAssertEqual(inv2.headerLines("Record-Route"), ["<sip:[\(pcscf6)]:5060;lr>", "<sip:[\(pcscf6)]:5060;transport=tcp;lr>"])
    }
}
