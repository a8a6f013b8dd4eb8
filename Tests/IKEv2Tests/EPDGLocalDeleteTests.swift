import XCTest
@testable import IKEv2

/// The ePDG ending an SA itself (`vowifi run` stopping, a subscriber deleted through the
/// API): the INFORMATIONAL {D(IKE)} request, the Child SA removal and the SA's end all reach
/// the host, and the phone hears the Delete and answers it (RFC 7296 §1.4.1).
final class EPDGLocalDeleteTests: XCTestCase {
    func testDeleteBySPIHandsOutTheDeleteTheChildRemovalAndTheEnd() throws {
        let h = try AttachHarness.attached()
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let (spiI, spiR) = (sa.spiI, sa.spiR)
        let child = try XCTUnwrap(sa.children.first)

        let actions = h.epdg.delete(spiR: spiR, now: h.now)
        let sends = AttachHarness.sends(actions)
        XCTAssertEqual(sends.count, 1, "one Delete request: \(actions)")
        XCTAssertTrue(actions.contains { if case let .deleteChildSA(i, _) = $0 { i == child.inboundSPI } else { false } }, "\(actions)")
        XCTAssertTrue(actions.contains { if case let .ikeSADeleted(i, r, _) = $0 { i == spiI && r == spiR } else { false } }, "\(actions)")
        XCTAssertNil(h.epdg.sa(spiR: spiR), "the SA is gone from the ePDG")
        XCTAssertEqual(h.pool.inUse, 0, "the inner address went back to the pool")

        // The phone gets it, answers, and ends its side too.
        let m = try IKEMessage(parsing: try XCTUnwrap(sends.first))
        XCTAssertEqual(m.header.exchangeType, .INFORMATIONAL)
        XCTAssertFalse(m.header.isResponse)
        h.route(actions, fromUE: false)
        h.run(start: false)
        XCTAssertTrue(h.ueActions.contains { if case .ikeSADeleted = $0 { true } else { false } }, "\(AttachHarness.logs(h.ueActions))")
    }

    func testDeleteByIMSIEndsEverySAOfTheSubscriber() throws {
        let h = try AttachHarness.attached()
        let actions = h.epdg.delete(imsi: AttachHarness.imsi, now: h.now)
        XCTAssertEqual(AttachHarness.sends(actions).count, 1)
        XCTAssertTrue(h.epdg.allSAs.isEmpty)
    }
}
