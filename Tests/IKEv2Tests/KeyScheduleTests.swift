import XCTest
import Crypto
import TestSupport
@testable import IKEv2

final class KeyScheduleTests: XCTestCase {
    func cases() throws -> [[String: Any]] {
        let j = try XCTUnwrap(try Vectors.json("ikev2_kdf_cavp.json") as? [String: Any])
        return try XCTUnwrap(j["cases"] as? [[String: Any]])
    }

    func testCAVPSkeyseedDKMChildAndRekey() throws {
        for c in try cases() {
            let prf: PseudoRandomFunction = (c["hash"] as? String) == "SHA-1" ? .PRF_HMAC_SHA1 : .PRF_HMAC_SHA2_256
            func b(_ k: String) -> [UInt8] { Vectors.bytes(c[k] as? String ?? "") }
            let ni = b("ni"), nr = b("nr")
            let spiI = UInt64(c["spii"] as! String, radix: 16)!, spiR = UInt64(c["spir"] as! String, radix: 16)!
            let seed = KeySchedule.skeyseed(prf: prf, ni: ni, nr: nr, sharedSecret: b("gir"))
            XCTAssertEqual(seed, b("skeyseed"), "SKEYSEED \(prf)")
            let dkm = b("dkm")
            XCTAssertEqual(try prf.prfPlus(key: seed, seed: ni + nr + KeySchedule.be64(spiI) + KeySchedule.be64(spiR), length: dkm.count), dkm)
            // The split: with SHA-1 PRF, AES-CBC-128 and HMAC-SHA1-96, 3*20 + 2*20 + 2*16 = 132 bytes = the DKM.
            if prf == .PRF_HMAC_SHA1 {
                let suite = IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96, prf: prf, dhGroup: .modp2048)
                let k = try KeySchedule.ikeKeys(suite: suite, skeyseed: seed, ni: ni, nr: nr, spiI: spiI, spiR: spiR)
                XCTAssertEqual(k.SK_d + k.SK_ai + k.SK_ar + k.SK_ei + k.SK_er + k.SK_pi + k.SK_pr, dkm)
                XCTAssertEqual(k.SK_d.count, 20); XCTAssertEqual(k.SK_ei.count, 16); XCTAssertEqual(k.SK_pr, Array(dkm.suffix(20)))
            }
            let skD = Array(dkm.prefix(prf.outputLength))
            let childHex = (c["dkm_child_sa"] as? String) ?? ((c["derived_not_published"] as? [String: Any])?["dkm_child_sa"] as? String)
            let childDHHex = (c["dkm_child_sa_dh"] as? String) ?? ((c["derived_not_published"] as? [String: Any])?["dkm_child_sa_dh"] as? String)
            let child = Vectors.bytes(try XCTUnwrap(childHex))
            let childDH = Vectors.bytes(try XCTUnwrap(childDHHex))
            // Child KEYMAT via the ESP split: AES-CBC-256 + HMAC-SHA2-512 = 2*(32+64) = 192 > 132, so compare prefixes.
            let esp = ESPSuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96)
            let ck = try KeySchedule.childKeys(prf: prf, skD: skD, ni: ni, nr: nr, suite: esp)
            XCTAssertEqual(ck.encryptionI + ck.integrityI + ck.encryptionR + ck.integrityR, Array(child.prefix(72)))
            let ckDH = try KeySchedule.childKeys(prf: prf, skD: skD, newSharedSecret: b("gir_new"), ni: ni, nr: nr, suite: esp)
            XCTAssertEqual(ckDH.encryptionI + ckDH.integrityI + ckDH.encryptionR + ckDH.integrityR, Array(childDH.prefix(72)))
            XCTAssertEqual(KeySchedule.rekeySkeyseed(prf: prf, oldSKd: skD, newSharedSecret: b("gir_new"), ni: ni, nr: nr), b("skeyseed_rekey"))
        }
    }

    func testFixedKeyPRFUsesHalfOfEachNonce() throws {
        let ni = [UInt8](0..<32), nr = [UInt8](100..<132), gir = [UInt8](repeating: 7, count: 32)
        let s = KeySchedule.skeyseed(prf: .PRF_AES128_XCBC, ni: ni, nr: nr, sharedSecret: gir)
        XCTAssertEqual(s, PseudoRandomFunction.PRF_AES128_XCBC.prf(key: Array(ni[0..<8]) + Array(nr[0..<8]), data: gir))
        XCTAssertNotEqual(s, PseudoRandomFunction.PRF_AES128_XCBC.prf(key: ni + nr, data: gir))
        XCTAssertEqual(s.count, 16)
    }

    func testSharedKeyAuthConstruction() {
        let prf = PseudoRandomFunction.PRF_HMAC_SHA2_256
        let msk = [UInt8](repeating: 0x42, count: 64)
        let octets = AuthComputation.signedOctets(prf: prf, message: [1, 2, 3], peerNonce: [4, 5], skP: [9, 9], idPrime: [3, 0, 0, 0, 0x61])
        XCTAssertEqual(octets, [1, 2, 3, 4, 5] + HMAC.mac(.sha256, key: [9, 9], data: [3, 0, 0, 0, 0x61]))
        let pad = HMAC.mac(.sha256, key: msk, data: Array("Key Pad for IKEv2".utf8))
        XCTAssertEqual(AuthComputation.sharedKeyAuth(prf: prf, sharedSecret: msk, signedOctets: octets), HMAC.mac(.sha256, key: pad, data: octets))
    }
}
