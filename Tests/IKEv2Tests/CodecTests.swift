import XCTest
import Wire
import TestSupport
@testable import IKEv2

final class CodecTests: XCTestCase {
    /// A hand-built IKE_SA_INIT request: SA(AES-CBC-128, PRF-SHA1, SHA1-96, MODP-2048), KE, Ni, N(NAT_DETECTION_SOURCE_IP).
    static let initHex =
        "0102030405060708 0000000000000000 21 20 22 08 00000000 00000088" +
        "22 00 0030" + "00 00 002c 01 01 00 04" +
        "03 00 000c 01 00 000c 800e0080" + "03 00 0008 02 00 0002" + "03 00 0008 03 00 0002" + "00 00 0008 04 00 000e" +
        "28 00 000c 000e 0000 aabbccdd" +
        "29 00 0014" + String(repeating: "11", count: 16) +
        "00 00 001c 00 00 4004" + String(repeating: "22", count: 20)

    func testIKESAInitByteExact() throws {
        let bytes = Vectors.bytes(Self.initHex)
        let m = try IKEMessage(parsing: bytes)
        XCTAssertEqual(m.header.spiI, 0x0102030405060708)
        XCTAssertEqual(m.header.spiR, 0)
        XCTAssertEqual(m.header.exchangeType, .IKE_SA_INIT)
        XCTAssertTrue(m.header.isInitiator)
        XCTAssertFalse(m.header.isResponse)
        XCTAssertEqual(m.header.length, 0x88)
        XCTAssertEqual(m.payloads.map(\.type), [.SA, .KE, .Nonce, .N])
        let p = try XCTUnwrap(m.payloads.sa?.proposals.first)
        XCTAssertEqual(p.protocolID, .IKE)
        XCTAssertEqual(p.transforms, [Transform(.ENCR, EncrID.ENCR_AES_CBC, keyLength: 128), Transform(.PRF, PRFID.PRF_HMAC_SHA1),
                                      Transform(.INTEG, IntegID.AUTH_HMAC_SHA1_96), Transform(.DH, DHGroupID.MODP_2048)])
        XCTAssertEqual(m.payloads.ke, KEPayload(dhGroup: 14, keyData: [0xaa, 0xbb, 0xcc, 0xdd]))
        XCTAssertEqual(m.payloads.nonce, [UInt8](repeating: 0x11, count: 16))
        XCTAssertEqual(m.payloads.notify(.NAT_DETECTION_SOURCE_IP)?.data, [UInt8](repeating: 0x22, count: 20))
        XCTAssertEqual(m.serialize(), bytes)
        // Built from values, not parsed: same bytes.
        let built = IKEMessage(header: IKEHeader(spiI: 0x0102030405060708, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: true,
                                                 isResponse: false, messageID: 0),
                               payloads: [.sa(SAPayload(proposals: [p])), .ke(KEPayload(dhGroup: 14, keyData: [0xaa, 0xbb, 0xcc, 0xdd])),
                                          .nonce([UInt8](repeating: 0x11, count: 16)),
                                          .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: [UInt8](repeating: 0x22, count: 20)))])
        XCTAssertEqual(built.serialize(), bytes)
    }

    func testEveryTruncationIsATypedError() {
        let bytes = Vectors.bytes(Self.initHex)
        for n in 0..<bytes.count {
            XCTAssertThrowsError(try IKEMessage(parsing: Array(bytes.prefix(n))), "prefix \(n) must not parse")
        }
        // Header says 0x88 but the datagram is longer.
        XCTAssertThrowsError(try IKEMessage(parsing: bytes + [0])) { e in
            XCTAssertEqual(e as? IKEMessageError, .lengthMismatch(header: 0x88, datagram: 0x89))
        }
        // Version 1.0
        var v1 = bytes; v1[17] = 0x10
        XCTAssertThrowsError(try IKEMessage(parsing: v1)) { e in XCTAssertEqual(e as? IKEMessageError, .unsupportedMajorVersion(1)) }
        // A proposal length overrunning the SA payload.
        var bad = bytes; bad[28 + 4 + 3] = 0x40
        XCTAssertThrowsError(try IKEMessage(parsing: bad)) { e in XCTAssertTrue(e is WireError, "\(e)") }
        // A payload length below 4.
        var bad2 = bytes; bad2[28 + 48 + 3] = 0x02
        XCTAssertThrowsError(try IKEMessage(parsing: bad2)) { e in
            XCTAssertEqual(e as? WireError, .invalidValue(what: "KE payload length", offset: 78, detail: "2 < 4"))
        }
    }

    func testRandomMutationsNeverTrap() {
        let bytes = Vectors.bytes(Self.initHex)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var b = bytes
            for _ in 0..<3 { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? IKEMessage(parsing: b)
        }
    }

    func testUnknownPayloadKeptAndCriticalReported() throws {
        // Header + unknown type 200 (critical, 2-byte body) + Nonce.
        let hex = "0000000000000001 0000000000000002 c8 20 25 20 00000001 00000036" +
            "28 80 0006 beef" + "00 00 0014" + String(repeating: "33", count: 16)
        let bytes = Vectors.bytes(hex)
        let m = try IKEMessage(parsing: bytes)
        XCTAssertEqual(m.payloads.first, .unknown(type: PayloadType(rawValue: 200), critical: true, body: [0xbe, 0xef]))
        XCTAssertEqual(m.payloads.unsupportedCritical, PayloadType(rawValue: 200))
        XCTAssertEqual(m.header.exchangeType, .INFORMATIONAL)
        XCTAssertTrue(m.header.isResponse)
        XCTAssertEqual(m.serialize(), bytes)
    }

    func testSKMustBeLastAndCarriesInnerType() throws {
        let hex = "0000000000000001 0000000000000002 2e 20 23 08 00000001 00000024" + "23 00 0008 01020304"
        let m = try IKEMessage(parsing: Vectors.bytes(hex))
        XCTAssertEqual(m.payloads.sk, SKPayload(firstInnerPayload: .IDi, body: [1, 2, 3, 4]))
        XCTAssertEqual(m.serialize(), Vectors.bytes(hex))
        let trailing = "0000000000000001 0000000000000002 2e 20 23 08 00000001 00000028" + "23 00 0008 01020304" + "00000000"
        XCTAssertThrowsError(try IKEMessage(parsing: Vectors.bytes(trailing)))
        let skf = "0000000000000001 0000000000000002 35 20 23 08 00000001 00000028" + "23 00 000c 0001 0002 01020304"
        let f = try IKEMessage(parsing: Vectors.bytes(skf))
        XCTAssertEqual(f.payloads.skf, SKFPayload(firstInnerPayload: .IDi, fragmentNumber: 1, totalFragments: 2, body: [1, 2, 3, 4]))
        XCTAssertEqual(f.serialize(), Vectors.bytes(skf))
        var bad = Vectors.bytes(skf); bad[33] = 3 // fragment 3 of 2
        XCTAssertThrowsError(try IKEMessage(parsing: bad))
    }

    private func roundTrip(_ p: Payload, _ hexBody: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var w = ByteWriter()
        Payload.serializeChain([p], into: &w)
        let body = Vectors.bytes(hexBody)
        let expected = [p.type == .SK ? 0 : 0, 0, UInt8((body.count + 4) >> 8), UInt8((body.count + 4) & 0xff)] + body
        XCTAssertEqual(w.bytes.hexString, expected.hexString, file: file, line: line)
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try Payload.parseChain(first: p.type, &r), [p], file: file, line: line)
    }

    func testPayloadBodiesByteExact() throws {
        try roundTrip(.idi(IDPayload(.ID_RFC822_ADDR, "0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org")),
                      "03000000" + Array("0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org".utf8).hexString)
        try roundTrip(.idr(IDPayload(.ID_FQDN, "ims")), "02000000 696d73")
        try roundTrip(.idr(IDPayload(.ID_IPV4_ADDR, [198, 51, 100, 1])), "01000000 c6336401")
        try roundTrip(.idr(IDPayload(.ID_KEY_ID, "ims")), "0b000000 696d73")
        try roundTrip(.auth(AuthPayload(method: .SHARED_KEY_MIC, data: [1, 2, 3])), "02000000 010203")
        try roundTrip(.auth(AuthPayload(method: .DIGITAL_SIGNATURE, data: AuthPayload.digitalSignatureData(algorithmIdentifier: [0x30, 0x00], signature: [9]))),
                      "0e000000 02 3000 09")
        try roundTrip(.cert(CertPayload(encoding: 4, data: [0x30, 0x82])), "04 3082")
        try roundTrip(.certreq(CertPayload(encoding: 4, data: [UInt8](repeating: 0xab, count: 20))), "04" + String(repeating: "ab", count: 20))
        try roundTrip(.delete(DeletePayload(protocolID: .ESP, spis: [[1, 2, 3, 4], [5, 6, 7, 8]])), "03 04 0002 01020304 05060708")
        try roundTrip(.delete(DeletePayload(protocolID: .IKE)), "01 00 0000")
        try roundTrip(.vendorID([0xde, 0xad]), "dead")
        try roundTrip(.notify(NotifyPayload(.REKEY_SA, protocolID: 3, spi: [0xc0, 0, 0, 1])), "03 04 4009 c0000001")
        try roundTrip(.notify(NotifyPayload(.BACKOFF_TIMER, data: [1, 0x21])), "00 00 a051 0121")
        try roundTrip(.eap([2, 7, 0, 5, 1]), "0207000501")
        try roundTrip(.tsi(TSPayload([.single(IPAddress("198.51.100.7")!),
                                      TrafficSelector(ipProtocol: 17, startPort: 5060, endPort: 5060,
                                                      startAddress: IPAddress("2001:db8::1")!, endAddress: IPAddress("2001:db8::ffff")!)])),
                      "02000000" + "07 00 0010 0000 ffff c6336407 c6336407" +
                      "08 11 0028 13c4 13c4 20010db8000000000000000000000001 20010db800000000000000000000ffff")
        try roundTrip(.cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: [
            .init(CPPayload.Attribute.INTERNAL_IP4_ADDRESS), .init(CPPayload.Attribute.INTERNAL_IP6_ADDRESS),
            .init(CPPayload.Attribute.P_CSCF_IP4_ADDRESS), .init(16389)])),
                      "01000000 0001 0000 0008 0000 0014 0000 4005 0000")
        try roundTrip(.cp(CPPayload(cfgType: CPPayload.CFG_REPLY, attributes: [
            .init(CPPayload.Attribute.INTERNAL_IP4_ADDRESS, [198, 51, 100, 2]),
            .init(CPPayload.Attribute.INTERNAL_IP6_ADDRESS, IPAddress("2001:db8::2")!.bytes + [64])])),
                      "02000000 0001 0004 c6336402 0008 0011 20010db8000000000000000000000002 40")
    }

    func testNotifyNamesMatchReference() {
        XCTAssertEqual(NotifyType(rawValue: 9001).name, "USER_UNKNOWN")
        XCTAssertEqual(NotifyType.PDN_CONNECTION_REJECTION.rawValue, 8192)
        XCTAssertEqual(NotifyType.RAT_TYPE_NOT_ALLOWED.rawValue, 11001)
        XCTAssertEqual(NotifyType.IMEI_NOT_ACCEPTED.rawValue, 11005)
        XCTAssertEqual(NotifyType.PLMN_NOT_ALLOWED.rawValue, 11011)
        XCTAssertEqual(NotifyType.BACKOFF_TIMER.rawValue, 41041)
        XCTAssertEqual(NotifyType.REACTIVATION_REQUESTED_CAUSE.rawValue, 40961)
        XCTAssertEqual(NotifyType.DEVICE_IDENTITY.rawValue, 41101)
        XCTAssertEqual(NotifyType(rawValue: 16430).name, "IKEV2_FRAGMENTATION_SUPPORTED")
        XCTAssertEqual(NotifyType(rawValue: 60000).name, "NOTIFY(60000)")
        XCTAssertTrue(NotifyType.USER_UNKNOWN.isError)
        XCTAssertFalse(NotifyType.DEVICE_IDENTITY.isError)
    }

    func testTransformAttributesAndUnknownTransformType() throws {
        // Proposal with an unknown transform type 99 and an extra TLV attribute: kept parseable, flagged.
        let body = Vectors.bytes("00 00 0020 01 03 00 02" + "03 00 0010 01 00 000c 800e0100 0001 0000" + "00 00 0008 63 00 0001")
        var r = ByteReader(body)
        let sa = try SAPayload(parsing: &r)
        XCTAssertEqual(sa.proposals.count, 1)
        XCTAssertTrue(sa.proposals[0].hasUnknownTransformType)
        XCTAssertEqual(sa.proposals[0].protocolID, .ESP)
        XCTAssertEqual(sa.proposals[0].transforms[0].keyLength, 256)
        XCTAssertEqual(sa.proposals[0].transforms[0].otherAttributes, [TransformAttribute(type: 1, isTV: false, value: [])])
    }

    func testIPAddressText() {
        XCTAssertEqual(IPAddress("2001:db8::1")?.description, "2001:db8::1")
        XCTAssertEqual(IPAddress("::")?.description, "::")
        XCTAssertEqual(IPAddress("198.51.100.9")?.bytes, [198, 51, 100, 9])
        XCTAssertNil(IPAddress("1.2.3"))
        XCTAssertNil(IPAddress("1::2::3"))
        XCTAssertNil(IPAddress("256.1.1.1"))
    }
}
