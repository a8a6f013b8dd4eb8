import XCTest
@testable import IKEv2

/// The ePDG ending a subscriber's SAs itself (API delete by IMSI): each ends with a Delete
/// request to the phone (RFC 7296 §1.4.1); the single-SA case is
/// `AttachTests.testEPDGDeleteIsSentToThePhone`.
final class EPDGLocalDeleteTests: XCTestCase {
    func testDeleteByIMSIEndsEverySAOfTheSubscriberWithADelete() throws {
        let h = try AttachHarness.attached()
        let actions = h.epdg.delete(imsi: AttachHarness.imsi, now: h.now)
        let sends = AttachHarness.sends(actions)
        XCTAssertEqual(sends.count, 1, "\(actions)")
        XCTAssertEqual(try sends.first.map { try IKEMessage(parsing: $0).header.exchangeType }, .INFORMATIONAL)
        XCTAssertTrue(actions.contains { if case .deleteChildSA = $0 { true } else { false } }, "\(actions)")
        XCTAssertTrue(h.epdg.allSAs.isEmpty)
        XCTAssertEqual(h.pool.inUse, 0, "the inner address went back to the pool")
    }
}
