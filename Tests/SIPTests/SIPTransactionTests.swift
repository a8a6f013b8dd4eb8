import XCTest
@testable import SIP

final class SIPTransactionTests: XCTestCase {
    let invite = try! SIPMessage(parsing: TM.imsInvite())
    let options = try! SIPMessage(parsing: TM.lwsdisp)

    func response(_ code: Int, to req: SIPMessage, toTag: String? = "srv1") -> SIPMessage {
        var r = SIPMessage.response(code)
        for v in req.headerLines("Via") { r.addHeader("Via", v) }
        for n in ["From", "Call-ID", "CSeq"] { r.addHeader(n, req.header(n)!) }
        r.addHeader("To", req.header("To")! + (toTag.map { ";tag=" + $0 } ?? ""))
        return r
    }

    func armed(_ a: [SIPTransactionAction]) -> [SIPTransactionTimer: Double] {
        var d: [SIPTransactionTimer: Double] = [:]
        for x in a { if case .arm(let t, let at) = x { d[t] = at } }
        return d
    }

    func testInviteClientTimerABackoffAndTimeout() {
        var t = SIPInviteClientTransaction(request: invite, reliable: false)
        let s = t.start(now: 100)
        XCTAssertEqual(s.first, .transmit(invite))
        XCTAssertEqual(armed(s), [.A: 100.5, .B: 132])
        XCTAssertEqual(t.handle(.timer(.A), now: 100.5), [.transmit(invite), .arm(.A, at: 101.5)])
        XCTAssertEqual(t.handle(.timer(.A), now: 101.5), [.transmit(invite), .arm(.A, at: 103.5)])
        XCTAssertEqual(t.handle(.timer(.A), now: 103.5), [.transmit(invite), .arm(.A, at: 107.5)])
        XCTAssertEqual(t.handle(.timer(.B), now: 132), [.cancel(.A), .timedOut, .terminated])
        XCTAssertEqual(t.state, .terminated)
    }

    func testInviteClientNon2xxSendsAckAndAbsorbsRetransmissions() throws {
        var t = SIPInviteClientTransaction(request: invite, reliable: false)
        _ = t.start(now: 0)
        let trying = response(100, to: invite, toTag: nil)
        XCTAssertEqual(t.handle(.received(trying), now: 0.1), [.cancel(.A), .deliver(trying)])
        XCTAssertEqual(t.state, .proceeding)
        XCTAssertEqual(t.handle(.timer(.A), now: 0.5), [], "A is stopped in Proceeding")
        let busy = response(486, to: invite)
        let acts = t.handle(.received(busy), now: 1)
        XCTAssertEqual(t.state, .completed)
        guard case .transmit(let ack) = acts[2] else { return XCTFail("no ACK") }
        XCTAssertEqual(ack.method, "ACK")
        XCTAssertEqual(ack.requestURI, invite.requestURI)
        XCTAssertEqual(try ack.cseq(), SIPCSeq(sequence: 1, method: "ACK"))
        XCTAssertEqual(try ack.to().tag, "srv1")
        XCTAssertEqual(try ack.topVia().branch, try invite.topVia().branch)
        XCTAssertEqual(ack.headerLines("Route"), invite.headerLines("Route"))
        XCTAssertEqual(armed(acts), [.D: 33])
        XCTAssertEqual(t.handle(.received(busy), now: 2), [.transmit(ack)])
        XCTAssertEqual(t.handle(.timer(.D), now: 33), [.terminated])
    }

    func testInviteClientReliable2xxAccepted() {
        var t = SIPInviteClientTransaction(request: invite, reliable: true, timers: SIPTimerValues(t1: 2, t2: 16, t4: 17))
        XCTAssertEqual(armed(t.start(now: 0)), [.B: 128])
        let ok = response(200, to: invite)
        XCTAssertEqual(t.handle(.received(ok), now: 1), [.cancel(.A), .cancel(.B), .deliver(ok), .arm(.M, at: 129)])
        XCTAssertEqual(t.handle(.received(ok), now: 2), [.deliver(ok)], "2xx retransmissions reach the TU")
        XCTAssertEqual(t.handle(.timer(.M), now: 129), [.terminated])
    }

    func testNonInviteClientTimerECappedAtT2() {
        var t = SIPNonInviteClientTransaction(request: options, reliable: false)
        XCTAssertEqual(armed(t.start(now: 0)), [.E: 0.5, .F: 32])
        var now = 0.5
        var intervals: [Double] = []
        for _ in 0..<5 {
            let a = t.handle(.timer(.E), now: now)
            guard case .arm(.E, let at) = a.last else { return XCTFail() }
            intervals.append(at - now); now = at
        }
        XCTAssertEqual(intervals, [1, 2, 4, 4, 4])
        let ringing = response(100, to: options)
        XCTAssertEqual(t.handle(.received(ringing), now: now), [.deliver(ringing)])
        XCTAssertEqual(t.handle(.timer(.E), now: now + 4), [.transmit(options), .arm(.E, at: now + 8)])
        let ok = response(200, to: options)
        XCTAssertEqual(t.handle(.received(ok), now: 20), [.cancel(.E), .cancel(.F), .deliver(ok), .arm(.K, at: 25)])
        XCTAssertEqual(t.handle(.timer(.K), now: 25), [.terminated])
        var r = SIPNonInviteClientTransaction(request: options, reliable: true)
        XCTAssertEqual(armed(r.start(now: 0)), [.F: 32])
        XCTAssertEqual(r.handle(.received(ok), now: 1).last, .arm(.K, at: 1))
        var f = SIPNonInviteClientTransaction(request: options, reliable: false)
        _ = f.start(now: 0)
        XCTAssertEqual(f.handle(.timer(.F), now: 32), [.cancel(.E), .timedOut, .terminated])
    }

