import XCTest
import TestSupport
import Crypto
@testable import AKA

final class EAPAKAKeysTests: XCTestCase {
    private func cases(_ file: String) throws -> [[String: Any]] {
        let root = try XCTUnwrap(Vectors.json(file) as? [String: Any])
        return try XCTUnwrap(root["cases"] as? [[String: Any]])
    }
    private func b(_ c: [String: Any], _ key: String) -> [UInt8] { Vectors.bytes(c[key] as? String ?? "") }

    func testSHA1CompressionIsRawBlock() {
        // G on the padded "abc" block equals the full SHA-1 of "abc" (one-block message).
        var block = Array("abc".utf8) + [0x80] + [UInt8](repeating: 0, count: 52)
        block += [0, 0, 0, 0, 0, 0, 0, 24]
        XCTAssertEqual(SHA1Compression.g(state: nil, block: block), Digest.hash(.sha1, Array("abc".utf8)))
    }

    func testFIPS186PRFExample() throws {
        let c = try cases("eap_aka_rfc4187_prf.json")[0]
        XCTAssertEqual(try FIPS186PRF.generate(xkey: b(c, "xkey"), length: c["output_len"] as? Int ?? 0), b(c, "output"))
        XCTAssertThrowsError(try FIPS186PRF.generate(xkey: [1, 2], length: 40))
    }

    /// RFC 4186 Appendix A: MK from the EAP-SIM inputs, then the shared PRF/split.
    func testRFC4186KeySplit() throws {
        let c = try cases("eap_aka_rfc4187_prf.json")[1]
        let kc = (c["kc"] as? [String] ?? []).flatMap { Vectors.bytes($0) }
        let mk = Digest.hash(.sha1, b(c, "identity_hex") + kc + b(c, "nonce_mt") + b(c, "version_list") + b(c, "selected_version"))
        XCTAssertEqual(mk, b(c, "mk"))
        let k = try EAPAKAKeys.fromMK(mk)
        XCTAssertEqual(k.kEncr, b(c, "k_encr"))
        XCTAssertEqual(k.kAut, b(c, "k_aut"))
        XCTAssertEqual(k.msk, b(c, "msk"))
        XCTAssertEqual(k.emsk, b(c, "emsk"))
    }

    func testEAPAKAFullKeys() throws {
        let c = try cases("eap_aka_rfc4187_prf.json")[2]
        let k = try EAPAKAKeys.derive(identity: c["identity"] as? String ?? "", ik: b(c, "ik"), ck: b(c, "ck"))
        XCTAssertEqual(k.mk, b(c, "mk_derived"))
        XCTAssertEqual(k.kEncr, b(c, "k_encr"))
        XCTAssertEqual(k.kAut, b(c, "k_aut"))
        XCTAssertEqual(k.msk, b(c, "msk"))
        XCTAssertEqual(k.emsk, b(c, "emsk"))
        XCTAssertThrowsError(try EAPAKAKeys.derive(identity: "x", ik: [1], ck: b(c, "ck")))
    }

    func testEAPAKAPrimeRFC5448() throws {
        let all = try cases("eap_aka_prime_rfc5448.json")
        XCTAssertEqual(all.count, 4)
        for c in all {
            let name = c["network_name"] as? String ?? "", id = c["identity"] as? String ?? ""
            let autn = b(c, "autn")
            let p = try EAPAKAPrimeKeys.ckIKPrime(ck: b(c, "ck"), ik: b(c, "ik"), accessNetworkName: name, sqnXorAK: Array(autn[0..<6]))
            XCTAssertEqual(p.ckPrime, b(c, "ck_prime"), "case \(c["case"] ?? 0)")
            XCTAssertEqual(p.ikPrime, b(c, "ik_prime"))
            let k = try EAPAKAPrimeKeys.derive(identity: id, ck: b(c, "ck"), ik: b(c, "ik"), accessNetworkName: name, autn: autn)
            XCTAssertEqual(k.kEncr, b(c, "k_encr"))
            XCTAssertEqual(k.kAut, b(c, "k_aut"))
            XCTAssertEqual(k.kRe, b(c, "k_re"))
            XCTAssertEqual(k.msk, b(c, "msk"))
            XCTAssertEqual(k.emsk, b(c, "emsk"))
        }
    }

