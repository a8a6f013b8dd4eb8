import XCTest
import Wire
import AKA
import TestSupport
@testable import IKEv2

final class EAPCodecTests: XCTestCase {
    let rand = [UInt8](repeating: 0x01, count: 16)
    let autn = [UInt8](repeating: 0x02, count: 16)

    func testChallengeRequestByteExact() throws {
        let hex = "01 2a 0044 17 01 0000" + "01 05 0000" + String(repeating: "01", count: 16) +
            "02 05 0000" + String(repeating: "02", count: 16) + "0b 05 0000" + String(repeating: "00", count: 16)
        let msg = EAPAKAMessage(subtype: .challenge, attributes: [.AT_RAND(rand), .AT_AUTN(autn), .AT_MAC([UInt8](repeating: 0, count: 16))])
        let bytes = msg.packet(code: .request, identifier: 0x2a, method: EAPType.aka)
        XCTAssertEqual(bytes, Vectors.bytes(hex))
        let p = try EAPPacket(parsing: bytes)
        XCTAssertEqual(p.code, .request)
        XCTAssertEqual(p.identifier, 0x2a)
        XCTAssertEqual(p.type, EAPType.aka)
        let back = try EAPAKAMessage(parsing: p.typeData)
        XCTAssertEqual(back, msg)
        XCTAssertEqual(back.macValueOffset(), 52)
    }

    func testATMACOverWholePacketWithMACZeroed() throws {
        let kAut = [UInt8](repeating: 0x5a, count: 16)
        let msg = EAPAKAMessage(subtype: .challenge, attributes: [.AT_RES(res: [1, 2, 3, 4, 5, 6, 7, 8], bits: 64), .AT_MAC([])])
        let bytes = msg.packet(code: .response, identifier: 7, method: EAPType.aka) { EAPAKAKeys.atMAC(kAut: kAut, packet: $0) }
        // Recompute independently: zero the MAC field and HMAC the packet.
        var zeroed = bytes
        for i in 24..<40 { zeroed[i] = 0 }
        XCTAssertEqual(Array(bytes[24..<40]), EAPAKAKeys.atMAC(kAut: kAut, packet: zeroed))
        XCTAssertEqual(Array(bytes[8..<20]), [0x03, 0x03, 0x00, 0x40, 1, 2, 3, 4, 5, 6, 7, 8])
        let parsed = try EAPAKAMessage(parsing: try EAPPacket(parsing: bytes).typeData)
        XCTAssertEqual(parsed.res, [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertTrue(EAPAKAKeys.verifyATMAC(kAut: kAut, packet: bytes, macOffset: parsed.macValueOffset()!))
        var tampered = bytes; tampered[10] ^= 1
        XCTAssertFalse(EAPAKAKeys.verifyATMAC(kAut: kAut, packet: tampered, macOffset: parsed.macValueOffset()!))
    }

    func testAttributesRoundTrip() throws {
        let all: [AKAAttribute] = [
            .AT_IDENTITY(Array("0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org".utf8)), .AT_PERMANENT_ID_REQ, .AT_ANY_ID_REQ,
            .AT_FULLAUTH_ID_REQ, .AT_CLIENT_ERROR_CODE(0), .AT_NOTIFICATION(16384), .AT_KDF(1), .AT_KDF_INPUT(Array("WLAN".utf8)),
            .AT_CHECKCODE([]), .AT_RESULT_IND, .AT_BIDDING(0x8000), .AT_AUTS([UInt8](repeating: 9, count: 14)),
            .AT_RES(res: [1, 2, 3, 4, 5], bits: 40), .other(type: AKAAttribute.typeIV, value: [0, 0] + [UInt8](repeating: 3, count: 16)),
        ]
        for a in all {
            let m = EAPAKAMessage(subtype: .identity, attributes: [a])
            let td = m.serializeTypeData()
            XCTAssertEqual(td.count % 4, 3, "\(a) not padded to 4")
            XCTAssertEqual(try EAPAKAMessage(parsing: td), m, "\(a)")
        }
        XCTAssertEqual(EAPAKAMessage(subtype: .identity, attributes: [.AT_KDF_INPUT(Array("WLAN".utf8))]).serializeTypeData(),
                       Vectors.bytes("05 0000 17 02 0004 574c414e"))
        XCTAssertEqual(EAPAKAMessage(subtype: .identity, attributes: [.AT_IDENTITY(Array("abc".utf8))]).serializeTypeData(),
                       Vectors.bytes("05 0000 0e 02 0003 616263 00"))
        XCTAssertEqual(EAPAKAMessage(subtype: .synchronizationFailure, attributes: [.AT_AUTS([UInt8](repeating: 9, count: 14))]).serializeTypeData(),
                       Vectors.bytes("04 0000 04 04" + String(repeating: "09", count: 14)))
    }

    func testMalformedEAP() {
        XCTAssertThrowsError(try EAPPacket(parsing: [1, 1, 0, 9, 23])) // length mismatch
        XCTAssertThrowsError(try EAPPacket(parsing: [9, 1, 0, 4]))     // bad code
        XCTAssertThrowsError(try EAPPacket(parsing: [3, 1, 0, 5, 0]))  // Success with data
        XCTAssertEqual(try EAPPacket(parsing: [3, 1, 0, 4]), EAPPacket(code: .success, identifier: 1))
        XCTAssertThrowsError(try EAPAKAMessage(parsing: [1, 0, 0, 1, 5, 0, 0])) // AT_RAND too short
        XCTAssertThrowsError(try EAPAKAMessage(parsing: [1, 0, 0, 1, 0]))       // zero length
        XCTAssertThrowsError(try EAPAKAMessage(parsing: [1, 0, 0, 99, 1, 0, 0])) // non-skippable unknown
        XCTAssertEqual(try EAPAKAMessage(parsing: [1, 0, 0, 200, 1, 0, 0]).attributes, [.other(type: 200, value: [0, 0])])
        XCTAssertThrowsError(try EAPAKAMessage(parsing: [3, 0, 0])) // unknown subtype
        XCTAssertEqual(EAPPacket(code: .failure, identifier: 3).serialize(), [4, 3, 0, 4])
    }
}
