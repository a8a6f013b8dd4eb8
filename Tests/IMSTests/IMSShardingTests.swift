import XCTest
import AKA
import SIP
@testable import IMS

/// Two `IMSCore` shards over one `IMSRegistrarStore`, as the runtime runs them on two loops:
/// state that is registrar-wide must be seen by both; dialog state stays with its shard.
final class IMSShardingTests: XCTestCase {
    /// Shards 0 and 1 over one store and one subscriber source.
    func makeShards() -> (IMSCore, IMSCore) {
        let (a, subs) = makeIMS()
        let b = IMSCore(config: a.config, subscribers: subs, store: a.store, shard: 1)
        return (a, b)
    }

    func testChallengeOnOneShardAnsweredOnTheOther() throws {
        let (s0, s1) = makeShards()
        let a = ue(1)
        let challenge = sent(s0.receive(datagram: a.register(), from: a.peer, now: 0))
        XCTAssertEqual(challenge.first?.0.statusCode, 401)
        let (auth, _) = try a.answer(challenge[0].0)
        // A phone that changes its Call-ID between the two steps lands on the other shard.
        let ok = sent(s1.receive(datagram: a.register(authorization: auth), from: a.peer, now: 0.1))
        XCTAssertEqual(ok.first?.0.statusCode, 200)
        XCTAssertEqual(s0.currentRegistrations.map(\.impi), [a.impi])
        XCTAssertEqual(s1.currentRegistrations.map(\.impi), [a.impi])
        // The last good nonce is shared too: a re-REGISTER reusing it is accepted on shard 0.
        XCTAssertEqual(sent(s0.receive(datagram: a.register(authorization: auth), from: a.peer, now: 0.2)).first?.0.statusCode, 200)
        // A wrong answer on shard 0 to a challenge shard 1 made fails (403), it is not re-challenged.
        let c2 = sent(s1.receive(datagram: a.register(), from: a.peer, now: 1))
        let (bad, _) = try a.answer(c2[0].0, overridePassword: [1, 2, 3])
        XCTAssertEqual(sent(s0.receive(datagram: a.register(authorization: bad), from: a.peer, now: 1.1)).first?.0.statusCode, 403)
    }

    func testCallToAPhoneRegisteredOnTheOtherShard() throws {
        let (s0, s1) = makeShards()
        let a = ue(1), b = ue(2)
        try registerUE(s0, a)
        try registerUE(s1, b)
        // A's INVITE (its Call-ID hashed to shard 0) finds B's binding made on shard 1.
        let inv = sent(s0.receive(datagram: request(a, "INVITE", uri: "tel:0600000002", callID: "x1", cseq: 1, branch: "z9hG4bKx1",
                                                    extra: inviteExtras(), sdp: offerSDP(a)), from: a.peer, now: 1))
        // B's binding is over UDP; a real-size INVITE (> 1300 bytes) goes to it over TCP (RFC 3261 §18.1.1).
        let size = inv.first?.0.serialized().count ?? 0
        XCTAssertEqual(inv.first?.1, SIPPeer(address: b.peer.address, port: b.peer.port, transport: size > 1300 ? .tcp : .udp))
        XCTAssertEqual(inv.first?.0.requestURI?.description, b.contactURI)
        XCTAssertEqual(s0.dialogs.map(\.kind), [.proxy])
        XCTAssertTrue(s1.dialogs.isEmpty, "the dialog lives on the shard of its Call-ID")
    }

