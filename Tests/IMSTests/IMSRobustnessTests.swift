import XCTest
import AKA
import SIP
@testable import IMS

/// Mutated and truncated messages fed to a live IMS (with a registered phone and a call in
/// progress) must produce actions or typed events, never a trap.
final class IMSRobustnessTests: XCTestCase {
    func testMutatedTrafficNeverCrashes() throws {
        let (ims, _) = makeIMS()
        let a = TestUE(imsi: "001010000000001", address: "2001:db8:3000:1::2", usim: try USIM(algorithm: milenage()))
        try registerUE(ims, a)
        let calls = self
        let seeds: [[UInt8]] = [
            a.register(),
            calls.request(a, "INVITE", uri: "tel:666", callID: "f1", cseq: 1, branch: "z9hG4bKf1", extra: calls.inviteExtras(), sdp: calls.offerSDP(a)),
            calls.request(a, "PRACK", uri: "sip:[\(pcscf6)]:5060", callID: "f1", cseq: 2, branch: "z9hG4bKf2", toTag: "x", extra: ["RAck: 1 1 INVITE"]),
            calls.request(a, "UPDATE", uri: "sip:[\(pcscf6)]:5060", callID: "f1", cseq: 3, branch: "z9hG4bKf3", toTag: "x", sdp: calls.offerSDP(a, local: "sendrecv")),
            calls.request(a, "SUBSCRIBE", uri: a.impu, callID: "f4", cseq: 1, branch: "z9hG4bKf4", extra: ["Event: reg", "Expires: 600"]),
        ]
        var rng: UInt64 = 0x9E3779B97F4A7C15
        var n = 0
        for seed in seeds {
            _ = ims.receive(datagram: seed, from: a.peer, now: 1)
            for _ in 0..<400 {
                var m = seed
                for _ in 0..<3 {
                    rng = rng &* 6364136223846793005 &+ 1442695040888963407
                    let pos = Int(rng >> 33) % m.count
                    let choices: [UInt8] = [0x00, 0x0A, 0x0D, 0x20, 0x22, 0x2C, 0x2F, 0x3A, 0x3B, 0x3C, 0x3E, 0x40, 0x5B, 0x5D, 0x3D, 0x30, 0xFF]
                    m[pos] = choices[Int(rng >> 50) % choices.count]
                }
                if rng & 7 == 0 { m = Array(m.prefix(Int(rng >> 40) % m.count)) }
                _ = ims.receive(datagram: m, from: a.peer, now: 1 + Double(n) * 0.01)
                n += 1
            }
        }
        _ = ims.tick(now: 10_000)
        XCTAssertEqual(n, 2000)
    }
}
