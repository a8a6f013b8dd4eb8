import TestSupport
import XCTest
import AKA
import SIP
@testable import IMS

/// RFC 4028 session timers in the IMS core, driven sans-I/O with the injected `now`: 422 with
/// Min-SE, the refresher choice, refreshes that re-arm the timer, BYE at the §10 time when no
/// refresh comes, our own refreshes as refresher, and the proxy rules of §8.
final class IMSSessionTimerTests: XCTestCase {
    /// A registered phone and an IMS without 100rel/preconditions (INVITE → 100, 180, 200 at once).
    func setUpEcho(_ configure: (inout IMSConfig) -> Void = { _ in }) throws -> (IMSCore, TestUE) {
        let (ims, _) = makeIMS(precondition: .off) {
            $0.use100rel = false
            configure(&$0)
        }
        let a = ue(1)
        try registerUE(ims, a)
        return (ims, a)
    }

    func invite(_ ims: IMSCore, _ a: TestUE, cid: String, timer: [String], now: Double) -> [(SIPMessage, SIPPeer)] {
        sent(ims.receive(datagram: request(a, "INVITE", uri: "tel:666", callID: cid, cseq: 1, branch: "z9hG4bK\(cid)",
                                           extra: timer, sdp: offerSDP(a, local: "sendrecv")), from: a.peer, now: now))
    }

    func ack(_ ims: IMSCore, _ a: TestUE, cid: String, toTag: String, now: Double) {
        XCTAssertEqual(ims.receive(datagram: request(a, "ACK", uri: "sip:[\(pcscf6)]:5060", callID: cid, cseq: 1, branch: "z9hG4bK\(cid)ack",
                                                     toTag: toTag, to: "tel:666"), from: a.peer, now: now), [])
    }

    // MARK: 422 and the refresher

    func testIntervalBelowMinSEGets422WithMinSE() throws {
        let (ims, a) = try setUpEcho()
        let s = invite(ims, a, cid: "se60", timer: ["Supported: timer", "Session-Expires: 60"], now: 1)
        XCTAssertEqual(s.map { $0.0.statusCode }, [100, 422])
        XCTAssertEqual(s[1].0.startLine, .response(statusCode: 422, reasonPhrase: "Session Interval Too Small"))
        XCTAssertEqual(s[1].0.header("Min-SE"), "90")
        XCTAssertTrue(ims.activeEchoCalls.isEmpty, "no dialog, no media port")
        // The retry with the Min-SE is accepted; the phone refreshes (our default refresher).
        let ok = invite(ims, a, cid: "se90", timer: ["Supported: timer", "Session-Expires: 90", "Min-SE: 90"], now: 2)
        XCTAssertEqual(ok.map { $0.0.statusCode }, [100, 180, 200])
        XCTAssertEqual(ok[2].0.header("Session-Expires"), "90;refresher=uac")
        XCTAssertEqual(ok[2].0.optionTags("Require"), ["timer"])
    }

    func testPhoneWithoutTimerSupportIsRaisedNotRejected() throws {
        let (ims, a) = try setUpEcho()
        // No Supported: timer: a 422 could not be acted on (§8.1/§9), so 60 is raised to 90, and we refresh.
        let s = invite(ims, a, cid: "old", timer: ["Session-Expires: 60"], now: 1)
        XCTAssertEqual(s.map { $0.0.statusCode }, [100, 180, 200])
        XCTAssertEqual(s[2].0.header("Session-Expires"), "90;refresher=uas")
        XCTAssertFalse(s[2].0.optionTags("Require").contains("timer"), "Require: timer only when the phone refreshes")
    }

    func testRefresherChoice() throws {
        let (ims, a) = try setUpEcho()
        let asked = invite(ims, a, cid: "r1", timer: ["Supported: timer", "Session-Expires: 600;refresher=uas"], now: 1)
        XCTAssertEqual(asked[2].0.header("Session-Expires"), "600;refresher=uas", "the request's refresher is kept")
        XCTAssertNil(asked[2].0.header("Require"))
        let open = invite(ims, a, cid: "r2", timer: ["Supported: timer"], now: 1)
        XCTAssertEqual(open[2].0.header("Session-Expires"), "1800;refresher=uac", "force: our interval, the phone refreshes")
        let none = invite(ims, a, cid: "r3", timer: [], now: 1)
        XCTAssertEqual(none[2].0.header("Session-Expires"), "1800;refresher=uas", "a phone without timer support cannot refresh")

        let (ims2, b) = try setUpEcho { $0.sessionTimer.force = false; $0.sessionTimer.refresher = .uas }
        XCTAssertNil(invite(ims2, b, cid: "r4", timer: [], now: 1)[2].0.header("Session-Expires"), "force off: no timer")
        XCTAssertEqual(invite(ims2, b, cid: "r5", timer: ["Supported: timer", "Session-Expires: 300"], now: 1)[2].0.header("Session-Expires"),
                       "300;refresher=uas", "configured refresher when the phone leaves the choice")
    }

