import XCTest
import TestSupport
@testable import Crypto

final class IntegrityPRFTests: XCTestCase {
    private func rep(_ b: UInt8, _ n: Int) -> [UInt8] { [UInt8](repeating: b, count: n) }

    /// RFC 4231 cases 1-4, 6, 7 for HMAC-SHA-256/384/512: full output through the PRFs,
    /// and the truncated ICVs of the RFC 4868 integrity transforms. Case 5 checks truncation.
    func testHMACSHA2RFC4231() throws {
        let seq25 = (1...25).map { UInt8($0) }
        let long = rep(0xaa, 131)
        let cases: [(key: [UInt8], data: [UInt8], s256: String, s384: String, s512: String)] = [
            (rep(0x0b, 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
             "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
             "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
             "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
             "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
            (rep(0xaa, 20), rep(0xdd, 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
             "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
             "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"),
            (seq25, rep(0xcd, 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
             "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
             "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"),
            (long, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
             "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
             "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
            (long, Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
             "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
             "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"),
        ]
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(PseudoRandomFunction.PRF_HMAC_SHA2_256.prf(key: c.key, data: c.data).hex, c.s256, "case \(i)")
            XCTAssertEqual(PseudoRandomFunction.PRF_HMAC_SHA2_384.prf(key: c.key, data: c.data).hex, c.s384, "case \(i)")
            XCTAssertEqual(PseudoRandomFunction.PRF_HMAC_SHA2_512.prf(key: c.key, data: c.data).hex, c.s512, "case \(i)")
        }
        // Integrity transforms need their exact key length (RFC 4868 §2.1.1): the RFC 4231
        // keys of that size (case 1's 20-byte key is too short) are checked via the context.
        let k32 = rep(0x0b, 32), k48 = rep(0x0b, 48), k64 = rep(0x0b, 64)
        let d = Array("Hi There".utf8)
        XCTAssertEqual(try IntegrityAlgorithm.AUTH_HMAC_SHA2_256_128.mac(key: k32, data: d), Array(HMAC.mac(.sha256, key: k32, data: d).prefix(16)))
        XCTAssertEqual(try IntegrityAlgorithm.AUTH_HMAC_SHA2_384_192.mac(key: k48, data: d), Array(HMAC.mac(.sha384, key: k48, data: d).prefix(24)))
        XCTAssertEqual(try IntegrityAlgorithm.AUTH_HMAC_SHA2_512_256.mac(key: k64, data: d), Array(HMAC.mac(.sha512, key: k64, data: d).prefix(32)))
        XCTAssertThrowsError(try IntegrityAlgorithm.AUTH_HMAC_SHA2_256_128.mac(key: rep(0x0b, 20), data: d))
    }

    /// RFC 4231 case 5 (truncation to 128 bits).
    func testRFC4231Case5Truncation() throws {
        let key = rep(0x0c, 20), data = Array("Test With Truncation".utf8)
        XCTAssertEqual(Array(PseudoRandomFunction.PRF_HMAC_SHA2_256.prf(key: key, data: data).prefix(16)).hex, "a3b6167473100ee06e0c796c2955552b")
        XCTAssertEqual(Array(PseudoRandomFunction.PRF_HMAC_SHA2_384.prf(key: key, data: data).prefix(16)).hex, "3abf34c3503b2a23a46efc619baef897")
        XCTAssertEqual(Array(PseudoRandomFunction.PRF_HMAC_SHA2_512.prf(key: key, data: data).prefix(16)).hex, "415fad6271580a531d4179bc891d87a6")
    }

    func testIntegrityIDsAndLengths() {
        let expected: [(IntegrityAlgorithm, UInt16, Int, Int)] = [
            (.AUTH_HMAC_MD5_96, 1, 16, 12), (.AUTH_HMAC_SHA1_96, 2, 20, 12), (.AUTH_AES_XCBC_96, 5, 16, 12),
            (.AUTH_HMAC_MD5_128, 6, 16, 16), (.AUTH_HMAC_SHA1_160, 7, 20, 20), (.AUTH_AES_CMAC_96, 8, 16, 12),
            (.AUTH_HMAC_SHA2_256_128, 12, 32, 16), (.AUTH_HMAC_SHA2_384_192, 13, 48, 24), (.AUTH_HMAC_SHA2_512_256, 14, 64, 32),
        ]
        for (alg, id, key, out) in expected {
            XCTAssertEqual(alg.rawValue, id); XCTAssertEqual(alg.keyLength, key); XCTAssertEqual(alg.outputLength, out)
        }
        XCTAssertEqual(PseudoRandomFunction.PRF_AES128_XCBC.rawValue, 4)
        XCTAssertEqual(PseudoRandomFunction.PRF_HMAC_SHA2_512.rawValue, 7)
        XCTAssertEqual(PseudoRandomFunction.PRF_HMAC_SHA1.outputLength, 20)
    }

    /// RFC 2202 HMAC-SHA1 case 1 truncated to 96 bits, with a 20-byte key; the keyed
    /// context is re-used and verify() is constant-time and exact.
    func testHMACSHA196ContextReuseAndVerify() throws {
        let key = rep(0x0b, 20)
        let ctx = try IntegrityContext(algorithm: .AUTH_HMAC_SHA1_96, key: key)
        let icv = try ctx.mac(Array("Hi There".utf8))
        XCTAssertEqual(icv.hex, "b617318655057264e28bc0b6")
        XCTAssertEqual(try ctx.mac(Array("Hi There".utf8)), icv)
        XCTAssertTrue(try ctx.verify(Array("Hi There".utf8), icv: icv))
        var bad = icv; bad[11] ^= 1
        XCTAssertFalse(try ctx.verify(Array("Hi There".utf8), icv: bad))
        XCTAssertFalse(try ctx.verify(Array("Hi There".utf8), icv: Array(icv.prefix(8))))
        // ESN trailer: mac(data, trailer) == mac(data | trailer).
        let data = Array("payload".utf8), hi: [UInt8] = [0, 0, 0, 1]
        var out = [UInt8](repeating: 0, count: 12)
        try data.withUnsafeBytes { d in try hi.withUnsafeBytes { h in try out.withUnsafeMutableBytes { try ctx.mac(d, trailer: h, into: $0) } } }
        XCTAssertEqual(out, try ctx.mac(data + hi))
    }

    /// RFC 3566 §4 test cases 1-7 (AES-XCBC-MAC full and -96).
    func testAESXCBCRFC3566() throws {
        let key = [UInt8](hex: "000102030405060708090a0b0c0d0e0f")
        let seq: (Int) -> [UInt8] = { n in (0..<n).map { UInt8($0) } }
        let cases: [([UInt8], String)] = [
            ([], "75f0251d528ac01c4573dfd584d79f29"),
            (seq(3), "5b376580ae2f19afe7219ceef172756f"),
            (seq(16), "d2a246fa349b68a79998a4394ff7a263"),
            (seq(20), "47f51b4564966215b8985c63055ed308"),
            (seq(32), "f54f0ec8d2b9f3d36807734bd5283fd4"),
            (seq(34), "becbb3bccdb518a30677d5481fb6b4d8"),
            ([UInt8](repeating: 0, count: 1000), "f0dafee895db30253761103b5d84528f"),
        ]
        let ctx = try IntegrityContext(algorithm: .AUTH_AES_XCBC_96, key: key)
        for (m, full) in cases {
            XCTAssertEqual(try AESXCBCMAC(key: key).mac(m).hex, full)
            XCTAssertEqual(try ctx.mac(m).hex, String(full.prefix(24)))
            XCTAssertEqual(PseudoRandomFunction.PRF_AES128_XCBC.prf(key: key, data: m).hex, full)
        }
    }

    /// RFC 4434 §2.1: PRF_AES128_XCBC with 16, 10 and 18-byte keys.
    func testPRFAES128XCBCRFC4434() {
        let m = [UInt8](hex: "000102030405060708090a0b0c0d0e0f10111213")
        let prf = PseudoRandomFunction.PRF_AES128_XCBC
        XCTAssertEqual(prf.prf(key: [UInt8](hex: "000102030405060708090a0b0c0d0e0f"), data: m).hex, "47f51b4564966215b8985c63055ed308")
        XCTAssertEqual(prf.prf(key: [UInt8](hex: "00010203040506070809"), data: m).hex, "0fa087af7d866e7653434e602fdde835")
        XCTAssertEqual(prf.prf(key: [UInt8](hex: "000102030405060708090a0b0c0d0e0fedcb"), data: m).hex, "8cd3c93ae598a9803006ffb67c40e9e4")
    }

    /// RFC 4494 §4 AES-CMAC-96 (the RFC 4493 key and messages of 0, 16, 40, 64 bytes).
    func testAESCMAC96RFC4494() throws {
        let ctx = try IntegrityContext(algorithm: .AUTH_AES_CMAC_96, key: [UInt8](hex: "2b7e151628aed2a6abf7158809cf4f3c"))
        let m = [UInt8](hex: "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
        XCTAssertEqual(try ctx.mac([]).hex, "bb1d6929e95937287fa37d12")
        XCTAssertEqual(try ctx.mac(Array(m.prefix(16))).hex, "070a16b46b4d4144f79bdd9d")
        XCTAssertEqual(try ctx.mac(Array(m.prefix(40))).hex, "dfa66747de9ae63030ca3261")
        XCTAssertEqual(try ctx.mac(m).hex, "51f0bebf7e3b9d92fc497417")
        XCTAssertEqual(try ctx.mac([]).hex, "bb1d6929e95937287fa37d12", "re-initialised context keeps its key")
    }

    /// prf+ (RFC 7296 §2.13) T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02).
    func testPRFPlus() throws {
        let prf = PseudoRandomFunction.PRF_HMAC_SHA1
        let k = [UInt8](hex: "000102030405060708090a0b0c0d0e0f"), s = Array("seed".utf8)
        let t1 = HMAC.mac(.sha1, key: k, data: s + [1])
        let t2 = HMAC.mac(.sha1, key: k, data: t1 + s + [2])
        XCTAssertEqual(try prf.prfPlus(key: k, seed: s, length: 30), Array((t1 + t2).prefix(30)))
        XCTAssertThrowsError(try prf.prfPlus(key: k, seed: s, length: 20 * 256))
    }
}
