import XCTest
import Foundation
import Synchronization
import Crypto

final class BaseCryptoTests: XCTestCase {
    /// FIPS 180 "abc" vectors.
    /// SPIs keep their leading zeros (16 digits for IKE, 8 for ESP), as captures print them.
    func testSPIHexKeepsLeadingZeros() {
        XCTAssertEqual(Hex.spi(UInt64(0x0c14_67da_389e_9c5b)), "0c1467da389e9c5b")
        XCTAssertEqual(Hex.spi(UInt64(1)), "0000000000000001")
        XCTAssertEqual(Hex.spi(UInt64.max), "ffffffffffffffff")
        XCTAssertEqual(Hex.spi(UInt32(0x00ab_0001)), "00ab0001")
    }

    func testDigests() {
        let abc = Array("abc".utf8)
        XCTAssertEqual(Digest.hash(.sha1, abc).hex, "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(Digest.hash(.sha256, abc).hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.hash(.md5, abc).hex, "900150983cd24fb0d6963f7d28e17f72")
    }

    /// RFC 4231 test case 2.
    func testHMACSHA256RFC4231Case2() {
        let mac = HMAC.mac(.sha256, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(mac.hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// One-shot HMACs re-key pooled contexts: alternating keys and digests, from several
    /// threads at once, must each give the RFC 4231 / RFC 2202 answer (no key left over from
    /// the previous user of a context).
    func testHMACPooledContextsAcrossKeysAndThreads() {
        let cases: [(DigestAlgorithm, [UInt8], [UInt8], String)] = [
            (.sha256, [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (.sha256, Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (.sha1, Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            (.sha256, [], [], "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
        ]
        let wrong = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<500 {
                let (d, key, data, want) = cases[(i + t) % cases.count]
                if HMAC.mac(d, key: key, data: data).hex != want { wrong.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(wrong.withLock { $0 }, 0)
    }

    /// FIPS 197 appendix C.1.
    func testAESBlock() throws {
        let aes = try AESBlockCipher(key: [UInt8](hex: "000102030405060708090a0b0c0d0e0f"))
        XCTAssertEqual(aes.encrypt([UInt8](hex: "00112233445566778899aabbccddeeff")).hex, "69c4e0d86a7b0430d8cdb78070b4c55a")
    }

    func testRandomIsFreshAndSized() {
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
    }
}
