import XCTest
import SIP
import IKEv2
import Wire
@testable import UESim

/// Bad input from the network is dropped or answered, never a crash.
final class RobustnessTests: XCTestCase {
    struct LCG { var s: UInt64; mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 33 } }

    func testMutatedSIPAndRTPNeverTrap() throws {
        var ua = SIPUserAgent(config: Net.config(password: "pw"))
        let reg = Net.sent(ua.register(now: 0))[0]
        let base = Net.response("401 Unauthorized", to: reg, extra: ["WWW-Authenticate: Digest realm=\"r\", nonce=\"bm9uY2U=\", algorithm=AKAv1-MD5, qop=\"auth\""])
        var rng = LCG(s: 7)
        for i in 0..<2000 {
            var b = base
            switch i % 4 {
            case 0: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
            case 1: for _ in 0..<4 { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2: b.insert(contentsOf: [0x0d, 0x0a, 0x3a, 0x22, 0x3c], at: Int(rng.next() % UInt64(b.count)))
            default: b = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            var copy = ua
            _ = copy.receive(b, from: Net.pcscf, now: 1)
            _ = try? SessionDescription(parsing: b)
            _ = try? RTPPacket(parsing: b)
            var checker = RTPEchoChecker()
            _ = checker.receive(b, now: 1)
        }
        // A USIM-less UA answering an AKA challenge fails registration cleanly.
        let out = ua.receive(base, from: Net.pcscf, now: 1)
        XCTAssertTrue(Net.sent(out).isEmpty)
        XCTAssertEqual(ua.registrationState, .failed)
    }

    func testPhoneIgnoresGarbageDatagrams() throws {
        let h = CoreHarness()
        let p = try h.addPhone(scenario: .attach)
        var rng = LCG(s: 3)
        _ = p.start(now: 0)
        for i in 0..<500 {
            let b = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let port: UInt16 = i % 2 == 0 ? 500 : 4500
            _ = p.receive(b, from: IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), port), to: IKEEndpoint(IPAddress(v4: 203, 0, 113, 50), port), now: 0.1)
            _ = p.receiveESP(b, now: 0.1)
        }
        XCTAssertNil(p.finished)   // still waiting for a real IKE_SA_INIT response
        XCTAssertEqual(p.events.count, 0)
    }
}
