import TestSupport
import XCTest
import Crypto
import Wire
@testable import IKEv2

/// What a phone with the right keys can send is the most dangerous input: it passes the ICV
/// and reaches every parser behind the SK payload (ID, CP, TS, SA, Notify, EAP and the
/// EAP-AKA attributes). Each IKE_AUTH request of a real attach is sent again with one payload
/// body mutated (bit flips, truncation, growth, random length fields) and protected with the
/// phone's keys. The ePDG must answer or drop each one without trapping, and a second phone's
/// attach afterwards must still succeed on the same responder (no shared state harmed).
final class DecryptedMutationTests: XCTestCase {
    typealias H = AttachHarness

    static func mutate(_ body: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var b = body
        switch rng.next() % 5 {
        case 0 where !b.isEmpty: // a few bit flips
            for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8)) }
        case 1 where !b.isEmpty: // truncation
            b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
        case 2: // growth with random bytes
            b += (0..<(1 + Int(rng.next() % 40))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        case 3 where b.count >= 2: // a 16-bit length-like field set to an extreme
            let i = Int(rng.next() % UInt64(b.count - 1))
            let v: UInt16 = [0, 1, 0xFFFF, 0x8000, UInt16(b.count), UInt16(b.count + 1)][Int(rng.next() % 6)]
            b[i] = UInt8(v >> 8); b[i + 1] = UInt8(v & 0xFF)
        default: // one byte set to an edge value
            if !b.isEmpty { b[Int(rng.next() % UInt64(b.count))] = [0, 1, 0x7F, 0x80, 0xFF][Int(rng.next() % 5)] }
        }
        return b
    }

    static func body(_ p: Payload) -> [UInt8] {
        var w = ByteWriter()
        p.serializeBody(into: &w)
        return w.bytes
    }

    /// The payload list with payload `i`'s body replaced by a mutation (sent with its own type).
    static func mutated(_ payloads: [Payload], _ rng: inout SeededRandom) -> [Payload] {
        var p = payloads
        let i = Int(rng.next() % UInt64(p.count))
        p[i] = .unknown(type: p[i].type, critical: false, body: mutate(body(p[i]), &rng))
        return p
    }

    func testMutatedFirstAuthRequests() throws {
        var rng = SeededRandom(seed: 0x5EED_0001)
        var refused = 0
        for _ in 0..<400 {
            let h = try H()
            try h.makeUE()
            let f = try h.firstAuthOfPhone()
            _ = try? h.sendProtected(f.header, Self.mutated(f.payloads, &rng), from: f.from, to: f.to)
            h.run(start: false)
            if h.ue.state != .established { refused += 1 }
        }
        // The mutations reach the parsers: most of them spoil the attach.
        XCTAssertGreaterThan(refused, 130)
    }

    func testMutatedEAPResponses() throws {
        var rng = SeededRandom(seed: 0x5EED_0002)
        var refused = 0
        for _ in 0..<400 {
            let h = try H()
            try h.makeUE()
            let f = try h.firstAuthOfPhone()
            try h.sendProtected(f.header, f.payloads, from: f.from, to: f.to)
            // The phone's EAP-Response/AKA-Challenge, with its EAP payload (or another) mutated.
            let r = try h.nextRequestOfPhone()
            var p = r.payloads
            if let i = p.firstIndex(where: { $0.type == .EAP }), rng.next() % 4 != 0 {
                p[i] = .unknown(type: .EAP, critical: false, body: Self.mutate(Self.body(p[i]), &rng))
            } else {
                p = Self.mutated(p, &rng)
            }
            _ = try? h.sendProtected(r.header, p, from: r.from, to: r.to)
            h.run(start: false)
            if h.ue.state != .established { refused += 1 }
        }
        // The mutations reach the EAP-AKA parsing and checks: most spoil the attach (317 of 400 with this seed).
        XCTAssertGreaterThan(refused, 200)
    }

    func testMutatedFinalAuthThenAnotherPhoneAttaches() throws {
        var rng = SeededRandom(seed: 0x5EED_0003)
        var refused = 0
        for n in 0..<400 {
            let h = try H()
            try h.makeUE()
            let f = try h.firstAuthOfPhone()
            try h.sendProtected(f.header, f.payloads, from: f.from, to: f.to)
            let e = try h.nextRequestOfPhone()
            try h.sendProtected(e.header, e.payloads, from: e.from, to: e.to)
            // The last IKE_AUTH: AUTH, CP, SA, TSi, TSr (and notifies), one of them mutated.
            let last = try h.nextRequestOfPhone()
            _ = try? h.sendProtected(last.header, Self.mutated(last.payloads, &rng), from: last.from, to: last.to)
            h.run(start: false)
            if h.ue.state != .established { refused += 1 }
            if n % 100 == 0 {
                // The same responder still serves a clean attach from another phone.
                try h.makeUE()
                h.run()
                XCTAssertEqual(h.ue.state, .established, "iteration \(n): \(H.logs(h.ueActions + h.epdgActions).suffix(2000))")
            }
        }
        // The mutations reach AUTH, CP, SA and TS handling: most spoil the attach (386 of 400 with this seed).
        XCTAssertGreaterThan(refused, 250)
    }
}
