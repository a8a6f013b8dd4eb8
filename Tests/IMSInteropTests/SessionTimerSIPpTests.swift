import Foundation
import XCTest

/// RFC 4028 between Debian's SIPp and the IMS on 127.0.0.1 (echo number, MD5 user1): SIPp
/// offers 60 s, gets 422 with Min-SE 90, asks again with 90, is made refresher, and refreshes
/// by UPDATE; and with an IMS whose Min-SE is 2 s, SIPp makes the IMS the refresher and
/// receives its UPDATE refreshes.
final class SessionTimerSIPpTests: XCTestCase {
    var ims: LoopbackIMS!

    override func setUpWithError() throws { try SIPpRun.requireSIPp() }
    override func tearDown() { ims?.stop() }

    func run(_ scenario: String) throws -> SIPpRun {
        try SIPpRun.run(scenario, port: ims.port, keys: ["domain": LoopbackIMS.domain, "user": "user1", "callee": "tel:666"],
                        extra: ["-au", "user1", "-ap", "secret"], timeout: 30)
    }

    func assertPassed(_ r: SIPpRun, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 0, "\(r.summary)\n--- core log:\n\(ims.log.suffix(4000))", file: file, line: line)
    }

    func test422ThenRefreshByUpdateWithSessionExpires90() throws {
        ims = try LoopbackIMS()
        let r = try run("session_timer_update.xml")
        assertPassed(r)
        XCTAssertTrue(r.messages.contains("SIP/2.0 422 Session Interval Too Small"), r.messages)
        XCTAssertTrue(r.messages.contains("Min-SE: 90"), r.messages)
        XCTAssertTrue(r.messages.contains("X-Refreshed: 90;refresher=uac"), r.messages)
        XCTAssertTrue(ims.dialogs.isEmpty, "\(ims.dialogs)")
    }

    func testIMSRefreshesWhenMadeRefresher() throws {
        ims = try LoopbackIMS(extraConfig: "session_expires: { duration: 4, min: 2, refresher: \"uac\", method: \"update\" },")
        let r = try run("session_timer_ims_refresh.xml")
        assertPassed(r)
        let updates = r.messages.components(separatedBy: "UPDATE sip:").count - 1
        XCTAssertGreaterThanOrEqual(updates, 2, r.messages)
        XCTAssertTrue(r.messages.contains("Session-Expires: 4;refresher=uac"), r.messages)
        XCTAssertFalse(ims.events.contains { $0.contains("session timer expired") }, "\(ims.events)")
    }

    func testNoRefreshMeansBYEFromTheIMSAtTheSection10Time() throws {
        ims = try LoopbackIMS(extraConfig: "session_expires: { duration: 4, min: 2 },")
        let started = Date()
        let r = try run("session_timer_expiry_bye.xml")
        assertPassed(r)
        let took = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(took, 1.9, "BYE not before interval - min(32, interval/3) = 2 s")
        XCTAssertTrue(r.messages.contains("Reason: SIP;cause=408"), r.messages)
        XCTAssertTrue(ims.events.contains { $0.contains("session timer expired") }, "\(ims.events)")
        XCTAssertTrue(ims.log.contains("session timer expired"), String(ims.log.suffix(2000)))
        XCTAssertTrue(ims.dialogs.isEmpty)
    }
}
