import Foundation
import Glibc
import IMS
import SIP
import XCTest
@testable import Runtime

/// Two `sip_addr` entries on real sockets, 127.0.0.1:P1 (the default toward loopback phones)
/// and 127.0.0.2:P2, the IMS on two loops: a phone registered through 127.0.0.2:P2 gets
/// everything the IMS sends it from exactly there, whichever shard sends it and whatever
/// triggers it (RFC 5626 §5.2, RFC 3581 §4): reg-event NOTIFYs (on SUBSCRIBE, on a refresh,
/// on expiry by the timer), an INVITE relayed from a phone registered through 127.0.0.1,
/// the relayed response to its own MESSAGE, and any retransmission of those.
final class IMSUDPFlowTests: XCTestCase {
    func testAPhoneHearsOnlyFromTheAddressAndPortItRegisteredThrough() throws {
        let ims = try LoopbackIMSCluster(addresses: ["127.0.0.1", "127.0.0.2"], loops: 2)
        defer { ims.stop() }
        let (p1, p2) = (ims.ports[0], ims.ports[1])
        let flowA = "127.0.0.2:\(p2)", flowB = "127.0.0.1:\(p1)"
        let a = try LoopbackUDPPhone(user: "user1"), b = try LoopbackUDPPhone(user: "user2")
        // A registers on shard 1; its subscription and the calls to and from it are on shard 0.
        let regA = ims.callID("reg-a", onShard: 1)
        XCTAssertEqual(try a.register(to: "127.0.0.2", port: p2, callID: regA)?.statusCode, 200)
        XCTAssertEqual(try b.register(to: "127.0.0.1", port: p1)?.statusCode, 200)

        // A's reg-event subscription: the immediate NOTIFY names and comes from A's flow.
        let aor = "sip:user1@\(LoopbackIMSCluster.domain)"
        try a.send(try a.request("SUBSCRIBE", uri: aor, to: aor, callID: ims.callID("sub-a", onShard: 0), extra: [("Event", "reg"), ("Expires", "600")]),
                   to: "127.0.0.2", port: p2)
        let (n1, from1) = try XCTUnwrap(try a.receive { $0.method == "NOTIFY" }, "no NOTIFY")
        XCTAssertEqual("\(from1)", flowA)
        XCTAssertEqual(try n1.topVia().sentBy, flowA, "our Via names where responses must come back")
        a.socket.send(a.respond(to: n1, 200).serialized(), to: from1)

        // B (through 127.0.0.1) calls A: the relayed INVITE comes from A's flow, Via and
        // the top Record-Route name it (B's flow below it, RFC 5658); A's 486 goes back to B from B's flow.
        let invite = try b.request("INVITE", uri: aor, to: aor, callID: ims.callID("call-b", onShard: 0))
        try b.send(invite, to: "127.0.0.1", port: p1)
        let (inv, from2) = try XCTUnwrap(try a.receive { $0.method == "INVITE" }, "INVITE not relayed")
        XCTAssertEqual("\(from2)", flowA)
        XCTAssertEqual(try inv.topVia().sentBy, flowA)
        XCTAssertEqual(inv.headerLines("Record-Route"), ["<sip:\(flowA);lr>", "<sip:\(flowB);lr>"], "RFC 5658: A's side, then B's")
        a.socket.send(a.respond(to: inv, 486).serialized(), to: from2)
        let (busy, from3) = try XCTUnwrap(try b.receive { $0.statusCode == 486 }, "486 not relayed")
        XCTAssertEqual(busy.cseqMethod, "INVITE")
        XCTAssertEqual("\(from3)", flowB)

        // A's MESSAGE to B: B answers to 127.0.0.1 (where the MESSAGE came from); the 200 is
        // relayed to A from A's flow, not from the address it arrived on.
        let bAOR = "sip:user2@\(LoopbackIMSCluster.domain)"
        var msg = try a.request("MESSAGE", uri: bAOR, to: bAOR, callID: ims.callID("msg-a", onShard: 0), extra: [("Content-Type", "text/plain")])
        msg.body = Array("hi".utf8)
        try a.send(msg, to: "127.0.0.2", port: p2)
        let (m, from4) = try XCTUnwrap(try b.receive { $0.method == "MESSAGE" }, "MESSAGE not relayed")
        XCTAssertEqual("\(from4)", flowB)
        b.socket.send(b.respond(to: m, 200).serialized(), to: from4)
        let (ok, from5) = try XCTUnwrap(try a.receive { $0.cseqMethod == "MESSAGE" }, "200 to MESSAGE not relayed")
        XCTAssertEqual(ok.statusCode, 200)
        XCTAssertEqual("\(from5)", flowA)

        // A refreshes for 1 s (a NOTIFY, answered by `receive`), then the binding expires on a timer: the terminated
        // NOTIFY, sent by whichever shard holds the subscription, comes from A's flow too.
        XCTAssertEqual(try a.register(to: "127.0.0.2", port: p2, expires: 1, cseq: 2, callID: regA)?.statusCode, 200)
        let (n3, from6) = try XCTUnwrap(try a.receive { $0.method == "NOTIFY" && String(decoding: $0.body, as: UTF8.self).contains("terminated") },
                                        "no NOTIFY after expiry\n\(ims.log)")
        XCTAssertEqual("\(from6)", flowA)
        XCTAssertEqual(try n3.topVia().sentBy, flowA)
        a.socket.send(a.respond(to: n3, 200).serialized(), to: from6)

        XCTAssertEqual(Set(a.sources), [flowA], "everything A received came from its flow")
        XCTAssertEqual(Set(b.sources), [flowB], "everything B received came from its flow")
    }
}
