import XCTest
import AKA
@testable import UESim

/// What `vowifi load` and `vowifi ue` rely on: calls placed on a phone that stays registered,
/// detach at the end, traces off, and a failed attach that says why.
final class PhoneLoadTests: XCTestCase {
    func describe(_ p: Phone) -> String { p.events.map(\.description).joined(separator: "\n") }

    /// Registered with the tunnel kept: two calls placed one after the other, each INVITE,
    /// echo and BYE passing, the phone idle again after each; then detach deletes the IKE SA.
    func testPlaceCallsOnARegisteredPhoneThenDetach() throws {
        let h = CoreHarness()
        let p = try h.addPhone(scenario: .register, mediaDuration: 0.2, teardown: false)
        h.run()
        XCTAssertEqual(p.finished, true, describe(p))
        XCTAssertTrue(p.isIdleRegistered, describe(p))
        XCTAssertFalse(p.events.contains { $0.step == .invite })
        for n in 1...2 {
            h.perform(p, p.placeCall(now: h.now))
            XCTAssertNil(p.finished)
            XCTAssertFalse(p.isIdleRegistered)
            // A second call while one runs is refused.
            XCTAssertTrue(p.placeCall(now: h.now).isEmpty)
            h.run(start: false)
            XCTAssertEqual(p.finished, true, describe(p))
            XCTAssertEqual(p.events.filter { $0.step == .bye && $0.verdict == .pass }.count, n, describe(p))
            XCTAssertEqual(p.events.filter { $0.step == .media && $0.verdict.passed }.count, n, describe(p))
            XCTAssertTrue(p.isIdleRegistered, describe(p))
        }
        XCTAssertFalse(p.events.contains { $0.step == .ikeDelete })
        XCTAssertTrue(p.isActive)
        let out = p.detach(now: h.now)
        XCTAssertTrue(out.contains { if case .sendIKE = $0 { return true }; return false }, "no INFORMATIONAL Delete sent")
        h.perform(p, out)
        h.run(start: false, untilQuiet: true)
        XCTAssertFalse(p.isActive, "the IKE SA should be gone after the Delete exchange")
        XCTAssertTrue(p.detach(now: h.now).isEmpty)
    }

    /// A phone that has not registered (or has failed) places no call.
    func testPlaceCallRefusedBeforeRegistration() throws {
        let h = CoreHarness()
        let p = try h.addPhone(scenario: .register, teardown: false)
        XCTAssertTrue(p.placeCall(now: 0).isEmpty)
        XCTAssertNil(p.finished)
        h.run()
        XCTAssertTrue(p.isIdleRegistered)
    }

    /// `traces: false` (load runs): the same run, no `.trace` actions.
    func testTracesOff() throws {
        let h = CoreHarness()
        let quiet = try h.addPhone(imsi: "001010000000001", scenario: .register, traces: false)
        let loud = try h.addPhone(imsi: "001010000000002", scenario: .register)
        h.run()
        XCTAssertEqual(quiet.finished, true, describe(quiet))
        XCTAssertEqual(loud.finished, true, describe(loud))
        XCTAssertTrue(h.traces(quiet).isEmpty)
        XCTAssertFalse(h.traces(loud).isEmpty)
        XCTAssertEqual(quiet.events.map(\.step), loud.events.map(\.step))
    }

    /// A wrong K: the USIM rejects AUTN, the network answers EAP-Failure, and the step's reason
    /// says it was the card's MAC check, naming the likely causes.
    func testWrongKeyFailureNamesTheUSIMVerdict() throws {
        let h = CoreHarness()
        let p = try h.addPhone(scenario: .attach)
        h.hss.add(imsi: "001010000000001", alg: .milenage(try Milenage(k: [UInt8](repeating: 0x11, count: 16), opc: CoreHarness.set1OPc)))
        h.run()
        XCTAssertEqual(p.finished, false)
        guard let last = p.events.last, case let .fail(why) = last.verdict else { return XCTFail(describe(p)) }
        XCTAssertEqual(last.step, .ikeAuth)
        XCTAssertTrue(why.contains("AKA-Authentication-Reject"), why)
        XCTAssertTrue(why.contains("wrong K"), why)
        XCTAssertEqual(why.components(separatedBy: "AUTHENTICATION_FAILED").count - 1, why.contains("AUTHENTICATION_FAILED") ? 1 : 0, why)
    }

    func testEAPProblemExplanations() {
        XCTAssertTrue(Phone.explainEAPProblem("AUTN MAC failure: network not authentic, AKA-Authentication-Reject").hasPrefix("AKA-Authentication-Reject"))
        XCTAssertTrue(Phone.explainEAPProblem("AT_MAC of the challenge does not verify").hasPrefix("EAP-AKA-Client-Error"))
        XCTAssertEqual(Phone.explainEAPProblem("something else"), "something else")
    }
}
