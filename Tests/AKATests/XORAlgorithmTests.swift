import XCTest
@testable import AKA

/// TS 34.108 §8.1.2 test algorithm; expected values worked out by hand from the spec
/// formulas for K = 000102..0f, RAND = 34 x16, SQN = 000000000001, AMF = 8000:
/// XDOUT = 34353637 30313233 3c3d3e3f 38393a3b.
final class XORAlgorithmTests: XCTestCase {
    let k = [UInt8](hex: "000102030405060708090a0b0c0d0e0f")
    let rand = [UInt8](repeating: 0x34, count: 16)
    let sqn = [UInt8](hex: "000000000001")
    let amf = [UInt8](hex: "8000")

    func testSpecFormulas() throws {
        let x = try XORTestAlgorithm(k: k)
        XCTAssertEqual(try x.xdout(rand: rand).hex, "34353637303132333c3d3e3f38393a3b")
        let o = try x.f2345(rand: rand)
        XCTAssertEqual(o.res.hex, "34353637303132333c3d3e3f38393a3b")
        XCTAssertEqual(o.ck.hex, "353637303132333c3d3e3f38393a3b34")   // XDOUT[1..15] | XDOUT[0]
        XCTAssertEqual(o.ik.hex, "3637303132333c3d3e3f38393a3b3435")   // XDOUT[2..15] | XDOUT[0..1]
        XCTAssertEqual(o.ak.hex, "37303132333c")                       // XDOUT[3..8]
        XCTAssertEqual(try x.f1(rand: rand, sqn: sqn, amf: amf).hex, "343536373030b233") // XDOUT[0..7] xor SQN|AMF
    }

    func testVectorAndResLength() throws {
        let alg = AuthenticationAlgorithm.xor(try XORTestAlgorithm(k: k))
        let v16 = try alg.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf, resLength: 16)
        XCTAssertEqual(v16.autn.hex, "37303132333d8000343536373030b233")
        XCTAssertEqual(v16.xres.hex, "34353637303132333c3d3e3f38393a3b")
        XCTAssertEqual(try alg.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf, resLength: 4).xres.hex, "34353637")
        XCTAssertEqual(try alg.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf).xres.hex, "3435363730313233")
        XCTAssertThrowsError(try alg.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf, resLength: 17))
        XCTAssertThrowsError(try alg.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf, resLength: 3))
        // f1* = f1 and f5* = f5 for the test algorithm.
        XCTAssertEqual(try alg.f1Star(rand: rand, sqn: sqn, amf: amf), try alg.f1(rand: rand, sqn: sqn, amf: amf))
        XCTAssertEqual(try alg.f2345(rand: rand).akStar.hex, "37303132333c")
        let m = AuthenticationAlgorithm.milenage(try Milenage(k: k, opc: k))
        XCTAssertThrowsError(try m.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf, resLength: 9))
        XCTAssertEqual(try m.vector(rand: rand, sqn: SQN(bytes: sqn), amf: amf, resLength: 4).xres,
                       Array(try m.f2345(rand: rand).res.prefix(4)))
    }
}
