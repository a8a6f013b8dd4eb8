import XCTest
import TestSupport
@testable import AKA

final class MilenageTests: XCTestCase {
    private func cases() throws -> [[String: Any]] {
        let root = try XCTUnwrap(Vectors.json("milenage_ts35208.json") as? [String: Any])
        return try XCTUnwrap(root["cases"] as? [[String: Any]])
    }

    private func b(_ c: [String: Any], _ key: String) -> [UInt8] { Vectors.bytes(c[key] as? String ?? "") }

    /// All 20 TS 35.208 sets: OPc from OP, f1, f1*, f2, f3, f4, f5, f5* and AUTN.
    func testTS35208AllSets() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 20)
        for c in all {
            let set = c["test_set"] as? Int ?? -1
            let k = b(c, "k"), rand = b(c, "rand"), sqn = b(c, "sqn"), amf = b(c, "amf")
            XCTAssertEqual(try Milenage.opc(k: k, op: b(c, "op")), b(c, "opc"), "OPc set \(set)")
            for m in [try Milenage(k: k, op: b(c, "op")), try Milenage(k: k, opc: b(c, "opc"))] {
                XCTAssertEqual(try m.f1(rand: rand, sqn: sqn, amf: amf), b(c, "f1"), "f1 set \(set)")
                XCTAssertEqual(try m.f1Star(rand: rand, sqn: sqn, amf: amf), b(c, "f1star"), "f1* set \(set)")
                let o = try m.f2345(rand: rand)
                XCTAssertEqual(o.res, b(c, "f2"), "f2 set \(set)")
                XCTAssertEqual(o.ck, b(c, "f3"), "f3 set \(set)")
                XCTAssertEqual(o.ik, b(c, "f4"), "f4 set \(set)")
                XCTAssertEqual(o.ak, b(c, "f5"), "f5 set \(set)")
                XCTAssertEqual(o.akStar, b(c, "f5star"), "f5* set \(set)")
                let v = try AuthenticationAlgorithm.milenage(m).vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf)
                XCTAssertEqual(v.autn, b(c, "autn_derived"), "AUTN set \(set)")
                XCTAssertEqual(v.xres, b(c, "f2"))
                XCTAssertEqual(v.sqn.bytes, sqn)
            }
        }
    }

    /// hostapd's AUTS checks: the HE recovers SQN_MS and the USIM builds the same AUTS.
    func testResyncAUTSCases() throws {
        let root = try XCTUnwrap(Vectors.json("milenage_ts35208.json") as? [String: Any])
        let rs = try XCTUnwrap((root["resync_auts_cases"] as? [String: Any])?["cases"] as? [[String: Any]])
        XCTAssertEqual(rs.count, 2)
        for c in rs {
            let alg = AuthenticationAlgorithm.milenage(try Milenage(k: b(c, "k"), opc: b(c, "opc")))
            let rand = b(c, "rand"), auts = b(c, "auts")
            XCTAssertEqual(try alg.f2345(rand: rand).akStar, b(c, "f5star_ak_star"))
            XCTAssertEqual(try AUTS.recoverSQN(algorithm: alg, rand: rand, auts: auts).bytes, b(c, "sqn_ms"))
            XCTAssertEqual(try AUTS.make(algorithm: alg, rand: rand, sqnMS: SQN(bytes: b(c, "sqn_ms"))), auts)
            var bad = auts
            bad[13] ^= 1
            XCTAssertThrowsError(try AUTS.recoverSQN(algorithm: alg, rand: rand, auts: bad)) {
                XCTAssertEqual($0 as? AKAError, .resyncMACFailure)
            }
        }
    }

    func testRotationIsBitwiseTowardsMSB() {
        let x: [UInt8] = [0x80] + [UInt8](repeating: 0, count: 14) + [0x01]
        XCTAssertEqual(Milenage.rotate(x, 1), [0x00] + [UInt8](repeating: 0, count: 14) + [0x03])
        XCTAssertEqual(Milenage.rotate(x, 0), x)
        XCTAssertEqual(Milenage.rotate(x, 8), [UInt8](repeating: 0, count: 14) + [0x01, 0x80])
        XCTAssertEqual(Milenage.rotate(x, 127), [0xC0] + [UInt8](repeating: 0, count: 15))
        let y = (0..<16).map { UInt8($0 * 17) }
        XCTAssertEqual(Milenage.rotate(Milenage.rotate(y, 37), 91), y) // 37 + 91 = 128
    }

    func testCustomConstants() throws {
        let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc"), opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
        let rand = [UInt8](hex: "23553cbe9637a89d218ae64dae47bf35")
        let std = try Milenage(k: k, opc: opc)
        let explicit = try MilenageConstants(r: [64, 0, 32, 64, 96], c: MilenageConstants.standard.c)
        XCTAssertEqual(try Milenage(k: k, opc: opc, constants: explicit).f2345(rand: rand), try std.f2345(rand: rand))
        var c = MilenageConstants.standard.c
        c[1][15] = 0x11
        let custom = try Milenage(k: k, opc: opc, constants: MilenageConstants(r: [64, 5, 32, 64, 96], c: c))
        XCTAssertNotEqual(try custom.f2345(rand: rand).res, try std.f2345(rand: rand).res)
        XCTAssertEqual(try custom.f2345(rand: rand).ck, try std.f2345(rand: rand).ck) // r3/c3 unchanged
        XCTAssertThrowsError(try MilenageConstants(r: [64, 0, 32, 64, 128], c: c))
        XCTAssertThrowsError(try MilenageConstants(r: [64, 0, 32, 64], c: c))
        XCTAssertThrowsError(try MilenageConstants(r: [64, 0, 32, 64, 96], c: [[0]] + c.dropFirst()))
    }

    func testBadLengthsAreTypedErrors() {
        XCTAssertThrowsError(try Milenage(k: [1, 2, 3], opc: [UInt8](repeating: 0, count: 16))) {
            XCTAssertEqual($0 as? AKAError, .invalidLength(field: "K", expected: "16", got: 3))
        }
        let m = try? Milenage(k: [UInt8](repeating: 1, count: 16), opc: [UInt8](repeating: 2, count: 16))
        XCTAssertThrowsError(try m?.f2345(rand: [1]))
        XCTAssertThrowsError(try m?.f1(rand: [UInt8](repeating: 0, count: 16), sqn: [1], amf: [0, 0]))
    }
}
