import SIP
import TestSupport
import XCTest

/// The transaction layer with thousands of live transactions (what the SIPp bench leaves
/// behind: completed non-INVITE server transactions linger 64*T1 for Timer J): deadlines come
/// out in order, and a client transaction's retransmission timer re-armed later is not fired
/// at its old deadline.
final class TimerScalingTests: XCTestCase {
    func request(_ method: String, branch: String) throws -> SIPMessage {
        try SIPMessage(parsing: Array("""
        \(method) sip:ims.example SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK\(branch)\r
        Max-Forwards: 70\r
        From: <sip:a@ims.example>;tag=1\r
        To: <sip:a@ims.example>\r
        Call-ID: \(branch)\r
        CSeq: 1 \(method)\r
        Content-Length: 0\r
        \r

        """.utf8))
    }

    func ok(_ r: SIPMessage) throws -> SIPMessage {
        SIPMessage.testResponse(to: r, 200)
    }

    func testTimerJOfManyTransactionsFiresInOrder() throws {
        let peer = SIPPeer(address: "127.0.0.1", port: 5070, transport: .udp)
        var layer = SIPTransactionLayer(timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
        let n = 3000
        for i in 0..<n {
            let r = try request("REGISTER", branch: "b\(i)")
            let now = Double(i) * 0.001
            XCTAssertEqual(layer.receive(r, from: peer, now: now).count, 1)
            XCTAssertEqual(layer.respond(try ok(r), now: now).count, 1)
        }
        XCTAssertEqual(layer.serverCount, n)
        XCTAssertEqual(try XCTUnwrap(layer.nextDeadline), 32, accuracy: 1e-9)   // Timer J = 64*T1 after the first 200
        _ = layer.tick(now: 32.0005)
        XCTAssertEqual(layer.serverCount, n - 1)
        XCTAssertEqual(try XCTUnwrap(layer.nextDeadline), 32.001, accuracy: 1e-9)
        _ = layer.tick(now: 32 + Double(n / 2) * 0.001 - 0.0005)
        XCTAssertEqual(layer.serverCount, n - n / 2)
        _ = layer.tick(now: 40)
        XCTAssertEqual(layer.serverCount, 0)
        XCTAssertNil(layer.nextDeadline)
    }

    func testRetransmissionTimerFollowsTheLatestArming() throws {
        let peer = SIPPeer(address: "127.0.0.1", port: 5070, transport: .udp)
        var layer = SIPTransactionLayer(timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
        let options = try request("OPTIONS", branch: "c1")
        XCTAssertEqual(layer.sendRequest(options, to: peer, now: 0).count, 1)
        XCTAssertEqual(layer.nextDeadline, 0.5)                       // Timer E
        XCTAssertEqual(layer.tick(now: 0.5), [.send(options, to: peer)])
        XCTAssertEqual(layer.nextDeadline, 1.5)                       // E doubled
        XCTAssertEqual(layer.tick(now: 1.0), [])                       // nothing at the old spacing
        XCTAssertEqual(layer.tick(now: 1.5), [.send(options, to: peer)])
        // The 200 ends the client transaction (Timer K = T4 over UDP) and cancels E and F.
        let out = layer.receive(try ok(options), from: peer, now: 2)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(layer.nextDeadline, 7)
        XCTAssertEqual(layer.tick(now: 7), [])
        XCTAssertEqual(layer.clientCount, 0)
        XCTAssertNil(layer.nextDeadline)
    }
}
