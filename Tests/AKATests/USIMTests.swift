import XCTest
import Crypto
@testable import AKA

final class USIMTests: XCTestCase {
    let set19K = [UInt8](hex: "5122250214c33e723a5dd523fc145fc0")
    let set19OPc = [UInt8](hex: "981d464c7c52eb6e5036234984ad0bcf")

    private func algorithms() throws -> [AuthenticationAlgorithm] {
        [.milenage(try Milenage(k: set19K, opc: set19OPc)), .xor(try XORTestAlgorithm(k: set19K))]
    }

    func testNetworkVectorsVerifyOnUSIM() throws {
        for alg in try algorithms() {
            var usim = try USIM(algorithm: alg)
            var gen = SQNGenerator(seqHE: 0)
            for _ in 0..<40 {   // crosses the 32-entry IND cycle
                let v = try alg.vector(rand: SecureRandom.bytes(16), sqn: try gen.next(), amf: AMF.bytes(0x9001))
                XCTAssertEqual(try usim.authenticate(rand: v.rand, autn: v.autn), .success(res: v.xres, ck: v.ck, ik: v.ik), alg.name)
            }
            XCTAssertEqual(usim.sequence.seqMS, 40)
        }
    }

    func testMACFailureOnTamperedAUTN() throws {
        for alg in try algorithms() {
            var usim = try USIM(algorithm: alg)
            let v = try alg.vector(rand: SecureRandom.bytes(16), sqn: SQN(33), amf: AMF.bytes(0x8000))
            for i in [0, 6, 15] {
                var autn = v.autn
                autn[i] ^= 0x01
                XCTAssertEqual(try usim.authenticate(rand: v.rand, autn: autn), .macFailure)
            }
            var rand = v.rand
            rand[0] ^= 0x80
            XCTAssertEqual(try usim.authenticate(rand: rand, autn: v.autn), .macFailure)
            XCTAssertThrowsError(try usim.authenticate(rand: v.rand, autn: Array(v.autn.prefix(15))))
        }
    }

    /// Replay gives AUTS; the HE recovers SQN_MS, resynchronises, and the next vector passes.
    func testReplayResyncRoundTrip() throws {
        for alg in try algorithms() {
            var usim = try USIM(algorithm: alg)
            var gen = SQNGenerator(seqHE: 0)
            let amf = AMF.bytes(0x9001)
            var last: AuthenticationVector?
            for _ in 0..<5 {
                let v = try alg.vector(rand: SecureRandom.bytes(16), sqn: try gen.next(), amf: amf)
                guard case .success = try usim.authenticate(rand: v.rand, autn: v.autn) else { return XCTFail("rejected") }
                last = v
            }
            let replay = try XCTUnwrap(last)
            guard case let .syncFailure(auts) = try usim.authenticate(rand: replay.rand, autn: replay.autn) else {
                return XCTFail("replay accepted")
            }
            XCTAssertEqual(auts.count, 14)
            let sqnMS = try AUTS.recoverSQN(algorithm: alg, rand: replay.rand, auts: auts)
            XCTAssertEqual(sqnMS, replay.sqn)
            // An HE that lost its state (SEQ_HE = 0) learns SEQ_MS and continues above it.
            var fresh = SQNGenerator(seqHE: 0)
            let stale = try alg.vector(rand: SecureRandom.bytes(16), sqn: try fresh.next(), amf: amf)
            guard case let .syncFailure(auts2) = try usim.authenticate(rand: stale.rand, autn: stale.autn) else { return XCTFail() }
            fresh.resynchronize(sqnMS: try AUTS.recoverSQN(algorithm: alg, rand: stale.rand, auts: auts2))
            XCTAssertEqual(fresh.seqHE, 5)
            let next = try alg.vector(rand: SecureRandom.bytes(16), sqn: try fresh.next(), amf: amf)
            XCTAssertEqual(next.sqn.seq(), 6)
            guard case .success = try usim.authenticate(rand: next.rand, autn: next.autn) else { return XCTFail("after resync") }
        }
    }

