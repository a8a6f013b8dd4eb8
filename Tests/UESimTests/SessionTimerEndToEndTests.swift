import XCTest
import IMS
import SIP
@testable import UESim

/// RFC 4028 end to end through the simulated phone, the ePDG's ESP and the IMS core, in
/// virtual time, with a short session interval (8 s, Min-SE 4 s) so refreshes happen during
/// a 20-second call: the phone as refresher, then the IMS as refresher.
final class SessionTimerEndToEndTests: XCTestCase {
    func sipTraces(_ h: CoreHarness, _ p: Phone, _ dir: PhoneTrace.Direction) -> [PhoneTrace] {
        h.traces(p).filter { $0.layer == "SIP" && $0.direction == dir }
    }

    func ladder(_ h: CoreHarness, _ p: Phone) -> String {
        (p.events.map(\.description) + h.traces(p).map(\.description)).joined(separator: "\n")
    }

    func testPhoneRefreshesDuringTheCall() throws {
        let h = CoreHarness(sessionTimer: IMSSessionTimerConfig(interval: 8, minSE: 4, refresher: .uac))
        let p = try h.addPhone(mediaDuration: 20, sessionExpires: 8, minSE: 4)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertEqual(p.events.first { $0.step == .bye }?.verdict, .pass, ladder(h, p))
        // Refreshes every 4 s of a 20 s call: UPDATEs with CSeq after the precondition UPDATE, each answered 200.
        let updates = sipTraces(h, p, .sent).filter { $0.summary.hasPrefix("UPDATE") }
        let oks = sipTraces(h, p, .received).filter { $0.summary.hasPrefix("200") && $0.summary.contains("UPDATE)") }
        XCTAssertGreaterThanOrEqual(updates.count, 1 + 4, ladder(h, p))
        XCTAssertEqual(oks.count, updates.count, ladder(h, p))
        // The IMS never had to end the call itself.
        XCTAssertFalse(sipTraces(h, p, .received).contains { $0.summary.hasPrefix("BYE") }, ladder(h, p))
        XCTAssertTrue(h.imsEvents.contains { if case .callEnded(_, "BYE") = $0 { return true }; return false }, "\(h.imsEvents)")
    }

    func testIMSRefreshesThePhoneWithUpdates() throws {
        let h = CoreHarness(sessionTimer: IMSSessionTimerConfig(interval: 8, minSE: 4, refresher: .uas))
        let p = try h.addPhone(mediaDuration: 20, sessionExpires: 8, minSE: 4)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        let refreshes = sipTraces(h, p, .received).filter { $0.summary.hasPrefix("UPDATE") }
        XCTAssertGreaterThanOrEqual(refreshes.count, 4, ladder(h, p))
        XCTAssertEqual(p.events.first { $0.step == .bye }?.verdict, .pass, ladder(h, p))
        XCTAssertFalse(sipTraces(h, p, .received).contains { $0.summary.hasPrefix("BYE") }, ladder(h, p))
    }

    /// The phone's 3-second interval is below the IMS's Min-SE of 4: 422, then the INVITE again with 4.
    func testPhoneRetriesAfter422() throws {
        let h = CoreHarness(sessionTimer: IMSSessionTimerConfig(interval: 8, minSE: 4))
        let p = try h.addPhone(mediaDuration: 1, sessionExpires: 3, minSE: 2)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertTrue(sipTraces(h, p, .received).contains { $0.summary.hasPrefix("422 Session Interval Too Small") }, ladder(h, p))
        XCTAssertEqual(sipTraces(h, p, .sent).filter { $0.summary.hasPrefix("INVITE") }.count, 2, ladder(h, p))
    }

    /// Between two phones through the IMS proxy: the caller refreshes (the callee made it
    /// refresher), the UPDATEs cross the proxy untouched and the callee answers them.
    func testPhoneToPhoneRefreshesCrossTheProxy() throws {
        let h = CoreHarness(sessionTimer: IMSSessionTimerConfig(interval: 8, minSE: 4))
        let b = try h.addPhone(imsi: "001010000000002", scenario: .register, teardown: false, sessionExpires: 8, minSE: 4)
        let a = try h.addPhone(imsi: "001010000000001", mediaDuration: 20, target: "sip:001010000000002@\(CoreHarness.domain)",
                               sessionExpires: 8, minSE: 4)
        h.run()
        XCTAssertEqual(a.finished, true, ladder(h, a) + "\n---\n" + ladder(h, b))
        let sent = sipTraces(h, a, .sent).filter { $0.summary.hasPrefix("UPDATE") }
        let answered = sipTraces(h, a, .received).filter { $0.summary.hasPrefix("200") && $0.summary.contains("UPDATE)") }
        XCTAssertGreaterThanOrEqual(sent.count, 4, ladder(h, a))
        XCTAssertEqual(answered.count, sent.count, ladder(h, a))
        XCTAssertEqual(sipTraces(h, b, .received).filter { $0.summary.hasPrefix("UPDATE") }.count, sent.count, ladder(h, b))
        XCTAssertFalse(sipTraces(h, b, .sent).contains { $0.summary.hasPrefix("BYE") }, "the callee never timed out: " + ladder(h, b))
    }
}
