import XCTest
import AKA
import Crypto
@testable import HSS

final class HSSTests: XCTestCase {
    static let k = [UInt8](hex: "000102030405060708090a0b0c0d0e0f")
    static let opc = [UInt8](hex: "000102030405060708090a0b0c0d0e0f")

    static func sampleSubscribers() -> [Subscriber] {
        [
            Subscriber(imsi: "001010123456789", algorithm: .xor, k: k, amf: 0x9001,
                       impi: "001010123456789@ims.mnc001.mcc001.3gppnetwork.org", impu: ["001010123456789", "tel:0600000000"]),
            Subscriber(imsi: "001010000000001", algorithm: .milenage, k: k, opc: opc, amf: 0x9001, sqn: try! SQN(hex: "000000000000")),
            Subscriber(imsi: "001010000000002", algorithm: .milenage, k: k, op: [UInt8](hex: "cdc202d5123e20f62b6d676ac72cb318"), resLength: 4),
            Subscriber(imsi: "001010000000003", algorithm: .milenage, k: k),           // no OP/OPc
            Subscriber(imsi: "000000000000000", algorithm: .xor, impi: "username", impu: ["tel:1234"], pwd: "amarisoft"), // no K
        ]
    }

    private func usim(for s: Subscriber, lastSQN: SQN = .zero) throws -> USIM {
        try USIM(algorithm: s.authenticationAlgorithm(), resLength: s.resLength, lastSQN: lastSQN)
    }

    func testVectorsVerifyOnUSIMWithFreshSQN() throws {
        let hss = try HSS(subscribers: Self.sampleSubscribers())
        for imsi in ["001010123456789", "001010000000001", "001010000000002"] {
            let sub = try XCTUnwrap(hss.subscriber(imsi: imsi))
            var card = try usim(for: sub)
            var previous = SQN.zero
            for _ in 0..<70 {
                let v = try hss.vector(imsi: imsi)
                XCTAssertGreaterThan(v.sqn, previous)
                previous = v.sqn
                XCTAssertEqual(v.amf, [0x90, 0x01])
                XCTAssertEqual(v.xres.count, sub.resLength)
                XCTAssertEqual(try card.authenticate(rand: v.rand, autn: v.autn), .success(res: v.xres, ck: v.ck, ik: v.ik), imsi)
            }
            XCTAssertEqual(hss.currentSEQ(imsi: imsi), 70)
        }
    }

    func testErrors() throws {
        let hss = try HSS(subscribers: Self.sampleSubscribers())
        XCTAssertThrowsError(try hss.vector(imsi: "999999999999999")) { XCTAssertEqual($0 as? HSSError, .unknownIMSI("999999999999999")) }
        XCTAssertThrowsError(try hss.vector(imsi: "001010000000003")) { XCTAssertEqual($0 as? HSSError, .missingKey("001010000000003", "OP or OPc")) }
        XCTAssertThrowsError(try hss.vector(imsi: "000000000000000")) { XCTAssertEqual($0 as? HSSError, .missingKey("000000000000000", "K")) }
        XCTAssertThrowsError(try hss.resync(imsi: "999999999999999", rand: [], auts: [])) { XCTAssertEqual($0 as? HSSError, .unknownIMSI("999999999999999")) }
        XCTAssertThrowsError(try hss.resync(imsi: "001010000000001", rand: [UInt8](repeating: 0, count: 16), auts: [1, 2])) {
            XCTAssertEqual($0 as? HSSError, .aka(.invalidLength(field: "AUTS", expected: "14", got: 2)))
        }
        XCTAssertThrowsError(try HSS(subscribers: [Subscriber(imsi: "00101abc", k: Self.k)])) {
            guard case .invalidSubscriber = $0 as? HSSError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try HSS(subscribers: [Subscriber(imsi: "001010000000001", k: [1])]))
        XCTAssertThrowsError(try HSS(subscribers: [Subscriber(imsi: "001010000000001", k: Self.k), Subscriber(imsi: "001010000000001", k: Self.k)])) {
            XCTAssertEqual($0 as? HSSError, .duplicateIMSI("001010000000001"))
        }
        // MILENAGE with res_len 16 is refused when used.
        let h2 = try HSS(subscribers: [Subscriber(imsi: "001010000000001", algorithm: .milenage, k: Self.k, opc: Self.opc, resLength: 16)])
        XCTAssertThrowsError(try h2.vector(imsi: "001010000000001")) {
            guard case .invalidSubscriber = $0 as? HSSError else { return XCTFail("\($0)") }
        }
    }

