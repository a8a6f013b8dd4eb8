import XCTest
import AKA
import SIP
@testable import IMS

/// Emergency registration (Contact with `sos`, TS 24.229 §5.1.6): without the callbox's
/// `authentication: false` on the sos echo entry it is challenged like any REGISTER; with
/// it, a known subscriber is registered at once. A normal REGISTER is always challenged.
final class IMSEmergencyRegistrationTests: XCTestCase {
    func ims(emergencyWithoutAuthentication: Bool) -> IMSCore {
        let subs = IMSMemorySubscribers(domain: domain)
        subs.add(.init(subscriber: IMSSubscriber(impi: "001010000000001@\(domain)", impus: ["001010000000001"], authentType: .akav1),
                       algorithm: milenage()))
        var config = IMSConfig(domain: domain, sipAddresses: ["198.51.100.1"], timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
        config.emergencyWithoutAuthentication = emergencyWithoutAuthentication
        return IMSCore(config: config, subscribers: subs)
    }

    func status(_ actions: [IMSAction]) -> Int? {
        for a in actions { if case let .send(b, _) = a, let m = try? SIPMessage(parsing: b) { return m.statusCode } }
        return nil
    }

    func testEmergencyRegistrationWithoutChallengeWhenConfigured() {
        let u = TestUE(imsi: "001010000000001", address: "198.51.100.40", usim: try! USIM(algorithm: milenage()))
        XCTAssertEqual(status(ims(emergencyWithoutAuthentication: true).receive(datagram: u.register(contactParams: ";sos"), from: u.peer, now: 0)), 200)
    }

    func testEmergencyRegistrationIsChallengedByDefault() {
        let u = TestUE(imsi: "001010000000001", address: "198.51.100.41", usim: try! USIM(algorithm: milenage()))
        XCTAssertEqual(status(ims(emergencyWithoutAuthentication: false).receive(datagram: u.register(contactParams: ";sos"), from: u.peer, now: 0)), 401)
    }

    func testNormalRegistrationIsAlwaysChallenged() {
        let u = TestUE(imsi: "001010000000001", address: "198.51.100.42", usim: try! USIM(algorithm: milenage()))
        XCTAssertEqual(status(ims(emergencyWithoutAuthentication: true).receive(datagram: u.register(), from: u.peer, now: 0)), 401)
    }
}