    // MARK: the phone refreshes

    func testPhoneRefreshReArmsAndMissingRefreshEndsWithBye() throws {
        let (ims, a) = try setUpEcho()
        let s = invite(ims, a, cid: "ref", timer: ["Supported: timer", "Session-Expires: 90"], now: 0)
        let toTag = try XCTUnwrap(s[2].0.to().tag)
        ack(ims, a, cid: "ref", toTag: toTag, now: 0.2)
        // §10: BYE at interval - min(32, interval/3) = 90 - 30 = 60 s after the 2xx.
        XCTAssertEqual(ims.echoCalls["ref"]?.session?.byeAt, 60)

        // The phone refreshes at 45 s with an UPDATE: 200 with Session-Expires, timer re-armed.
        let upd = sent(ims.receive(datagram: request(a, "UPDATE", uri: "sip:[\(pcscf6)]:5060", callID: "ref", cseq: 2, branch: "z9hG4bKref2",
                                                     toTag: toTag, to: "tel:666", extra: ["Supported: timer", "Session-Expires: 90;refresher=uac"]),
                                   from: a.peer, now: 45))
        XCTAssertEqual(upd.map(summary), ["200 UPDATE"])
        XCTAssertEqual(upd[0].0.header("Session-Expires"), "90;refresher=uac")
        XCTAssertEqual(upd[0].0.optionTags("Require"), ["timer"])
        XCTAssertEqual(ims.echoCalls["ref"]?.session?.byeAt, 105)
        XCTAssertTrue(sent(ims.tick(now: 61)).isEmpty, "the old deadline no longer holds")
        XCTAssertEqual(ims.activeEchoCalls, ["ref"])

        // No further refresh: at 105 s we send BYE (to the phone, in its dialog) and end the call.
        let end = ims.tick(now: 105)
        let bye = try XCTUnwrap(sent(end).first { $0.0.method == "BYE" })
        XCTAssertEqual(bye.1, a.peer)
        XCTAssertEqual(try bye.0.to().tag, "\(a.tag)c", "To is the phone's From")
        XCTAssertEqual(try bye.0.from().tag, toTag)
        XCTAssertEqual(bye.0.requestURI?.description, a.contactURI)
        XCTAssertTrue(end.contains(.closeMedia(id: "ref")))
        let ended = events(end).compactMap { e -> String? in if case .callEnded(_, let r) = e { return r }; return nil }
        XCTAssertEqual(ended.count, 1)
        XCTAssertTrue(ended[0].contains("session timer expired") && ended[0].contains("BYE at 60 s"), ended[0])
        XCTAssertTrue(ims.activeEchoCalls.isEmpty)
    }

    func testByeTimeUsesThirtyTwoSecondsForLongIntervals() throws {
        let (ims, a) = try setUpEcho()
        let s = invite(ims, a, cid: "long", timer: ["Supported: timer", "Session-Expires: 1800"], now: 10)
        ack(ims, a, cid: "long", toTag: try XCTUnwrap(s[2].0.to().tag), now: 10.1)
        XCTAssertEqual(ims.echoCalls["long"]?.session?.byeAt, 10 + 1800 - 32)
    }

