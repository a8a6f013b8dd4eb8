import XCTest
import IKEv2
import IMS
import Wire
@testable import UESim

/// The whole path in one process: Phone ↔ IKEv2 responder + ESP ↔ IMS core with echo media.
final class PhoneEndToEndTests: XCTestCase {
    func ladder(_ h: CoreHarness, _ p: Phone) -> String {
        (p.events.map(\.description) + h.traces(p).map(\.description)).joined(separator: "\n")
    }

    func testAndroidAttachRegisterEchoCallAndTeardown() throws {
        let h = CoreHarness()
        let p = try h.addPhone(profile: .android, mediaDuration: 1)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        let steps = p.events.filter { $0.step != .note }
        XCTAssertEqual(steps.map(\.step), [.ikeSAInit, .ikeAuth, .childSA, .register, .subscribe, .notify, .invite, .media, .bye, .ikeDelete]
                       .filter { s in steps.contains { $0.step == s } }, ladder(h, p))
        for s: PhoneStep in [.ikeSAInit, .ikeAuth, .childSA, .register, .subscribe, .invite, .media, .bye, .ikeDelete] {
            XCTAssertTrue(steps.contains { $0.step == s && $0.verdict == .pass }, "\(s) did not pass:\n" + ladder(h, p))
        }
        XCTAssertTrue(steps.allSatisfy { $0.end >= $0.start })
        XCTAssertEqual(p.innerAddress, IPAddressHelper.v4("198.18.0.2"))
        XCTAssertEqual(p.pcscf?.description, CoreHarness.pcscf)
        let media = try XCTUnwrap(p.events.first { $0.step == .media })
        XCTAssertTrue(media.detail.hasPrefix("sent 50, echoed 50, lost 0, corrupt 0"), media.detail)
        XCTAssertTrue(h.traces(p).contains { $0.layer == "SIP" && $0.summary.hasPrefix("401") }, ladder(h, p))
        XCTAssertTrue(h.traces(p).contains { $0.layer == "SIP" && $0.summary.hasPrefix("PRACK") }, ladder(h, p))
        XCTAssertTrue(h.traces(p).contains { $0.layer == "IKEv2" && $0.summary == "INFORMATIONAL request #\(0)" || $0.summary.hasPrefix("INFORMATIONAL") })
        XCTAssertTrue(h.imsEvents.contains { if case .registered = $0 { return true }; return false })
    }
}

enum IPAddressHelper {
    static func v4(_ s: String) -> Wire.IPAddress? { Wire.IPAddress(s) }
}