    /// Annex C.2: the IND array accepts an older SEQ in an unused slot, not in a used one;
    /// Δ rejects a jump too far ahead; L rejects too old.
    func testAnnexCArrayDeltaAndAgeLimit() throws {
        let p = try SQNParameters(indBits: 5, delta: 100, ageLimit: 10)
        var st = USIMSequenceState(parameters: p)
        XCTAssertTrue(st.isFresh(try SQN(seq: 50, ind: 3)))
        st.accept(try SQN(seq: 50, ind: 3))
        XCTAssertEqual(st.seqMS, 50)
        XCTAssertTrue(st.isFresh(try SQN(seq: 45, ind: 4)))   // other slot, age 5 <= L
        XCTAssertFalse(st.isFresh(try SQN(seq: 39, ind: 5)))  // age 11 > L
        XCTAssertFalse(st.isFresh(try SQN(seq: 50, ind: 3)))  // replay
        XCTAssertFalse(st.isFresh(try SQN(seq: 49, ind: 3)))  // older in same slot
        st.accept(try SQN(seq: 45, ind: 4))
        XCTAssertEqual(st.seqMS, 50)                           // SQN_MS stays the highest
        XCTAssertFalse(st.isFresh(try SQN(seq: 45, ind: 4)))
        XCTAssertTrue(st.isFresh(try SQN(seq: 150, ind: 0)))  // +100 = Δ
        XCTAssertFalse(st.isFresh(try SQN(seq: 151, ind: 0))) // beyond Δ
    }

    func testUSIMRejectsTooFarAheadWithAUTS() throws {
        let alg = AuthenticationAlgorithm.milenage(try Milenage(k: set19K, opc: set19OPc))
        var usim = try USIM(algorithm: alg, lastSQN: SQN(seq: 10, ind: 0), parameters: SQNParameters(delta: 1000))
        let v = try alg.vector(rand: SecureRandom.bytes(16), sqn: SQN(seq: 2000, ind: 1), amf: AMF.bytes(0))
        guard case let .syncFailure(auts) = try usim.authenticate(rand: v.rand, autn: v.autn) else { return XCTFail() }
        XCTAssertEqual(try AUTS.recoverSQN(algorithm: alg, rand: v.rand, auts: auts), try SQN(seq: 10, ind: 0))
    }

    func testResLengthTruncatesOnUSIM() throws {
        let alg = AuthenticationAlgorithm.xor(try XORTestAlgorithm(k: set19K))
        var usim = try USIM(algorithm: alg, resLength: 16)
        let v = try alg.vector(rand: SecureRandom.bytes(16), sqn: SQN(33), amf: AMF.bytes(0), resLength: 16)
        guard case let .success(res, _, _) = try usim.authenticate(rand: v.rand, autn: v.autn) else { return XCTFail() }
        XCTAssertEqual(res.count, 16)
        XCTAssertEqual(res, v.xres)
        XCTAssertThrowsError(try USIM(algorithm: .milenage(try Milenage(k: set19K, opc: set19OPc)), resLength: 16))
    }

    func testSQNFieldsAndGenerator() throws {
        let s = try SQN(hex: "ff9bb4d0b607")
        XCTAssertEqual(s.bytes.hex, "ff9bb4d0b607")
        XCTAssertEqual(s.ind(), 0x07)
        XCTAssertEqual(s.seq(), 0xff9bb4d0b607 >> 5)
        XCTAssertEqual(try SQN(seq: s.seq(), ind: s.ind()), s)
        XCTAssertThrowsError(try SQN(1 << 48))
        XCTAssertThrowsError(try SQN(seq: 1, ind: 32))
        XCTAssertThrowsError(try SQN(hex: "zz"))
        var g = SQNGenerator(last: try SQN(hex: "000000000000"))
        let a = try g.next(), b = try g.next()
        XCTAssertEqual(a.bytes.hex, "000000000021") // SEQ 1, IND 1
        XCTAssertEqual(b.bytes.hex, "000000000042") // SEQ 2, IND 2
        var prev = b
        for _ in 0..<100 { let n = try g.next(); XCTAssertGreaterThan(n, prev); prev = n }
        var top = SQNGenerator(seqHE: (1 << 43) - 1)
        XCTAssertThrowsError(try top.next())
    }

    func testAMFSeparationBit() {
        XCTAssertTrue(AMF.separationBit(AMF.bytes(0x9001)))
        XCTAssertTrue(AMF.separationBit([0xc3, 0xab]))
        XCTAssertFalse(AMF.separationBit([0x00, 0x00]))
        XCTAssertFalse(AMF.separationBit([0x7f, 0xff]))
        XCTAssertEqual(AMF.settingSeparationBit([0x00, 0x01]), [0x80, 0x01])
    }
}
