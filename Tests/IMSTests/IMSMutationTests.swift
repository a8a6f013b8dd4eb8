import TestSupport
import XCTest
import AKA
import SIP
@testable import IMS

/// The IMS core behind the parser: real REGISTER, INVITE (echo and to another phone),
/// SUBSCRIBE and MESSAGE requests with bytes mutated and numbers set to extremes, fed to
/// `IMSCore.receive` after a registration. Every one must end in a response, a drop or a
/// log, never a trap, and a clean registration and echo call must still work afterwards.
final class IMSMutationTests: XCTestCase {
    /// Numbers a header may carry, from harmless to hostile.
    static let extremes = ["0", "-1", "4294967295", "4294967296", "18446744073709551616", "99999999999999999999999",
                           "2147483648", "65536", "-9223372036854775808", "1e9", "", " ", "0x10"]

    static func mutate(_ text: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var b = text
        switch rng.next() % 6 {
        case 0: // replace one run of digits by an extreme number
            let digitRuns = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 && ($0 == 0 || !(b[$0 - 1] >= 0x30 && b[$0 - 1] <= 0x39)) }
            guard !digitRuns.isEmpty else { break }
            let start = digitRuns[Int(rng.next() % UInt64(digitRuns.count))]
            var end = start
            while end < b.count, b[end] >= 0x30, b[end] <= 0x39 { end += 1 }
            b.replaceSubrange(start..<end, with: Array(extremes[Int(rng.next() % UInt64(extremes.count))].utf8))
        case 1: // delete a span
            let s = Int(rng.next() % UInt64(b.count)), n = 1 + Int(rng.next() % 30)
            b.removeSubrange(s..<min(b.count, s + n))
        case 2: // duplicate a line
            let lines = b.split(separator: 0x0A, omittingEmptySubsequences: false)
            let l = lines[Int(rng.next() % UInt64(lines.count))]
            let at = Int(rng.next() % UInt64(b.count))
            b.insert(contentsOf: Array(l) + [0x0A], at: at)
        case 3: // bit flips
            for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8)) }
        case 4: // a separator character dropped in
            let at = Int(rng.next() % UInt64(b.count))
            b.insert([0x3A, 0x3B, 0x2C, 0x3D, 0x22, 0x3C, 0x3E, 0x40, 0x5B, 0x5D, 0x0D, 0x0A, 0x00][Int(rng.next() % 13)], at: at)
        default: // truncation
            b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
        }
        return b
    }

    func testMutatedRequestsNeverTrapAndTheIMSKeepsWorking() throws {
        var rng = SeededRandom(seed: 0x51B_0001)
        let (ims, a, b) = try makeIMSWithTwoPhones()
        var now = 10.0
        // Real requests of a registered phone (the REGISTER carries a fresh digest answer).
        let c = sent(ims.receive(datagram: a.register(), from: a.peer, now: now))
        let (auth, _) = try a.answer(try XCTUnwrap(c.first?.0))
        let seeds: [[UInt8]] = [
            a.register(authorization: auth),
            request(a, "INVITE", uri: "tel:666", callID: "m-echo", cseq: 1, branch: "z9hG4bKm1", extra: inviteExtras(), sdp: offerSDP(a)),
            request(a, "INVITE", uri: "tel:0600000002", callID: "m-call", cseq: 1, branch: "z9hG4bKm2", extra: inviteExtras(), sdp: offerSDP(a)),
            request(a, "SUBSCRIBE", uri: a.impu, callID: "m-sub", cseq: 1, branch: "z9hG4bKm3",
                    extra: ["Event: reg", "Accept: application/reginfo+xml", "Expires: 600000"]),
            request(a, "MESSAGE", uri: "tel:0600000002", callID: "m-msg", cseq: 1, branch: "z9hG4bKm4",
                    extra: ["Content-Type: text/plain"], sdp: nil),
        ]
        var answered = 0
        for n in 0..<10_000 {
            now += 0.01
            let m = Self.mutate(seeds[n % seeds.count], &rng)
            let out = ims.receive(datagram: m, from: n % 2 == 0 ? a.peer : b.peer, now: now)
            if !sent(out).isEmpty { answered += 1 }
            if n % 100 == 0 { _ = ims.tick(now: now) }
        }
        XCTAssertGreaterThan(answered, 1000, "the mutations are answered (not all dropped at the parser)")
        // The same core still registers a phone and answers an echo call.
        let d = ue(5)
        try registerUE(ims, d, now: now + 1)
        let inv = sent(ims.receive(datagram: request(d, "INVITE", uri: "tel:666", callID: "after", cseq: 1, branch: "z9hG4bKafter",
                                                      extra: inviteExtras(), sdp: offerSDP(d)), from: d.peer, now: now + 2))
        XCTAssertEqual(inv.first?.0.statusCode, 100)
    }
}
