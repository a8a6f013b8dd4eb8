import XCTest
import AKA
import SIP
@testable import IMS

/// Two `sip_addr` addresses of one family (A = `pcscf6`, the configured default, and B with its
/// own port): what the IMS sends a phone that registered through B names B (Via, Contact,
/// SDP) and is sent from B (`sourceAddress`), on whichever shard sends it, also after the
/// registration is gone (RFC 5626 §5.2: the flow stays with the binding).
final class IMSFlowAddressTests: XCTestCase {
    let pcscfB = "2001:db8:3000:2::1"
    let portB: UInt16 = 5070
    var viaB: String { "[\(pcscfB)]:\(portB)" }

    /// Shards 0 and 1 over one store.
    func makeShards() -> (IMSCore, IMSCore) {
        let (_, subs) = makeIMS()
        var c = IMSConfig(domain: domain, sipAddresses: [pcscf6, pcscfB], timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
        c.sipPorts = [pcscfB: portB]
        c.precondition = .off
        let s0 = IMSCore(config: c, subscribers: subs)
        return (s0, IMSCore(config: c, subscribers: subs, store: s0.store, shard: 1))
    }

    func ue(_ i: Int) -> TestUE {
        TestUE(imsi: "00101000000000\(i)", address: "2001:db8:3000:1::\(i + 1)", usim: try! USIM(algorithm: milenage()))
    }

    /// Registers `ue` with its REGISTERs arriving on our address `local`.
    func register(_ ims: IMSCore, _ ue: TestUE, to local: String, expires: UInt32 = 600) throws {
        let c = sent(ims.receive(datagram: ue.register(expires: expires), from: ue.peer, to: local, now: 0))
        let (auth, _) = try ue.answer(try XCTUnwrap(c.first).0)
        let ok = sent(ims.receive(datagram: ue.register(expires: expires, authorization: auth), from: ue.peer, to: local, now: 0.1))
        XCTAssertEqual(ok.first?.0.statusCode, 200)
        XCTAssertEqual(ok.first?.0.header("Service-Route"), "<sip:\(local == pcscfB ? viaB : "[\(pcscf6)]:5060");lr>")
    }

    /// The request sent to `peer` in `actions`, its raw bytes and the address it leaves from.
    func request(_ actions: [IMSAction], _ method: String, shard: IMSCore) throws -> (SIPMessage, String) {
        for case let .send(b, to) in actions {
            let m = try SIPMessage(parsing: b)
            if m.method == method { return (m, shard.sourceAddress(of: b, toward: to)) }
        }
        throw XCTSkip("no \(method) in \(actions)")
    }

    func message(from ue: TestUE, to target: TestUE, callID: String) -> [UInt8] {
        Array([
            "MESSAGE \(target.impu) SIP/2.0", "Via: \(ue.via("z9hG4bK\(callID)"))", "Max-Forwards: 70",
            "From: <\(ue.impu)>;tag=m\(callID)", "To: <\(target.impu)>", "Call-ID: \(callID)", "CSeq: 1 MESSAGE",
            "Content-Type: text/plain", "Content-Length: 2", "", "hi",
        ].joined(separator: "\r\n").utf8)
    }

    func testRequestsToAPhoneNameAndLeaveFromTheAddressItRegisteredThrough() throws {
        let (s0, s1) = makeShards()
        let a = ue(1), b = ue(2)
        try register(s0, a, to: pcscfB)
        try register(s1, b, to: pcscf6)
        XCTAssertEqual(s0.localAddress(toward: a.peer), pcscfB)
        XCTAssertEqual(s1.localAddress(toward: b.peer), pcscf6)

        // A's reg-event subscription on shard 0 (its SUBSCRIBE came to B).
        let sub = Array([
            "SUBSCRIBE \(a.impu) SIP/2.0", "Via: \(a.via("z9hG4bKsubf"))", "Max-Forwards: 70",
            "From: <\(a.impu)>;tag=subf", "To: <\(a.impu)>", "Call-ID: sub-f", "CSeq: 1 SUBSCRIBE", "Event: reg",
            "Expires: 600000", "Contact: <\(a.contactURI)>", "Content-Length: 0", "", "",
        ].joined(separator: "\r\n").utf8)
        let (n1, from1) = try request(s0.receive(datagram: sub, from: a.peer, to: pcscfB, now: 1), "NOTIFY", shard: s0)
        XCTAssertEqual(try n1.topVia().sentBy, viaB)
        XCTAssertEqual(n1.header("Contact"), "<sip:\(viaB)>")
        XCTAssertEqual(from1, pcscfB)

        // B's MESSAGE (on shard 1, to address A) relayed to A: from B, our Via names B.
        let (fwd, from2) = try request(s1.receive(datagram: message(from: b, to: a, callID: "msg-f"), from: b.peer, to: pcscf6, now: 2),
                                       "MESSAGE", shard: s1)
        XCTAssertEqual(try fwd.topVia().sentBy, viaB)
        XCTAssertEqual(from2, pcscfB)
        // A's 200 relayed back to B leaves from B's flow (address A), not from where A sent it.
        var r = SIPMessage.response(200)
        for v in fwd.headerLines("Via") { r.addHeader("Via", v) }
        for h in ["From", "To", "Call-ID", "CSeq"] { r.addHeader(h, try XCTUnwrap(fwd.header(h))) }
        let back = s1.receive(datagram: r.serialized(), from: a.peer, to: pcscfB, now: 2.1)
        guard case let .send(rb, rto)? = back.first else { return XCTFail("\(back)") }
        XCTAssertEqual(rto.address, b.peer.address)
        XCTAssertEqual(s1.sourceAddress(of: rb, toward: rto), pcscf6)

        // An MT call to A from shard 1: INVITE, Contact, Call-ID host and SDP name B.
        let (callID, acts) = s1.mtCall(a.impu, now: 3)
        let (inv, from3) = try request(acts, "INVITE", shard: s1)
        XCTAssertEqual(try inv.topVia().sentBy, viaB)
        XCTAssertEqual(inv.header("Contact"), "<sip:\(viaB)>")
        XCTAssertTrue(callID?.hasSuffix("@" + viaB) ?? false, "\(callID ?? "")")
        XCTAssertTrue(String(decoding: inv.body, as: UTF8.self).contains("c=IN IP6 \(pcscfB)"))
        XCTAssertEqual(from3, pcscfB)

        // A's binding expires (shard 1 ticks first): shard 0's NOTIFY still names B and leaves from it.
        XCTAssertTrue(s1.tick(now: 601).contains(.registrationChanged(impi: a.impi, shards: [0])))
        XCTAssertNil(s0.store.flowAddress(of: a.peer), "the flow went with the binding")
        let (n2, from4) = try request(s0.registrationChanged(impi: a.impi, now: 601.5), "NOTIFY", shard: s0)
        XCTAssertTrue(String(decoding: n2.body, as: UTF8.self).contains("state=\"terminated\""))
        XCTAssertEqual(try n2.topVia().sentBy, viaB)
        XCTAssertEqual(from4, pcscfB)
        // B still registered through A: its flow is untouched.
        XCTAssertEqual(s0.localAddress(toward: b.peer), pcscf6)
    }

    /// Flows are counted per binding peer: two IMPIs registered from one phone address keep the
    /// flow until both are gone; with one address per family nothing is parsed or looked up.
    func testFlowsAreCountedAndOneAddressPerFamilyNeedsNoChoice() throws {
        let (s0, _) = makeShards()
        let a = ue(1)
        let a2 = TestUE(imsi: "001010000000002", address: a.peer.address, usim: try USIM(algorithm: milenage()))
        try register(s0, a, to: pcscfB, expires: 100)
        try register(s0, a2, to: pcscfB, expires: 200)
        XCTAssertEqual(s0.store.flowAddress(of: a.peer), pcscfB)
        _ = s0.tick(now: 150)
        XCTAssertEqual(s0.store.flowAddress(of: a.peer), pcscfB, "a2's binding still holds the flow")
        _ = s0.tick(now: 250)
        XCTAssertNil(s0.store.flowAddress(of: a.peer))

        let (one, _) = makeIMS()
        let v4 = TestUE(imsi: "001010000000001", address: "198.51.100.20")
        XCTAssertEqual(one.sourceAddress(of: Array("NOTIFY x".utf8), toward: v4.peer), "198.51.100.1")
    }

    /// An echo call through A from a phone registered through B: the dialog keeps A (its
    /// Contact; the 200 the timer retransmits leaves from A), the binding keeps B.
    func testAnEchoDialogKeepsTheAddressItsINVITECameTo() throws {
        let (s0, _) = makeShards()
        let a = ue(1)
        try register(s0, a, to: pcscfB)
        let invite = request(a, "INVITE", uri: "tel:666", callID: "echo-f", cseq: 1, branch: "z9hG4bKechof",
                             sdp: offerSDP(a, local: "sendrecv"))
        let ok = try XCTUnwrap(sent(s0.receive(datagram: invite, from: a.peer, to: pcscf6, now: 1)).last?.0)
        XCTAssertEqual(ok.statusCode, 200)
        XCTAssertEqual(ok.header("Contact"), "<sip:[\(pcscf6)]:5060>")
        // No ACK: the timer retransmits the 200 from the dialog's address.
        let again = s0.tick(now: 1.6)
        guard case let .send(b, to)? = again.first(where: { if case .send = $0 { return true }; return false }) else {
            return XCTFail("no retransmission: \(again)")
        }
        XCTAssertEqual(try SIPMessage(parsing: b).statusCode, 200)
        XCTAssertEqual(s0.sourceAddress(of: b, toward: to), pcscf6)
        XCTAssertEqual(s0.localAddress(toward: a.peer), pcscfB)
    }
}
