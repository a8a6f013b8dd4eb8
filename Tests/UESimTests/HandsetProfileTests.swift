import XCTest
import IKEv2
import Crypto
@testable import UESim

final class HandsetProfileTests: XCTestCase {
    /// Every profile's IKE_SA_INIT and first IKE_AUTH offers survive the IKEv2 codec byte for byte.
    func testEveryProfileBuildsValidProposals() throws {
        XCTAssertEqual(HandsetProfile.all.map(\.name),
                       ["android", "iphone", "samsung", "qualcomm", "mediatek", "device-identity", "keyid", "mnc3", "emergency", "aka-prime"])
        for p in HandsetProfile.all {
            XCTAssertFalse(p.source.isEmpty, p.name)
            let sa = p.ikeSAPayload()
            let suites = p.ikeSuites()
            XCTAssertFalse(suites.isEmpty, p.name)
            let ke = KEPayload(dhGroup: suites[0].dhGroup.rawValue, keyData: [UInt8](repeating: 7, count: 64))
            let msg = IKEMessage(header: IKEHeader(spiI: 0x0102030405060708, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: true,
                                                   isResponse: false, messageID: 0),
                                 payloads: [.sa(sa), .ke(ke), .nonce([UInt8](repeating: 1, count: 32))])
            let bytes = msg.serialize()
            let back = try IKEMessage(parsing: bytes)
            XCTAssertEqual(back.payloads.sa, sa, p.name)
            XCTAssertEqual(back.serialize(), bytes, p.name)
            for prop in back.payloads.sa?.proposals ?? [] {
                XCTAssertEqual(prop.protocolID, .IKE)
                XCTAssertFalse(prop.hasUnknownTransformType)
                XCTAssertFalse(prop.transforms(.ENCR).isEmpty, p.name)
                XCTAssertFalse(prop.transforms(.PRF).isEmpty, p.name)
                XCTAssertFalse(prop.transforms(.DH).isEmpty, p.name)
                // AEAD proposals carry no INTEG; others must.
                let aead = prop.transforms(.ENCR).allSatisfy { $0.id == EncrID.ENCR_AES_GCM_16 }
                XCTAssertEqual(prop.transforms(.INTEG).isEmpty, aead, p.name)
                for t in prop.transforms(.ENCR) { XCTAssertNoThrow(try EncryptionAlgorithm(transformID: t.id, keyLength: t.keyLength.map(Int.init))) }
                for t in prop.transforms(.DH) { XCTAssertNotNil(DHGroup(rawValue: t.id), p.name) }
            }
            // Child SA offer with a 4-byte SPI, CP request.
            let esp = p.espSAPayload(spi: 0xC0FFEE01)
            let auth = IKEMessage(header: IKEHeader(spiI: 1, spiR: 2, exchangeType: .IKE_AUTH, isInitiator: true, isResponse: false, messageID: 1),
                                  payloads: [.sa(esp), .cp(p.cpRequest())])
            let ab = try IKEMessage(parsing: auth.serialize())
            XCTAssertEqual(ab.payloads.sa?.proposals.first?.spi, [0xC0, 0xFF, 0xEE, 0x01])
            XCTAssertEqual(ab.payloads.cp?.cfgType, CPPayload.CFG_REQUEST)
            XCTAssertEqual(ab.payloads.cp?.attributes.map(\.type), p.cpAttributes)
            XCTAssertFalse(p.espSuites().isEmpty, p.name)
        }
    }

    func testProfileSpecifics() throws {
        let android = try XCTUnwrap(HandsetProfile.named("Android"))
        XCTAssertEqual(Set(android.ikeSuites().map(\.dhGroup)), [.modp2048, .modp1024])
        XCTAssertEqual(android.ikeSuites().first, IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96,
                                                           prf: .PRF_HMAC_SHA1, dhGroup: .modp2048))
        XCTAssertTrue(android.authNotifies.contains(.EAP_ONLY_AUTHENTICATION))
        XCTAssertTrue(android.forceUDPEncapsulation)
        XCTAssertEqual(HandsetProfile.all.filter { !$0.forceUDPEncapsulation }.map(\.name), ["iphone"])

        let iphone = try XCTUnwrap(HandsetProfile.named("iphone"))
        XCTAssertEqual(iphone.ikeSuites().first, IKESuite(encryption: .ENCR_AES_GCM_16(keyBits: 256), integrity: nil,
                                                          prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256))
        XCTAssertTrue(iphone.ikeSuites().contains { $0.dhGroup == .modp2048 })
        XCTAssertEqual(iphone.espSuites().first, ESPSuite(encryption: .ENCR_AES_GCM_16(keyBits: 256), integrity: nil))
        XCTAssertFalse(iphone.authNotifies.contains(.EAP_ONLY_AUTHENTICATION))

        XCTAssertEqual(HandsetProfile.named("samsung")?.pcscfAttributeTypes?.v4, 16389)
        XCTAssertEqual(HandsetProfile.named("samsung")?.pcscfAttributeTypes?.v6, 16390)
        XCTAssertEqual(HandsetProfile.named("qualcomm")?.pcscfAttributeTypes?.v4, 16384)
        XCTAssertEqual(HandsetProfile.named("qualcomm")?.pcscfAttributeTypes?.v6, 16386)
        XCTAssertEqual(android.pcscfAttributeTypes?.v4, 20)
        XCTAssertEqual(HandsetProfile.named("mediatek")?.rejectsAuthInFirstAuthResponse, true)
        XCTAssertEqual(HandsetProfile.named("keyid")?.identityForm, .keyID)
        XCTAssertEqual(HandsetProfile.named("mnc3")?.mncDigits, 3)
        XCTAssertEqual(HandsetProfile.named("emergency")?.idr, .emergency)
        XCTAssertEqual(HandsetProfile.named("emergency")?.callTarget, "urn:service:sos")
        XCTAssertEqual(HandsetProfile.named("aka-prime")?.eapMethod, .akaPrime)
        XCTAssertNil(HandsetProfile.named("nokia-3310"))
    }

    /// TS 24.302 §8.2.9.2: length 9, type, 8 TBCD octets.
    func testDeviceIdentityNotify() throws {
        let n = try XCTUnwrap(HandsetProfile.deviceIdentityNotify(imei: "490154203237518"))
        XCTAssertEqual(n.type, .DEVICE_IDENTITY)
        XCTAssertEqual(n.data, [0x00, 0x09, 0x01, 0x94, 0x10, 0x45, 0x02, 0x23, 0x73, 0x15, 0xF8])
        let sv = try XCTUnwrap(HandsetProfile.deviceIdentityNotify(imeisv: "4901542032375181"))
        XCTAssertEqual(sv.data, [0x00, 0x09, 0x02, 0x94, 0x10, 0x45, 0x02, 0x23, 0x73, 0x15, 0x18])
        XCTAssertNil(HandsetProfile.deviceIdentityNotify(imei: "12345"))
        XCTAssertNil(HandsetProfile.deviceIdentityNotify(imei: "49015420323751x"))
    }
}