    /// A USIM ahead of the HSS answers with AUTS; resync moves SEQ_HE to SEQ_MS and the
    /// next vector is accepted.
    func testResyncFromAUTSMovesSQN() throws {
        for imsi in ["001010000000001", "001010123456789"] {
            let hss = try HSS(subscribers: Self.sampleSubscribers())
            let sub = try XCTUnwrap(hss.subscriber(imsi: imsi))
            let cardSQN = try SQN(seq: 1000, ind: 7)
            var card = try usim(for: sub, lastSQN: cardSQN)
            let v = try hss.vector(imsi: imsi)
            guard case let .syncFailure(auts) = try card.authenticate(rand: v.rand, autn: v.autn) else { return XCTFail("stale SQN accepted") }
            var bad = auts
            bad[10] ^= 0xFF
            XCTAssertThrowsError(try hss.resync(imsi: imsi, rand: v.rand, auts: bad)) { XCTAssertEqual($0 as? HSSError, .resyncMACFailure) }
            XCTAssertEqual(hss.currentSEQ(imsi: imsi), 1)
            try hss.resync(imsi: imsi, rand: v.rand, auts: auts)
            XCTAssertEqual(hss.currentSEQ(imsi: imsi), 1000)
            let v2 = try hss.vector(imsi: imsi)
            XCTAssertEqual(v2.sqn.seq(), 1001)
            XCTAssertEqual(try card.authenticate(rand: v2.rand, autn: v2.autn), .success(res: v2.xres, ck: v2.ck, ik: v2.ik))
        }
    }

    func testVectorPrimeMatchesPeerDerivation() throws {
        let hss = try HSS(subscribers: [Subscriber(imsi: "001010000000001", algorithm: .milenage, k: Self.k, opc: Self.opc, amf: 0x0001)])
        let sub = try XCTUnwrap(hss.subscriber(imsi: "001010000000001"))
        var card = try usim(for: sub)
        let v = try hss.vectorPrime(imsi: "001010000000001", accessNetworkName: "WLAN")
        XCTAssertEqual(Array(v.autn[6..<8]), [0x80, 0x01]) // separation bit forced on
        guard case let .success(res, ck, ik) = try card.authenticate(rand: v.rand, autn: v.autn) else { return XCTFail() }
        XCTAssertEqual(res, v.xres)
        let p = try EAPAKAPrimeKeys.ckIKPrime(ck: ck, ik: ik, accessNetworkName: "WLAN", sqnXorAK: Array(v.autn[0..<6]))
        XCTAssertEqual(p.ckPrime, v.ckPrime)
        XCTAssertEqual(p.ikPrime, v.ikPrime)
        XCTAssertNotEqual(p.ckPrime, ck)
    }

    func testLookupByIMPI() throws {
        let hss = try HSS(subscribers: Self.sampleSubscribers())
        XCTAssertEqual(hss.subscriber(impi: "001010123456789@IMS.mnc001.mcc001.3gppnetwork.org")?.imsi, "001010123456789")
        XCTAssertEqual(hss.subscriber(impi: "username")?.imsi, "000000000000000")
        XCTAssertEqual(hss.subscriber(impi: "001010000000001@ims.mnc001.mcc001.3gppnetwork.org")?.imsi, "001010000000001")
        XCTAssertNil(hss.subscriber(impi: "001010123456789@other.example")) // has an explicit, different IMPI
        XCTAssertNil(hss.subscriber(impi: "nobody@example.org"))
        XCTAssertEqual(hss.subscriber(imsi: "000000000000000")?.effectiveAuthenticationType, .md5)
        XCTAssertEqual(hss.subscriber(imsi: "001010123456789")?.effectiveAuthenticationType, .akav1)
    }
}