    func testInviteServerTimersGHI() {
        var t = SIPInviteServerTransaction(request: invite, reliable: false)
        XCTAssertEqual(t.start(now: 0), [.deliver(invite)])
        XCTAssertEqual(t.handle(.received(invite), now: 0.1), [], "nothing to resend yet")
        let trying = response(100, to: invite, toTag: nil)
        XCTAssertEqual(t.handle(.send(trying), now: 0.1), [.transmit(trying)])
        XCTAssertEqual(t.handle(.received(invite), now: 0.2), [.transmit(trying)])
        let err = response(480, to: invite)
        XCTAssertEqual(t.handle(.send(err), now: 1), [.transmit(err), .arm(.G, at: 1.5), .arm(.H, at: 33)])
        XCTAssertEqual(t.handle(.timer(.G), now: 1.5), [.transmit(err), .arm(.G, at: 2.5)])
        XCTAssertEqual(t.handle(.timer(.G), now: 2.5), [.transmit(err), .arm(.G, at: 4.5)])
        XCTAssertEqual(t.handle(.timer(.G), now: 4.5), [.transmit(err), .arm(.G, at: 8.5)])
        XCTAssertEqual(t.handle(.timer(.G), now: 8.5), [.transmit(err), .arm(.G, at: 12.5)], "G capped at T2")
        XCTAssertEqual(t.handle(.received(invite), now: 9), [.transmit(err)])
        var ack = invite
        ack.startLine = .request(method: "ACK", uri: invite.requestURI!)
        ack.setHeader("CSeq", "1 ACK")
        XCTAssertEqual(t.handle(.received(ack), now: 10), [.cancel(.G), .cancel(.H), .arm(.I, at: 15)])
        XCTAssertEqual(t.state, .confirmed)
        XCTAssertEqual(t.handle(.timer(.I), now: 15), [.terminated])

        var h = SIPInviteServerTransaction(request: invite, reliable: true)
        _ = h.start(now: 0)
        XCTAssertEqual(h.handle(.send(err), now: 0), [.transmit(err), .arm(.H, at: 32)])
        XCTAssertEqual(h.handle(.timer(.H), now: 32), [.cancel(.G), .timedOut, .terminated])
    }

    func testNonInviteServerTimerJ() {
        var t = SIPNonInviteServerTransaction(request: options, reliable: false)
        XCTAssertEqual(t.start(now: 0), [.deliver(options)])
        XCTAssertEqual(t.handle(.received(options), now: 0.1), [])
        let ok = response(200, to: options)
        XCTAssertEqual(t.handle(.send(ok), now: 1), [.transmit(ok), .arm(.J, at: 33)])
        XCTAssertEqual(t.handle(.received(options), now: 2), [.transmit(ok)])
        XCTAssertEqual(t.handle(.timer(.J), now: 33), [.terminated])
        var r = SIPNonInviteServerTransaction(request: options, reliable: true)
        _ = r.start(now: 0)
        XCTAssertEqual(r.handle(.send(ok), now: 1), [.transmit(ok), .arm(.J, at: 1)])
    }

    func testLayerMatchesAndTicks() {
        let ue = SIPPeer(address: "2001:db8:3000:1::2", port: 5060, transport: .udp)
        var layer = SIPTransactionLayer(timers: SIPTimerValues(t1: 1, t2: 8, t4: 10))
        XCTAssertEqual(layer.receive(options, from: ue, now: 0), [.deliver(options, from: ue)])
        XCTAssertEqual(layer.receive(options, from: ue, now: 0.5), [], "retransmission absorbed")
        let ok = response(200, to: options)
        XCTAssertEqual(layer.respond(ok, now: 1), [.send(ok, to: ue)])
        XCTAssertEqual(layer.receive(options, from: ue, now: 2), [.send(ok, to: ue)])
        XCTAssertEqual(layer.nextDeadline, 65)
        XCTAssertEqual(layer.tick(now: 64.9), [])
        XCTAssertEqual(layer.serverCount, 1)
        XCTAssertEqual(layer.tick(now: 65), [])
        XCTAssertEqual(layer.serverCount, 0)

        // Client side: retransmits by tick, delivers the response, times out the other.
        XCTAssertEqual(layer.sendRequest(options, to: ue, now: 100), [.send(options, to: ue)])
        XCTAssertEqual(layer.tick(now: 101), [.send(options, to: ue)])
        XCTAssertEqual(layer.receive(ok, from: ue, now: 101.5), [.deliver(ok, from: ue)])
        XCTAssertEqual(layer.tick(now: 111.5), [])
        XCTAssertEqual(layer.clientCount, 0)
        _ = layer.sendRequest(options, to: ue, now: 200)
        let outs = layer.tick(now: 264)
        XCTAssertEqual(outs.last, .timedOut(options))
        XCTAssertEqual(layer.clientCount, 0)
    }
}
