import XCTest
import Crypto
import Wire
import TestSupport
@testable import IKEv2

final class SKProtectionTests: XCTestCase {
    func keys(_ suite: IKESuite) throws -> IKEKeys {
        try KeySchedule.ikeKeys(suite: suite, skeyseed: [UInt8](repeating: 1, count: 32), ni: [UInt8](repeating: 2, count: 16),
                                nr: [UInt8](repeating: 3, count: 16), spiI: 1, spiR: 2)
    }

    let header = IKEHeader(spiI: 1, spiR: 2, exchangeType: .IKE_AUTH, isInitiator: true, isResponse: false, messageID: 1)
    let payloads: [Payload] = [.idi(IDPayload(.ID_RFC822_ADDR, "0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org")),
                               .idr(IDPayload(.ID_FQDN, "ims")), .notify(NotifyPayload(.EAP_ONLY_AUTHENTICATION))]

    func roundTrip(_ suite: IKESuite) throws {
        let k = try keys(suite)
        let ini = try SKProtection(suite: suite, keys: k, isInitiator: true)
        let res = try SKProtection(suite: suite, keys: k, isInitiator: false)
        let wire = try ini.protect(header: header, payloads: payloads)
        let m = try IKEMessage(parsing: wire)
        XCTAssertEqual(m.header.nextPayload, .SK)
        XCTAssertEqual(m.payloads.sk?.firstInnerPayload, .IDi)
        XCTAssertEqual(try res.unprotect(raw: wire, message: m), payloads, "\(suite)")
        // The sender cannot read its own message (keys are per direction).
        XCTAssertThrowsError(try ini.unprotect(raw: wire, message: m))
        // Any flipped bit, in the header (AAD / MACed) or in the ciphertext, is rejected.
        for i in [5, 20, wire.count - 1, wire.count - 20, IKEHeader.size + 6] {
            var t = wire; t[i] ^= 0x01
            guard let tm = try? IKEMessage(parsing: t) else { continue }
            XCTAssertThrowsError(try res.unprotect(raw: t, message: tm), "\(suite) bit flip at \(i)")
        }
        // Layout: header | SK hdr | IV | ct | ICV.
        let icv = suite.encryption.isAEAD ? suite.encryption.icvLength : suite.integrity!.outputLength
        let ctLen = wire.count - IKEHeader.size - 4 - suite.encryption.ivLength - icv
        XCTAssertEqual(ctLen % max(suite.encryption.blockSize, 1), 0)
    }

    func testCBCWithHMAC() throws {
        try roundTrip(IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96, prf: .PRF_HMAC_SHA1, dhGroup: .modp2048))
        try roundTrip(IKESuite(encryption: .ENCR_AES_CBC(keyBits: 256), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256))
        try roundTrip(IKESuite(encryption: .ENCR_AES_CTR(keyBits: 128), integrity: .AUTH_AES_XCBC_96, prf: .PRF_AES128_XCBC, dhGroup: .ecp256))
        try roundTrip(IKESuite(encryption: .ENCR_AES_CBC(keyBits: 192), integrity: .AUTH_AES_CMAC_96, prf: .PRF_HMAC_SHA2_512, dhGroup: .ecp256))
    }

    func testGCM() throws {
        try roundTrip(IKESuite(encryption: .ENCR_AES_GCM_16(keyBits: 128), integrity: nil, prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256))
        try roundTrip(IKESuite(encryption: .ENCR_AES_GCM_8(keyBits: 256), integrity: nil, prf: .PRF_HMAC_SHA2_384, dhGroup: .ecp256))
    }

    /// Decrypts by hand with the Crypto primitives to check the exact construction (encrypt-then-MAC over header..ciphertext).
    func testCBCConstructionByHand() throws {
        let suite = IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .modp2048)
        let k = try keys(suite)
        let wire = try SKProtection(suite: suite, keys: k, isInitiator: false).protect(header: header, payloads: payloads)
        let icv = Array(wire.suffix(16))
        XCTAssertEqual(Array(HMAC.mac(.sha256, key: k.SK_ar, data: Array(wire.dropLast(16))).prefix(16)), icv)
        let iv = Array(wire[32..<48])
        let plain = try CipherContext(algorithm: suite.encryption, keyMaterial: k.SK_er).decrypt(iv: iv, ciphertext: Array(wire[48..<(wire.count - 16)]))
        let padLen = Int(plain.last!)
        var w = ByteWriter()
        Payload.serializeChain(payloads, into: &w)
        XCTAssertEqual(Array(plain.prefix(plain.count - padLen - 1)), w.bytes)
    }

    func testFragmentsReassemble() throws {
        let suite = IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96, prf: .PRF_HMAC_SHA1, dhGroup: .modp2048)
        let k = try keys(suite)
        let big: [Payload] = payloads + [.cert(CertPayload(encoding: 4, data: [UInt8](repeating: 0x30, count: 1500)))]
        let frags = try SKProtection(suite: suite, keys: k, isInitiator: true).protectFragmented(header: header, payloads: big, maxSize: 576)
        XCTAssertGreaterThan(frags.count, 2)
        let res = try SKProtection(suite: suite, keys: k, isInitiator: false)
        var all: [UInt8] = []
        var first: PayloadType = .none
        for (i, f) in frags.enumerated() {
            XCTAssertLessThanOrEqual(f.count, 576)
            let m = try IKEMessage(parsing: f)
            let skf = try XCTUnwrap(m.payloads.skf)
            XCTAssertEqual(Int(skf.fragmentNumber), i + 1)
            XCTAssertEqual(Int(skf.totalFragments), frags.count)
            if i == 0 { first = skf.firstInnerPayload } else { XCTAssertEqual(skf.firstInnerPayload, .none) }
            all += try res.unprotectFragment(raw: f, fragment: skf)
        }
        var r = ByteReader(all)
        XCTAssertEqual(try Payload.parseChain(first: first, &r), big)
    }
}
