import XCTest
import TestSupport
@testable import Crypto

final class CipherTests: XCTestCase {
    private func vectors(_ key: String) throws -> [[String: Any]] {
        let root = try XCTUnwrap(Vectors.json("esp_rfc3602_rfc4106.json") as? [String: Any])
        return try XCTUnwrap(root[key] as? [[String: Any]])
    }
    private func hex(_ v: [String: Any], _ k: String) throws -> [UInt8] {
        Vectors.bytes(try XCTUnwrap(v[k] as? String, "missing \(k)"))
    }

    func testTransformIDsAndSizes() throws {
        XCTAssertEqual(EncryptionAlgorithm.ENCR_3DES.transformID, 3)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_BLOWFISH(keyBits: 128).transformID, 7)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_NULL.transformID, 11)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_CBC(keyBits: 128).transformID, 12)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_CTR(keyBits: 128).transformID, 13)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_GCM_8(keyBits: 128).transformID, 18)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_GCM_12(keyBits: 128).transformID, 19)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_GCM_16(keyBits: 256).transformID, 20)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_NULL_AUTH_AES_GMAC(keyBits: 128).transformID, 21)

        let gcm = try EncryptionAlgorithm(transformID: 20, keyLength: 256)
        XCTAssertEqual(gcm, .ENCR_AES_GCM_16(keyBits: 256))
        XCTAssertEqual(gcm.keyMaterialLength, 36)
        XCTAssertEqual(gcm.ivLength, 8)
        XCTAssertEqual(gcm.icvLength, 16)
        XCTAssertTrue(gcm.isAEAD)
        let cbc = try EncryptionAlgorithm(transformID: 12, keyLength: 192)
        XCTAssertEqual(cbc.keyMaterialLength, 24)
        XCTAssertEqual(cbc.ivLength, 16)
        XCTAssertEqual(cbc.blockSize, 16)
        XCTAssertEqual(cbc.icvLength, 0)
        XCTAssertEqual(try EncryptionAlgorithm(transformID: 13, keyLength: 128).keyMaterialLength, 20)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_3DES.keyMaterialLength, 24)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_3DES.blockSize, 8)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_GCM_8(keyBits: 128).icvLength, 8)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_GCM_12(keyBits: 128).icvLength, 12)
        XCTAssertEqual(EncryptionAlgorithm.ENCR_AES_CBC(keyBits: 256).keyLengthAttribute, 256)
        XCTAssertNil(EncryptionAlgorithm.ENCR_3DES.keyLengthAttribute)

        XCTAssertThrowsError(try EncryptionAlgorithm(transformID: 12, keyLength: nil))
        XCTAssertThrowsError(try EncryptionAlgorithm(transformID: 12, keyLength: 100))
        XCTAssertThrowsError(try EncryptionAlgorithm(transformID: 3, keyLength: 192))
        XCTAssertThrowsError(try EncryptionAlgorithm(transformID: 99, keyLength: nil)) { error in
            XCTAssertEqual(error as? CryptoError, .unsupported("IKEv2 encryption transform ID 99"))
        }
        XCTAssertThrowsError(try CipherContext(algorithm: .ENCR_AES_GCM_16(keyBits: 128), keyMaterial: [UInt8](repeating: 0, count: 16)))
    }

    /// RFC 3602 §4 cases 1-4 (raw AES-CBC).
    func testAESCBCRFC3602() throws {
        for v in try vectors("aes_cbc_rfc3602") {
            let key = try hex(v, "key"), iv = try hex(v, "iv"), pt = try hex(v, "plaintext"), ct = try hex(v, "ciphertext")
            let ctx = try CipherContext(algorithm: .ENCR_AES_CBC(keyBits: key.count * 8), keyMaterial: key)
            XCTAssertEqual(try ctx.encrypt(iv: iv, plaintext: pt), ct, "case \(v["case"]!)")
            XCTAssertEqual(try ctx.decrypt(iv: iv, ciphertext: ct), pt, "case \(v["case"]!)")
            // Reuse of the same context for a second packet must give the same answer.
            XCTAssertEqual(try ctx.encrypt(iv: iv, plaintext: pt), ct)
        }
    }

    /// RFC 3602 §4 cases 5-8: full ESP packets (SPI | Seq | IV | ciphertext), in-place API.
    func testAESCBCESPPacketsInPlace() throws {
        let cases = try vectors("esp_aes_cbc_rfc3602")
        XCTAssertEqual(cases.count, 4)
        for v in cases {
            let key = try hex(v, "key"), pt = try hex(v, "plaintext")
            var packet = try hex(v, "esp_packet")
            let ctx = try CipherContext(algorithm: .ENCR_AES_CBC(keyBits: 128), keyMaterial: key)
            try packet.withUnsafeMutableBytes { p in
                let iv = UnsafeRawBufferPointer(rebasing: p[8..<24])
                try ctx.decrypt(iv: iv, aad: UnsafeRawBufferPointer(start: nil, count: 0),
                                inPlace: UnsafeMutableRawBufferPointer(rebasing: p[24...]), icv: UnsafeRawBufferPointer(start: nil, count: 0))
            }
            XCTAssertEqual(Array(packet[24...]), pt, "case \(v["case"]!)")
            XCTAssertEqual(pt[pt.count - 1], UInt8(try XCTUnwrap(v["next_header"] as? Int)))
            // And back.
            try packet.withUnsafeMutableBytes { p in
                try ctx.encrypt(iv: UnsafeRawBufferPointer(rebasing: p[8..<24]), aad: UnsafeRawBufferPointer(start: nil, count: 0),
                                inPlace: UnsafeMutableRawBufferPointer(rebasing: p[24...]), icv: UnsafeMutableRawBufferPointer(start: nil, count: 0))
            }
            XCTAssertEqual(packet, try hex(v, "esp_packet"))
        }
    }

    func testCBCRejectsUnpaddedInput() throws {
        let ctx = try CipherContext(algorithm: .ENCR_AES_CBC(keyBits: 128), keyMaterial: [UInt8](repeating: 1, count: 16))
        XCTAssertThrowsError(try ctx.encrypt(iv: [UInt8](repeating: 0, count: 16), plaintext: [1, 2, 3]))
        XCTAssertThrowsError(try ctx.encrypt(iv: [UInt8](repeating: 0, count: 8), plaintext: [UInt8](repeating: 0, count: 16)))
    }

    /// draft-mcgrew-gcm-test-01 ESP packets (RFC 4106 keymat = key | salt).
    func testAESGCMRFC4106() throws {
        let cases = try vectors("esp_aes_gcm_rfc4106")
        XCTAssertEqual(cases.count, 14)
        for v in cases {
            let keymat = try hex(v, "keymat_rfc4106"), iv = try hex(v, "iv"), aad = try hex(v, "aad")
            let pt = try hex(v, "plaintext"), ct = try hex(v, "ciphertext"), icv = try hex(v, "icv")
            let bits = (keymat.count - 4) * 8
            let ctx = try CipherContext(algorithm: .ENCR_AES_GCM_16(keyBits: bits), keyMaterial: keymat)
            let sealed = try ctx.encrypt(iv: iv, plaintext: pt, aad: aad)
            XCTAssertEqual(sealed, ct + icv, "vector \(v["index"]!)")
            XCTAssertEqual(try ctx.decrypt(iv: iv, ciphertext: sealed, aad: aad), pt)
            XCTAssertEqual(try ctx.encrypt(iv: iv, plaintext: pt, aad: aad), sealed, "context reuse")

            // Truncated ICVs are the prefix of the full tag (RFC 4106 §6).
            let gcm8 = try CipherContext(algorithm: .ENCR_AES_GCM_8(keyBits: bits), keyMaterial: keymat)
            XCTAssertEqual(try gcm8.encrypt(iv: iv, plaintext: pt, aad: aad), ct + icv.prefix(8))
            XCTAssertEqual(try gcm8.decrypt(iv: iv, ciphertext: ct + icv.prefix(8), aad: aad), pt)
            let gcm12 = try CipherContext(algorithm: .ENCR_AES_GCM_12(keyBits: bits), keyMaterial: keymat)
            XCTAssertEqual(try gcm12.encrypt(iv: iv, plaintext: pt, aad: aad), ct + icv.prefix(12))

            // Any flipped bit in ciphertext, ICV or AAD fails authentication.
            var bad = sealed; bad[0] ^= 1
            XCTAssertThrowsError(try ctx.decrypt(iv: iv, ciphertext: bad, aad: aad)) { XCTAssertEqual($0 as? CryptoError, .authenticationFailed) }
            bad = sealed; bad[bad.count - 1] ^= 0x80
            XCTAssertThrowsError(try ctx.decrypt(iv: iv, ciphertext: bad, aad: aad)) { XCTAssertEqual($0 as? CryptoError, .authenticationFailed) }
            var badAAD = aad; badAAD[0] ^= 1
            XCTAssertThrowsError(try ctx.decrypt(iv: iv, ciphertext: sealed, aad: badAAD)) { XCTAssertEqual($0 as? CryptoError, .authenticationFailed) }
            // A good packet still decrypts after failures (context state is reset per packet).
            XCTAssertEqual(try ctx.decrypt(iv: iv, ciphertext: sealed, aad: aad), pt)
        }
    }

    func testGCMInPlaceMatchesArrayAPI() throws {
        let v = try vectors("esp_aes_gcm_rfc4106")[1]
        let keymat = try hex(v, "keymat_rfc4106"), iv = try hex(v, "iv"), aad = try hex(v, "aad")
        let pt = try hex(v, "plaintext"), ct = try hex(v, "ciphertext"), icv = try hex(v, "icv")
        let ctx = try CipherContext(algorithm: .ENCR_AES_GCM_16(keyBits: 128), keyMaterial: keymat)
        // Packet layout: aad(8) | iv(8) | payload | icv(16), sealed in place.
        var packet = aad + iv + pt + [UInt8](repeating: 0, count: 16)
        let n = pt.count
        try packet.withUnsafeMutableBytes { p in
            try ctx.encrypt(iv: UnsafeRawBufferPointer(rebasing: p[8..<16]), aad: UnsafeRawBufferPointer(rebasing: p[0..<8]),
                            inPlace: UnsafeMutableRawBufferPointer(rebasing: p[16..<(16 + n)]),
                            icv: UnsafeMutableRawBufferPointer(rebasing: p[(16 + n)...]))
        }
        XCTAssertEqual(packet, aad + iv + ct + icv)
        try packet.withUnsafeMutableBytes { p in
            try ctx.decrypt(iv: UnsafeRawBufferPointer(rebasing: p[8..<16]), aad: UnsafeRawBufferPointer(rebasing: p[0..<8]),
                            inPlace: UnsafeMutableRawBufferPointer(rebasing: p[16..<(16 + n)]),
                            icv: UnsafeRawBufferPointer(rebasing: p[(16 + n)...]))
        }
        XCTAssertEqual(Array(packet[16..<(16 + n)]), pt)
    }

    /// RFC 3686 §6 test vectors #1-#3 (AES-128-CTR); key material = key | nonce.
    func testAESCTRRFC3686() throws {
        let cases: [(key: String, nonce: String, iv: String, pt: String, ct: String)] = [
            ("ae6852f8121067cc4bf7a5765577f39e", "00000030", "0000000000000000",
             "53696e676c6520626c6f636b206d7367", "e4095d4fb7a7b3792d6175a3261311b8"),
            ("7e24067817fae0d743d6ce1f32539163", "006cb6db", "c0543b59da48d90b",
             "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
             "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28"),
            ("7691be035e5020a8ac6e618529f9a0dc", "00e0017b", "27777f3f4a1786f0",
             "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
             "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef3105325b2072f"),
        ]
        for c in cases {
            let ctx = try CipherContext(algorithm: .ENCR_AES_CTR(keyBits: 128), keyMaterial: [UInt8](hex: c.key + c.nonce))
            XCTAssertEqual(try ctx.encrypt(iv: [UInt8](hex: c.iv), plaintext: [UInt8](hex: c.pt)).hex, c.ct)
            // The counter restarts at 1 for each packet even after an odd-length one.
            XCTAssertEqual(try ctx.encrypt(iv: [UInt8](hex: c.iv), plaintext: [UInt8](hex: c.pt)).hex, c.ct)
            XCTAssertEqual(try ctx.decrypt(iv: [UInt8](hex: c.iv), ciphertext: [UInt8](hex: c.ct)).hex, c.pt)
        }
    }

    /// RFC 4543: GMAC authenticates aad | payload, leaves the payload in clear; its ICV is
    /// the GCM tag over that AAD with empty plaintext.
    func testGMAC() throws {
        let keymat = [UInt8](hex: "feffe9928665731c6d6a8f9467308308cafebabe")
        let iv = [UInt8](hex: "facedbaddecaf888")
        let aad = [UInt8](hex: "0000a5f80000000a") + iv
        let payload = Array("authenticated only".utf8) + [0x01, 0x02, 0x02, 0x04]
        let gmac = try CipherContext(algorithm: .ENCR_NULL_AUTH_AES_GMAC(keyBits: 128), keyMaterial: keymat)
        let out = try gmac.encrypt(iv: iv, plaintext: payload, aad: aad)
        XCTAssertEqual(Array(out.prefix(payload.count)), payload)
        let gcm = try CipherContext(algorithm: .ENCR_AES_GCM_16(keyBits: 128), keyMaterial: keymat)
        XCTAssertEqual(Array(out.suffix(16)), try gcm.encrypt(iv: iv, plaintext: [], aad: aad + payload))
        XCTAssertEqual(try gmac.decrypt(iv: iv, ciphertext: out, aad: aad), payload)
        var bad = out; bad[3] ^= 1
        XCTAssertThrowsError(try gmac.decrypt(iv: iv, ciphertext: bad, aad: aad)) { XCTAssertEqual($0 as? CryptoError, .authenticationFailed) }
    }

    /// Known answers computed with `openssl enc -des-ede3-cbc -nopad`.
    func test3DES() throws {
        let ctx = try CipherContext(algorithm: .ENCR_3DES, keyMaterial: [UInt8](hex: "0123456789abcdef23456789abcdef01456789abcdef0123"))
        let pt = [UInt8](hex: "4e6f77206973207468652074696d6520666f7220616c6c20")
        let ct = try ctx.encrypt(iv: [UInt8](hex: "1234567890abcdef"), plaintext: pt)
        XCTAssertEqual(ct.hex, "f3c0ff026c023089656fbb169def7edb30ba36075d6f0176")
        XCTAssertEqual(try ctx.decrypt(iv: [UInt8](hex: "1234567890abcdef"), ciphertext: ct), pt)
    }

    /// Known answers from `openssl enc -bf-cbc -provider legacy` (128-bit) and Python
    /// cryptography's Blowfish (160-bit). Skipped when the legacy provider is missing,
    /// in which case the documented error must be thrown.
    func testBlowfish() throws {
        let pt = [UInt8](hex: "4e6f77206973207468652074696d6520666f7220616c6c20")
        let iv = [UInt8](hex: "fedcba9876543210")
        guard Providers.legacyAvailable else {
            XCTAssertThrowsError(try CipherContext(algorithm: .ENCR_BLOWFISH(keyBits: 128), keyMaterial: [UInt8](repeating: 0, count: 16))) {
                XCTAssertEqual($0 as? CryptoError, .unsupported("blowfish: OpenSSL legacy provider not available"))
            }
            return
        }
        let ctx = try CipherContext(algorithm: .ENCR_BLOWFISH(keyBits: 128), keyMaterial: [UInt8](hex: "0123456789abcdeff0e1d2c3b4a59687"))
        XCTAssertEqual(try ctx.encrypt(iv: iv, plaintext: pt).hex, "31571cb8bc4ed3dbbbc75f94ddeecd48b0438a0d0123a1ac")
        let ctx160 = try CipherContext(algorithm: .ENCR_BLOWFISH(keyBits: 160), keyMaterial: [UInt8](hex: "0123456789abcdeff0e1d2c3b4a59687a1b2c3d4"))
        let ct = try ctx160.encrypt(iv: iv, plaintext: pt)
        XCTAssertEqual(ct.hex, "8f5a48c54339db02271b5a1b80511eb02e6d6b8342a6c5ed")
        XCTAssertEqual(try ctx160.decrypt(iv: iv, ciphertext: ct), pt)
    }

    func testNULLCipherPassesThrough() throws {
        let ctx = try CipherContext(algorithm: .ENCR_NULL, keyMaterial: [])
        XCTAssertEqual(try ctx.encrypt(iv: [], plaintext: [1, 2, 3]), [1, 2, 3])
        XCTAssertEqual(try ctx.decrypt(iv: [], ciphertext: [1, 2, 3]), [1, 2, 3])
    }
}

final class CryptoBenchTests: XCTestCase {
    func testBenchReportsAllPairs() throws {
        let results = try CryptoBench.run(seconds: 0.05, sizes: [100, 1400])
        XCTAssertEqual(results.map(\.name), ["AES-128-GCM-16", "AES-128-CBC+HMAC-SHA1-96", "AES-128-GCM-16", "AES-128-CBC+HMAC-SHA1-96"])
        XCTAssertEqual(results.map(\.payloadSize), [100, 100, 1400, 1400])
        for r in results {
            XCTAssertGreaterThan(r.operations, 0)
            XCTAssertGreaterThanOrEqual(r.seconds, 0.05)
            XCTAssertEqual(r.bytesPerSecond, r.opsPerSecond * Double(r.payloadSize), accuracy: 1)
            print(r)
        }
    }
}
