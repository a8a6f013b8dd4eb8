import Crypto
import XCTest
@testable import AAA

/// Byte-exact RADIUS encodings. Expected values were computed independently with Python's
/// hashlib/hmac from the RFC 2865 §3 / RFC 3579 §3.2 / RFC 2548 §2.4.2 formulas.
final class RADIUSCodecTests: XCTestCase {
    let secret = Array("testing123".utf8)
    let requestAuth = [UInt8](0..<16)

    func testSignedAccessChallengeIsByteExact() throws {
        let p = RADIUSPacket(code: .accessChallenge, identifier: 7, attributes: [
            RADIUSAttribute(type: RADIUSAttributeType.eapMessage, value: [1, 5, 0, 5, 1]),
            RADIUSAttribute(type: RADIUSAttributeType.state, value: [0xaa, 0xaa, 0xaa, 0xaa]),
            RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16)),
        ])
        let bytes = try RADIUSAuthenticator.signResponse(p, requestAuthenticator: requestAuth, secret: secret)
        XCTAssertEqual(bytes.hex, "0b070033ebf1e4fad408ec4106a57e3b703b9f7f4f0701050005011806aaaaaaaa5012265605656c8b4fe109216d72bb533859")
        XCTAssertTrue(RADIUSAuthenticator.verifyResponse(bytes, requestAuthenticator: requestAuth, secret: secret))
        XCTAssertFalse(RADIUSAuthenticator.verifyResponse(bytes, requestAuthenticator: requestAuth, secret: Array("x".utf8)))
        var tampered = bytes
        tampered[tampered.count - 20] ^= 1 // inside State
        XCTAssertFalse(RADIUSAuthenticator.verifyResponse(tampered, requestAuthenticator: requestAuth, secret: secret))
    }

    func testRequestMessageAuthenticator() throws {
        let p = RADIUSPacket(code: .accessRequest, identifier: 1, attributes: [
            RADIUSAttribute(type: RADIUSAttributeType.userName, string: "alice"),
            RADIUSAttribute(type: RADIUSAttributeType.eapMessage, value: [2, 1, 0, 10, 1] + Array("alice".utf8)),
            RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16)),
        ])
        let bytes = try RADIUSAuthenticator.signRequest(p, secret: secret, authenticator: requestAuth)
        XCTAssertEqual(bytes.hex, "01010039000102030405060708090a0b0c0d0e0f0107616c6963654f0c0201000a01616c6963655012d5d54198ad8e9e58e8a34739461b020a")
        XCTAssertEqual(RADIUSAuthenticator.checkRequest(bytes, secret: secret), .valid)
        XCTAssertEqual(RADIUSAuthenticator.checkRequest(bytes, secret: Array("wrong".utf8)), .invalid)
        var noMA = p
        noMA.attributes.removeLast()
        XCTAssertEqual(RADIUSAuthenticator.checkRequest(try RADIUSAuthenticator.signRequest(noMA, secret: secret), secret: secret), .absent)
    }

    func testMPPEKeyEncryptionIsByteExactAndInverts() {
        let key = [UInt8](0x10..<0x30)
        let enc = RADIUSAuthenticator.encryptMPPEKey(key, secret: secret, requestAuthenticator: requestAuth, salt: [0x80, 0x01])
        XCTAssertEqual(enc.hex, "800112b4155f190e302ed83fa971a9a608ed1a32916ed78f1ae209273171ea259cc29830a62961426cc1004f9f12a6abf24e")
        XCTAssertEqual(enc.count, 2 + 48)
        XCTAssertEqual(RADIUSAuthenticator.decryptMPPEKey(enc, secret: secret, requestAuthenticator: requestAuth), key)
        XCTAssertNil(RADIUSAuthenticator.decryptMPPEKey(Array(enc.prefix(20)), secret: secret, requestAuthenticator: requestAuth))
        let attr = RADIUSAuthenticator.mppeKeyAttribute(vendorType: 17, key: key, secret: secret, requestAuthenticator: requestAuth,
                                                        salt: [0x80, 0x01])
        XCTAssertEqual(attr.type, 26)
        XCTAssertEqual(Array(attr.value.prefix(6)), [0, 0, 0x01, 0x37, 17, 52]) // vendor 311, type 17, length 2+50
        let p = RADIUSPacket(code: .accessAccept, identifier: 1, attributes: [attr])
        XCTAssertEqual(RADIUSAuthenticator.mppeKey(in: p, vendorType: 17, secret: secret, requestAuthenticator: requestAuth), key)
        XCTAssertNil(RADIUSAuthenticator.mppeKey(in: p, vendorType: 16, secret: secret, requestAuthenticator: requestAuth))
    }

    func testEAPMessageSplitAndReassembly() throws {
        let eap = (0..<600).map { UInt8(truncatingIfNeeded: $0) }
        let attrs = RADIUSPacket.eapMessageAttributes(eap)
        XCTAssertEqual(attrs.map(\.value.count), [253, 253, 94])
        let p = RADIUSPacket(code: .accessChallenge, identifier: 3, attributes: attrs)
        let parsed = try RADIUSPacket(parsing: try p.serialize())
        XCTAssertEqual(parsed.eapMessage, eap)
        XCTAssertEqual(parsed, p)
        XCTAssertEqual(RADIUSPacket.eapMessageAttributes([]).map(\.value), [[]]) // EAP-Start
        XCTAssertNil(RADIUSPacket(code: .accessRequest, identifier: 0).eapMessage)
    }

    func testRoundTripAndTypedAccessors() throws {
        let p = RADIUSPacket(code: .accessRequest, identifier: 200, authenticator: requestAuth, attributes: [
            RADIUSAttribute(type: RADIUSAttributeType.userName, string: "0001010000000001@wlan.mnc001.mcc001.3gppnetwork.org"),
            RADIUSAttribute(type: RADIUSAttributeType.nasIPAddress, value: [198, 51, 100, 1]),
            RADIUSAttribute(type: RADIUSAttributeType.nasIdentifier, string: "ap-lobby"),
            RADIUSAttribute(type: RADIUSAttributeType.calledStationId, string: "02-00-00-00-00-01:vowifi"),
            RADIUSAttribute(type: RADIUSAttributeType.callingStationId, string: "02-00-00-00-00-02"),
            RADIUSAttribute(type: RADIUSAttributeType.framedMTU, integer: 1400),
            RADIUSAttribute(type: RADIUSAttributeType.state, value: [1, 2, 3]),
        ])
        let bytes = try p.serialize()
        XCTAssertEqual(Array(bytes[0..<4]), [1, 200, UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)])
        let q = try RADIUSPacket(parsing: bytes + [0, 0, 0]) // trailing padding is ignored
        XCTAssertEqual(q, p)
        XCTAssertEqual(q.nasIPAddress?.description, "198.51.100.1")
        XCTAssertEqual(q.nasIdentifier, "ap-lobby")
        XCTAssertEqual(q.calledStationId, "02-00-00-00-00-01:vowifi")
        XCTAssertEqual(q.callingStationId, "02-00-00-00-00-02")
        XCTAssertEqual(q.framedMTU, 1400)
        XCTAssertEqual(q.state, [1, 2, 3])
        XCTAssertEqual(q.userName, "0001010000000001@wlan.mnc001.mcc001.3gppnetwork.org")
    }

    func testMalformedPacketsGiveTypedErrors() throws {
        XCTAssertThrowsError(try RADIUSPacket(parsing: [1, 2, 3])) { XCTAssertEqual($0 as? RADIUSError, .truncated(3)) }
        var hdr = [UInt8](repeating: 0, count: 20)
        hdr[0] = 99; hdr[3] = 20
        XCTAssertThrowsError(try RADIUSPacket(parsing: hdr)) { XCTAssertEqual($0 as? RADIUSError, .unknownCode(99)) }
        hdr[0] = 1; hdr[3] = 30 // Length beyond the datagram
        XCTAssertThrowsError(try RADIUSPacket(parsing: hdr)) { XCTAssertEqual($0 as? RADIUSError, .badLength(30, datagram: 20)) }
        hdr[3] = 19
        XCTAssertThrowsError(try RADIUSPacket(parsing: hdr)) { XCTAssertEqual($0 as? RADIUSError, .badLength(19, datagram: 20)) }
        var overrun = hdr + [1, 10, 65]
        overrun[3] = 23
        XCTAssertThrowsError(try RADIUSPacket(parsing: overrun)) {
            XCTAssertEqual($0 as? RADIUSError, .badAttribute(offset: 20, "length 10 for type 1"))
        }
        var zeroLen = hdr + [1, 0]
        zeroLen[3] = 22
        XCTAssertThrowsError(try RADIUSPacket(parsing: zeroLen))
        let tooLong = RADIUSPacket(code: .accessAccept, identifier: 1, attributes: [RADIUSAttribute(type: 1, value: [UInt8](repeating: 0, count: 254))])
        XCTAssertThrowsError(try tooLong.serialize()) { XCTAssertEqual($0 as? RADIUSError, .attributeTooLong(type: 1, 254)) }
        let huge = RADIUSPacket(code: .accessAccept, identifier: 1, attributes: RADIUSPacket.eapMessageAttributes([UInt8](repeating: 0, count: 4100)))
        XCTAssertThrowsError(try huge.serialize())
    }

    func testIdentityClassification() {
        let a = EAPAKAIdentity("0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(a.kind, .permanent(.aka)); XCTAssertEqual(a.imsi, "001010123456789")
        XCTAssertEqual(a.mcc, "001"); XCTAssertEqual(a.mnc, "001")
        let b = EAPAKAIdentity("6001010123456789@wlan.mnc045.mcc310.3gppnetwork.org")
        XCTAssertEqual(b.kind, .permanent(.akaPrime)); XCTAssertEqual(b.mnc, "045"); XCTAssertEqual(b.mcc, "310")
        XCTAssertEqual(EAPAKAIdentity("0001010123456789").kind, .permanent(.aka))
        XCTAssertEqual(EAPAKAIdentity("7pseudonym@realm").kind, .pseudonym(.akaPrime))
        XCTAssertEqual(EAPAKAIdentity("4reauth@realm").kind, .reauthentication(.aka))
        XCTAssertEqual(EAPAKAIdentity("anonymous@wlan.mnc001.mcc001.3gppnetwork.org").kind, .other)
        XCTAssertEqual(EAPAKAIdentity("0abc@x").kind, .other)
        XCTAssertEqual(EAPAKAIdentity("").kind, .other)
    }
}