    func testRefreshBelowMinSEGets422AndKeepsTheDialog() throws {
        let (ims, a) = try setUpEcho()
        let s = invite(ims, a, cid: "low", timer: ["Supported: timer", "Session-Expires: 90"], now: 0)
        let toTag = try XCTUnwrap(s[2].0.to().tag)
        ack(ims, a, cid: "low", toTag: toTag, now: 0.1)
        let r = sent(ims.receive(datagram: request(a, "UPDATE", uri: "sip:[\(pcscf6)]:5060", callID: "low", cseq: 2, branch: "z9hG4bKlow2",
                                                   toTag: toTag, to: "tel:666", extra: ["Supported: timer", "Session-Expires: 30"]),
                                 from: a.peer, now: 20))
        XCTAssertEqual(r.map(summary), ["422 UPDATE"])
        XCTAssertEqual(r[0].0.header("Min-SE"), "90")
        XCTAssertEqual(ims.echoCalls["low"]?.session?.byeAt, 60, "the running timer is untouched")
    }

    // MARK: the IMS refreshes

    func testIMSRefreshesWithUpdateAtHalfTheInterval() throws {
        let (ims, a) = try setUpEcho()
        let s = invite(ims, a, cid: "we", timer: ["Supported: timer", "Session-Expires: 90;refresher=uas"], now: 0)
        let ok = s[2].0
        let toTag = try XCTUnwrap(ok.to().tag)
        ack(ims, a, cid: "we", toTag: toTag, now: 0.1)
        XCTAssertTrue(sent(ims.tick(now: 44.9)).isEmpty)
        let refresh = sent(ims.tick(now: 45))
        XCTAssertEqual(refresh.count, 1)
        let (upd, to) = refresh[0]
        XCTAssertEqual(to, a.peer)
        XCTAssertEqual(upd.method, "UPDATE")
        XCTAssertEqual(upd.header("Session-Expires"), "90;refresher=uac", "uac = us, the sender of this UPDATE")
        XCTAssertEqual(upd.header("Min-SE"), "90")
        XCTAssertEqual(upd.body, ok.body, "the same SDP, unchanged")
        XCTAssertEqual(try upd.cseq(), SIPCSeq(sequence: 1, method: "UPDATE"))
        XCTAssertEqual(try upd.from().tag, toTag)
        XCTAssertEqual(try upd.to().tag, "\(a.tag)c")
        XCTAssertEqual(try upd.topVia().transport, "UDP")

        // The phone's 200 (keeping us as refresher) re-arms: next refresh 45 s later.
        func answer(_ req: SIPMessage, _ code: Int, se: String?, now: Double) -> [IMSAction] {
            var r = SIPMessage.testResponse(to: req, code)
            if let se { r.addHeader("Session-Expires", se) }
            return ims.receive(datagram: r.serialized(), from: a.peer, now: now)
        }
        XCTAssertTrue(sent(answer(upd, 200, se: "90;refresher=uac", now: 45.2)).isEmpty)
        XCTAssertEqual(ims.echoCalls["we"]?.session?.refreshAt, 90.2)
        let second = try XCTUnwrap(sent(ims.tick(now: 90.2)).first)
        XCTAssertEqual(try second.0.cseq().sequence, 2)
        // This one is never answered: the UPDATE times out (Timer F, 64*T1) and the dialog ends.
        let end = ims.tick(now: 90.2 + 32)
        XCTAssertTrue(end.contains(.closeMedia(id: "we")))
        XCTAssertTrue(ims.activeEchoCalls.isEmpty)
    }

    func testIMSRefreshWithReInviteIsAcked() throws {
        let (ims, a) = try setUpEcho { $0.sessionTimer.method = "INVITE" }
        let s = invite(ims, a, cid: "ri", timer: ["Supported: timer", "Session-Expires: 120;refresher=uas"], now: 0)
        ack(ims, a, cid: "ri", toTag: try XCTUnwrap(s[2].0.to().tag), now: 0.1)
        let reinv = try XCTUnwrap(sent(ims.tick(now: 60)).first)
        XCTAssertEqual(reinv.0.method, "INVITE")
        XCTAssertEqual(reinv.0.contentType, "application/sdp")
        var r = SIPMessage.testResponse(to: reinv.0, 200)
        r.addHeader("Session-Expires", "120;refresher=uas")   // the phone takes over refreshing
        let out = sent(ims.receive(datagram: r.serialized(), from: a.peer, now: 60.1))
        XCTAssertEqual(out.map { $0.0.method }, ["ACK"])
        XCTAssertEqual(try out[0].0.cseq(), SIPCSeq(sequence: 1, method: "ACK"))
        let t = try XCTUnwrap(ims.echoCalls["ri"]?.session)
        XCTAssertFalse(t.weRefresh, "refresher=uas in the 2xx to our request names the phone")
        XCTAssertEqual(t.byeAt, 60.1 + 120 - 32)
    }

