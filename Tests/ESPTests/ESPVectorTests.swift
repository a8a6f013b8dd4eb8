import XCTest
import Crypto
import TestSupport
@testable import ESP

/// RFC 3602 §4 ESP packets and the RFC 4106 GCM packets of draft-mcgrew-gcm-test-01,
/// from Tests/Fixtures/vectors/esp_rfc3602_rfc4106.json: decrypt, and re-encrypt to the
/// same bytes given the same IV.
final class ESPVectorTests: XCTestCase {
    private func vectors(_ key: String) throws -> [[String: Any]] {
        let d = try XCTUnwrap(try Vectors.json("esp_rfc3602_rfc4106.json") as? [String: Any])
        return try XCTUnwrap(d[key] as? [[String: Any]])
    }

    func testAESCBCPacketsDecryptAndReencrypt() throws {
        let cases = try vectors("esp_aes_cbc_rfc3602")
        XCTAssertEqual(cases.count, 4)
        for v in cases {
            let key = Vectors.bytes(v["key"] as! String)
            let spi = UInt32(v["spi"] as! Int), seq = UInt64(v["seq"] as! Int)
            let packet = Vectors.bytes(v["esp_packet"] as! String)
            let payload = Vectors.bytes(v["payload"] as! String)
            let nh = UInt8(v["next_header"] as! Int)
            let t = try ESPTransform(encryption: .ENCR_AES_CBC(keyBits: 128), encryptionKey: key, integrity: nil)
            let inSA = ESPSecurityAssociation(spi: spi, direction: .inbound, transform: t)
            var buf = packet
            let out = buf.withUnsafeMutableBytes { ESPPacket.open($0, sa: inSA) }
            guard case let .inner(range, gotNH, gotSeq) = out else { XCTFail("case \(v["case"]!): \(out)"); continue }
            XCTAssertEqual(Array(buf[range]), payload, "case \(v["case"]!)")
            XCTAssertEqual(gotNH, nh); XCTAssertEqual(gotSeq, seq)
            // Same IV, same bytes.
            let outSA = ESPSecurityAssociation(spi: spi, direction: .outbound, transform: t)
            outSA.sequence = seq - 1
            let sealed = payload.withUnsafeBytes { ESPPacket.seal($0, nextHeader: nh, sa: outSA, explicitIV: Vectors.bytes(v["iv"] as! String)) }
            XCTAssertEqual(try sealed.get(), packet, "case \(v["case"]!)")
        }
    }

    func testAESGCMPacketsDecryptAndReencrypt() throws {
        let cases = try vectors("esp_aes_gcm_rfc4106")
        XCTAssertEqual(cases.count, 14)
        for v in cases {
            let keymat = Vectors.bytes(v["keymat_rfc4106"] as! String)
            let bits = (Vectors.bytes(v["key"] as! String)).count * 8
            let esn = v["extended_sequence_numbers"] as! Bool
            let spi = UInt32(Vectors.bytes(v["spi"] as! String).reduce(0) { $0 << 8 | UInt32($1) })
            let seqBytes = Vectors.bytes(v["seq"] as! String)
            let seq = seqBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let plaintext = Vectors.bytes(v["plaintext"] as! String)
            let packet = Vectors.bytes(v["esp_packet"] as! String)
            let padLength = Int(plaintext[plaintext.count - 2]), nh = plaintext[plaintext.count - 1]
            let inner = Array(plaintext[0..<(plaintext.count - 2 - padLength)])
            let t = try ESPTransform(encryption: .ENCR_AES_GCM_16(keyBits: bits), encryptionKey: keymat, integrity: nil)
            let inSA = ESPSecurityAssociation(spi: spi, direction: .inbound, transform: t, esn: esn)
            if seq > 1 { inSA.window.accept(seq - 1) }   // so the ESN high half is inferred as the vector's
            var buf = packet
            let out = buf.withUnsafeMutableBytes { ESPPacket.open($0, sa: inSA) }
            guard case let .inner(range, gotNH, gotSeq) = out else { XCTFail("GCM case \(v["index"]!): \(out)"); continue }
            XCTAssertEqual(Array(buf[range]), inner, "GCM case \(v["index"]!)")
            XCTAssertEqual(gotNH, nh); XCTAssertEqual(gotSeq, seq)

            let outSA = ESPSecurityAssociation(spi: spi, direction: .outbound, transform: t, esn: esn)
            outSA.sequence = seq &- 1
            let sealed = inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: nh, sa: outSA, explicitIV: Vectors.bytes(v["iv"] as! String)) }
            XCTAssertEqual(try sealed.get(), packet, "GCM case \(v["index"]!)")
        }
    }

    /// A wrong key in the fixture must make decryption fail.
    func testWrongKeyFailsICV() throws {
        let v = try vectors("esp_aes_gcm_rfc4106")[1]
        var keymat = Vectors.bytes(v["keymat_rfc4106"] as! String)
        keymat[0] ^= 1
        let t = try ESPTransform(encryption: .ENCR_AES_GCM_16(keyBits: 128), encryptionKey: keymat, integrity: nil)
        let sa = ESPSecurityAssociation(spi: 0x4321, direction: .inbound, transform: t)
        var buf = Vectors.bytes(v["esp_packet"] as! String)
        let seq = Vectors.bytes(v["seq"] as! String).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        XCTAssertEqual(v["extended_sequence_numbers"] as? Bool, false)
        if seq > 1 { sa.window.accept(seq - 1) }
        XCTAssertEqual(buf.withUnsafeMutableBytes { ESPPacket.open($0, sa: sa) }, .dropped(.icvMismatch))
        XCTAssertEqual(sa.counters.drops[.icvMismatch], 1)
    }
}