    /// RFC 5448 case 1 inputs are MILENAGE set 19: the whole chain from K/OPc.
    func testSet19ChainToEAPAKAPrime() throws {
        let c = try cases("eap_aka_prime_rfc5448.json")[0]
        let alg = AuthenticationAlgorithm.milenage(try Milenage(k: [UInt8](hex: "5122250214c33e723a5dd523fc145fc0"),
                                                                 opc: [UInt8](hex: "981d464c7c52eb6e5036234984ad0bcf")))
        let v = try alg.vector(rand: b(c, "rand"), sqn: SQN(hex: "16f3b3f70fc2"), amf: [0xc3, 0xab])
        XCTAssertEqual(v.autn, b(c, "autn"))
        XCTAssertEqual(v.xres, b(c, "res"))
        XCTAssertEqual(v.sqnXorAK, b(c, "sqn_xor_ak"))
        XCTAssertTrue(AMF.separationBit(v.amf))
    }

    func testATMACComputeAndVerify() throws {
        // EAP-Request/AKA-Challenge skeleton: header, AT_RAND, AT_AUTN, AT_MAC (value zero).
        var packet: [UInt8] = [0x01, 0x07, 0x00, 0x44, 0x17, 0x01, 0x00, 0x00]
        packet += [0x01, 0x05, 0x00, 0x00] + [UInt8](repeating: 0xAA, count: 16)
        packet += [0x02, 0x05, 0x00, 0x00] + [UInt8](repeating: 0xBB, count: 16)
        let macOffset = packet.count + 4
        packet += [0x0B, 0x05, 0x00, 0x00] + [UInt8](repeating: 0, count: 16)
        let kAut = [UInt8](repeating: 0x42, count: 16)
        let mac = EAPAKAKeys.atMAC(kAut: kAut, packet: packet)
        XCTAssertEqual(mac, Array(HMAC.mac(.sha1, key: kAut, data: packet).prefix(16)))
        var signed = packet
        signed.replaceSubrange(macOffset..<macOffset + 16, with: mac)
        XCTAssertTrue(EAPAKAKeys.verifyATMAC(kAut: kAut, packet: signed, macOffset: macOffset))
        var tampered = signed
        tampered[10] ^= 1
        XCTAssertFalse(EAPAKAKeys.verifyATMAC(kAut: kAut, packet: tampered, macOffset: macOffset))
        XCTAssertFalse(EAPAKAKeys.verifyATMAC(kAut: kAut, packet: signed, macOffset: signed.count - 8))

        let kAut2 = [UInt8](repeating: 0x42, count: 32)
        let mac2 = EAPAKAPrimeKeys.atMAC(kAut: kAut2, packet: packet)
        XCTAssertEqual(mac2, Array(HMAC.mac(.sha256, key: kAut2, data: packet).prefix(16)))
        signed.replaceSubrange(macOffset..<macOffset + 16, with: mac2)
        XCTAssertTrue(EAPAKAPrimeKeys.verifyATMAC(kAut: kAut2, packet: signed, macOffset: macOffset))
        XCTAssertFalse(EAPAKAKeys.verifyATMAC(kAut: kAut, packet: signed, macOffset: macOffset))
    }

    func testPRFPlusChaining() {
        // T1 = HMAC(K, S|01), T2 = HMAC(K, T1|S|02)
        let k = [UInt8](repeating: 7, count: 32), s = Array("seed".utf8)
        let t1 = HMAC.mac(.sha256, key: k, data: s + [1])
        let t2 = HMAC.mac(.sha256, key: k, data: t1 + s + [2])
        XCTAssertEqual(EAPAKAPrimeKeys.prfPlus(key: k, seed: s, length: 40), t1 + Array(t2.prefix(8)))
    }
}