    // MARK: proxy (RFC 4028 §8)

    func proxied(_ extra: [String], _ a: TestUE, _ ims: IMSCore, cid: String) -> [(SIPMessage, SIPPeer)] {
        sent(ims.receive(datagram: request(a, "INVITE", uri: "tel:0600000002", callID: cid, cseq: 1, branch: "z9hG4bK\(cid)",
                                           extra: extra, sdp: "v=0\r\n"), from: a.peer, now: 0))
    }

    func testProxyAppliesMinSELowersAndInserts() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        let low = proxied(["Supported: timer", "Session-Expires: 60"], a, ims, cid: "p1")
        XCTAssertEqual(low.count, 1)
        XCTAssertEqual(low[0].0.statusCode, 422)
        XCTAssertEqual(low[0].0.header("Min-SE"), "90")
        XCTAssertEqual(low[0].1, a.peer, "answered to the caller, nothing forwarded")

        let high = proxied(["Supported: timer", "Session-Expires: 7200", "Min-SE: 120"], a, ims, cid: "p2")
        XCTAssertEqual(high[0].1.address, b.peer.address)
        XCTAssertEqual(high[0].0.header("Session-Expires"), "1800", "lowered to our interval")
        XCTAssertEqual(high[0].0.header("Min-SE"), "120", "the caller's larger Min-SE is kept")
        let floor = proxied(["Supported: timer", "Session-Expires: 7200", "Min-SE: 3600"], a, ims, cid: "p3")
        XCTAssertEqual(floor[0].0.header("Session-Expires"), "3600", "never below the request's Min-SE")

        let none = proxied(["Supported: timer"], a, ims, cid: "p4")
        XCTAssertEqual(none[0].0.header("Session-Expires"), "1800", "force: inserted")
        XCTAssertEqual(none[0].0.header("Min-SE"), "90")

        // The callee ignores timers: its 2xx gets Session-Expires with refresher=uac and Require: timer.
        let ok = SIPMessage.testResponse(to: none[0].0, 200, toTag: "b")
        let back = sent(ims.receive(datagram: ok.serialized(), from: b.peer, now: 1))
        XCTAssertEqual(back.first?.1, a.peer)
        XCTAssertEqual(back.first?.0.header("Session-Expires"), "1800;refresher=uac")
        XCTAssertEqual(back.first?.0.optionTags("Require"), ["timer"])

        // The phones' own refresh passes unchanged.
        let refresh = sent(ims.receive(datagram: request(a, "UPDATE", uri: b.contactURI, callID: "p4", cseq: 2, branch: "z9hG4bKp4u",
                                                         toTag: "b", to: "tel:0600000002", extra: ["Supported: timer", "Session-Expires: 1800;refresher=uac"]),
                                       from: a.peer, now: 900))
        XCTAssertEqual(refresh.first?.1.address, b.peer.address)
        XCTAssertEqual(refresh.first?.0.header("Session-Expires"), "1800;refresher=uac")
        XCTAssertNil(refresh.first?.0.header("Min-SE"))
    }

    func testProxyForgetsADialogWhoseRefreshesStop() throws {
        let (ims, a, b) = try makeIMSWithTwoPhones()
        _ = proxied(["Supported: timer", "Session-Expires: 300"], a, ims, cid: "quiet")
        XCTAssertEqual(ims.dialogs.map(\.callID), ["quiet"])
        _ = ims.receive(datagram: request(a, "UPDATE", uri: b.contactURI, callID: "quiet", cseq: 2, branch: "z9hG4bKq2", toTag: "b",
                                          to: "tel:0600000002", extra: ["Supported: timer", "Session-Expires: 300;refresher=uac"]),
                        from: a.peer, now: 150)
        XCTAssertTrue(events(ims.tick(now: 150 + 300)).isEmpty, "within interval + 32 s of the last refresh")
        XCTAssertEqual(ims.dialogs.count, 1)
        let out = ims.tick(now: 150 + 333)
        XCTAssertTrue(events(out).contains(.callEnded(callID: "quiet", reason: "no refresh through the proxy within 300 s (RFC 4028)")))
        XCTAssertTrue(ims.dialogs.isEmpty)
    }
}