    func testRegistrationOnAnotherShardNotifiesTheSubscriptionsShard() throws {
        let (s0, s1) = makeShards()
        let a = ue(1)
        try registerUE(s0, a, now: 0)
        let sub = a.subscribeRegEvent(branch: "z9hG4bKsub1", tag: "subtag", callID: "sub-1")
        XCTAssertEqual(sent(s0.receive(datagram: sub, from: a.peer, now: 1)).map { $0.0.method }, [nil, "NOTIFY"])
        // The re-registration is handled on shard 1: it has no subscription, so it asks the
        // runtime to tell shard 0, and sends no NOTIFY itself.
        let c = sent(s1.receive(datagram: a.register(), from: a.peer, now: 2))
        let (auth, _) = try a.answer(c[0].0)
        let out = s1.receive(datagram: a.register(expires: 0, authorization: auth), from: a.peer, now: 3)
        XCTAssertEqual(sent(out).map { $0.0.statusCode }, [200])
        XCTAssertTrue(out.contains(.registrationChanged(impi: a.impi, shards: [0])), "\(out)")
        // Shard 0 NOTIFYs its subscriber: version 1, the registration terminated.
        let n = sent(s0.registrationChanged(impi: a.impi, now: 3))
        XCTAssertEqual(n.map { $0.0.method }, ["NOTIFY"])
        XCTAssertEqual(n.first?.1, a.peer)
        let body = String(decoding: n[0].0.body, as: UTF8.self)
        XCTAssertTrue(body.contains("version=\"1\"") && body.contains("state=\"terminated\""), body)
        // Once the subscription ends (un-SUBSCRIBE), registrations no longer reach shard 0.
        let unsub = String(decoding: sub, as: UTF8.self).replacingOccurrences(of: "Expires: 600000", with: "Expires: 0")
            .replacingOccurrences(of: "To: <sip:001010000000001@\(domain)>", with: "To: <sip:001010000000001@\(domain)>;tag=" + (try n[0].0.from().tag ?? ""))
            .replacingOccurrences(of: "z9hG4bKsub1", with: "z9hG4bKsub2").replacingOccurrences(of: "CSeq: 1", with: "CSeq: 2")
        _ = s0.receive(datagram: Array(unsub.utf8), from: a.peer, now: 4)
        XCTAssertTrue(s0.store.otherSubscribedShards(a.impi, except: 1).isEmpty)
        try registerUE(s1, a, now: 5)
    }

    func testMTCallIDBelongsToTheShard() {
        let (s0, s1) = makeShards()
        s1.ownsCallID = { $0.hasPrefix("a") }
        let a = ue(1)
        XCTAssertNoThrow(try registerUE(s0, a))
        let (cid, acts) = s1.mtCall("tel:0600000001", now: 1)
        XCTAssertEqual(cid?.first, "a")
        XCTAssertEqual(sent(acts).first?.0.method, "INVITE")
        XCTAssertEqual(sent(acts).first?.1, a.peer)
    }

    /// A binding expires once, on whichever shard ticks first past its deadline; the reg-event
    /// subscriber on the other shard hears of it through `registrationChanged`.
    func testBindingExpiryOnOneShardNotifiesTheOther() throws {
        let (s0, s1) = makeShards()
        let a = ue(1)
        try registerUE(s0, a, now: 0, expires: 600)
        let sub = a.subscribeRegEvent(branch: "z9hG4bKsubx", tag: "subx", callID: "sub-x")
        XCTAssertEqual(sent(s0.receive(datagram: sub, from: a.peer, now: 1)).map { $0.0.method }, [nil, "NOTIFY"])
        XCTAssertFalse(events(s1.tick(now: 300)).contains { if case .deregistered = $0 { return true }; return false }, "not due yet")
        // Shard 1 passes the deadline first: it expires the binding and points at shard 0.
        let out = s1.tick(now: 601)
        XCTAssertTrue(events(out).contains { if case .deregistered(a.impi, _) = $0 { return true }; return false }, "\(out)")
        XCTAssertTrue(out.contains(.registrationChanged(impi: a.impi, shards: [0])), "\(out)")
        XCTAssertEqual(s0.currentRegistrations.map(\.impi), [], "the store is shared")
        // Shard 0 notifies its subscriber (the test never answered the first NOTIFY, so shard 0
        // is told before its own timers run out that transaction).
        let n = sent(s0.registrationChanged(impi: a.impi, now: 601.5))
        XCTAssertEqual(n.map { $0.0.method }, ["NOTIFY"])
        // Shard 0's own tick finds nothing left to expire (no second deregistration).
        let t0 = s0.tick(now: 602)
        XCTAssertFalse(events(t0).contains { if case .deregistered = $0 { return true }; return false }, "\(t0)")
        XCTAssertTrue(String(decoding: n.first?.0.body ?? [], as: UTF8.self).contains("state=\"terminated\""))
    }
}
