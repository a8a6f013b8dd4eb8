import XCTest
import Crypto
@testable import IKEv2

/// esp_duration is a Child SA's hard lifetime (RFC 4301 §4.4.2.1): the ePDG rekeys at 90 %,
/// retries a refused rekey shortly, and deletes the SA when it reaches 100 % without a
/// successful rekey, whatever else is outstanding; the IKE SA stays.
extension IKESARekeyTests {
    func attachedWithChildLifetime() throws -> (AttachHarness, IKEResponderSA, ChildSADescription, Double) {
        let h = try AttachHarness.attached(ikeLifetime: 100_000, espLifetime: 100)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let child = try XCTUnwrap(sa.children.first)
        return (h, sa, child, try XCTUnwrap(sa.childCreatedAt[child.inboundSPI]))
    }

    /// The INFORMATIONAL requests among `actions`, opened with the phone's keys.
    func informationalRequests(_ h: AttachHarness, _ actions: [IKEAction]) throws -> [[Payload]] {
        let keys = try XCTUnwrap(h.ue.keys), suite = try XCTUnwrap(h.ue.suite)
        return try AttachHarness.sends(actions).compactMap { b in
            let m = try IKEMessage(parsing: b)
            guard m.header.exchangeType == .INFORMATIONAL, !m.header.isResponse else { return nil }
            return try SKProtection(suite: suite, keys: keys, isInitiator: true).unprotect(raw: b, message: m)
        }
    }

    func testRefusedChildRekeyIsRetriedThenTheSAEndsAtItsHardLifetime() throws {
        let (h, sa, child, created) = try attachedWithChildLifetime()
        h.now = created + 90
        var req = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        XCTAssertEqual(try IKEMessage(parsing: req).header.exchangeType, .CREATE_CHILD_SA)
        var out = try refuse(h, request: req, with: NotifyPayload(.TEMPORARY_FAILURE))
        XCTAssertTrue(AttachHarness.logs(out).contains("Child SA rekey refused: TEMPORARY_FAILURE"), "\(AttachHarness.logs(out))")
        XCTAssertEqual(try XCTUnwrap(h.epdg.nextWakeup), h.now + 5, accuracy: 0.001, "retried in 5 s, not a lifetime later")
        h.now += 5
        req = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        XCTAssertEqual(try IKEMessage(parsing: req).header.exchangeType, .CREATE_CHILD_SA)
        out = try refuse(h, request: req, with: NotifyPayload(.NO_PROPOSAL_CHOSEN))
        XCTAssertEqual(try XCTUnwrap(h.epdg.nextWakeup), created + 100, accuracy: 0.001, "the hard lifetime comes first")

        h.now = created + 100
        let end = h.epdg.poll(now: h.now)
        XCTAssertTrue(end.contains(.deleteChildSA(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI)), "\(end)")
        XCTAssertTrue(AttachHarness.logs(end).contains { $0.contains("reached esp_duration 100 s without a successful rekey: deleting it") })
        let deletes = try informationalRequests(h, end).flatMap(\.deletes)
        XCTAssertEqual(deletes.map(\.protocolID), [.ESP])
        XCTAssertEqual(deletes.first?.spis, [be32(child.inboundSPI)])
        XCTAssertTrue(sa.children.isEmpty)
        XCTAssertEqual(h.epdg.count, 1, "the IKE SA stays")
        XCTAssertFalse(AttachHarness.sends(h.epdg.poll(now: h.now + 5)).contains { (try? IKEMessage(parsing: $0).header.exchangeType) == .CREATE_CHILD_SA },
                       "no rekey of a deleted Child SA")
    }

    func testChildSAEndsAtItsHardLifetimeWhileAnotherRequestIsOutstanding() throws {
        let (h, sa, child, created) = try attachedWithChildLifetime()
        // A DPD the phone does not answer yet holds the window from before the rekey point.
        h.now = created + 89
        let dpd = try XCTUnwrap(AttachHarness.sends(sa.checkLiveness(now: h.now)).first)
        h.now = created + 100
        let end = h.epdg.poll(now: h.now)
        XCTAssertTrue(end.contains(.deleteChildSA(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI)), "\(end)")
        XCTAssertTrue(try informationalRequests(h, end).flatMap(\.deletes).isEmpty, "the Delete waits for the window")
        // The phone answers the DPD; the Delete of the Child SA follows.
        h.route(h.ue.handle(datagram: dpd, from: h.epdgEnd, to: h.ueEnd, now: h.now), fromUE: true)
        let answer = try XCTUnwrap(h.packetsToEPDG.last)
        h.packetsToEPDG = []
        var after = h.epdg.handle(datagram: answer.bytes, from: answer.from, to: answer.to, now: h.now)
        after += h.epdg.poll(now: h.now)
        let deletes = try informationalRequests(h, after).flatMap(\.deletes)
        XCTAssertEqual(deletes.map(\.protocolID), [.ESP], "\(AttachHarness.logs(after))")
        XCTAssertEqual(h.epdg.count, 1)
    }
}
