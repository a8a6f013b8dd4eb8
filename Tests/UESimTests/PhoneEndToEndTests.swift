import Foundation
import XCTest
import IKEv2
import AKA
import Crypto
import IMS
import Wire
@testable import UESim

/// The whole path in one process: Phone ↔ IKEv2 responder + ESP ↔ IMS core with echo media.
final class PhoneEndToEndTests: XCTestCase {
    func ladder(_ h: CoreHarness, _ p: Phone) -> String {
        (p.events.map(\.description) + h.traces(p).map(\.description)).joined(separator: "\n")
    }

    func testAndroidAttachRegisterEchoCallAndTeardown() throws {
        let h = CoreHarness()
        let p = try h.addPhone(profile: .android, mediaDuration: 1)
        h.run()
        if ProcessInfo.processInfo.environment["UESIM_LADDER"] != nil { print(ladder(h, p)) }
        XCTAssertEqual(p.finished, true, ladder(h, p))
        let steps = p.events.filter { $0.step != .note }
        XCTAssertEqual(steps.map(\.step), [.ikeSAInit, .ikeAuth, .childSA, .register, .subscribe, .notify, .invite, .media, .bye, .ikeDelete]
                       .filter { s in steps.contains { $0.step == s } }, ladder(h, p))
        for s: PhoneStep in [.ikeSAInit, .ikeAuth, .childSA, .register, .subscribe, .invite, .media, .bye, .ikeDelete] {
            XCTAssertTrue(steps.contains { $0.step == s && $0.verdict == .pass }, "\(s) did not pass:\n" + ladder(h, p))
        }
        XCTAssertTrue(steps.allSatisfy { $0.end >= $0.start })
        XCTAssertEqual(p.innerAddress, IPAddressHelper.v4("198.18.0.2"))
        XCTAssertEqual(p.pcscf?.description, CoreHarness.pcscf)
        // Android fakes a NAT (RFC 7296 §2.23): IKE moves to 4500 and ESP is UDP-encapsulated.
        XCTAssertEqual(p.child?.udpEncapsulation, true)
        XCTAssertEqual(p.child?.local.port, 4500)
        let media = try XCTUnwrap(p.events.first { $0.step == .media })
        XCTAssertTrue(media.detail.hasPrefix("sent 50, echoed 50, lost 0, corrupt 0"), media.detail)
        XCTAssertTrue(h.traces(p).contains { $0.layer == "SIP" && $0.summary.hasPrefix("401") }, ladder(h, p))
        XCTAssertTrue(h.traces(p).contains { $0.layer == "SIP" && $0.summary.hasPrefix("PRACK") }, ladder(h, p))
        XCTAssertTrue(h.traces(p).contains { $0.layer == "IKEv2" && $0.summary == "INFORMATIONAL request #\(0)" || $0.summary.hasPrefix("INFORMATIONAL") })
        XCTAssertTrue(h.imsEvents.contains { if case .registered = $0 { return true }; return false })
    }
}

enum IPAddressHelper {
    static func v4(_ s: String) -> Wire.IPAddress? { Wire.IPAddress(s) }
}

extension PhoneEndToEndTests {
    func passedSteps(_ p: Phone) -> [PhoneStep] { p.events.filter { $0.verdict == .pass }.map(\.step) }

    /// iPhone: IKE on 4500 from the start (UDP-encapsulated ESP), AES-GCM-16-256 with ECP-256, ESP AES-GCM.
    func testIPhoneOverNATTWithGCMAndECP256() throws {
        // An ePDG preferring AEAD, as the iPhone does.
        let policy = IKEResponderPolicy(ikeEncryption: [.ENCR_AES_GCM_16(keyBits: 256), .ENCR_AES_CBC(keyBits: 256)], ikeDHGroups: [.ecp256, .modp2048],
                                        espEncryption: [.ENCR_AES_GCM_16(keyBits: 256), .ENCR_AES_CBC(keyBits: 256)],
                                        apns: [APNPolicy(name: "ims", pcscfAddresses: [Wire.IPAddress(CoreHarness.pcscf)!])])
        let h = CoreHarness(policy: policy, epdgPort: 4500)
        let p = try h.addPhone(profile: .iphone, port: 4500, mediaDuration: 0.4)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertTrue(p.events.first { $0.step == .ikeSAInit }?.detail.contains("ENCR_AES_GCM_16_256") == true, ladder(h, p))
        XCTAssertTrue(p.events.first { $0.step == .ikeSAInit }?.detail.contains("ECP_256") == true, ladder(h, p))
        XCTAssertEqual(p.child?.udpEncapsulation, true)
        XCTAssertEqual(p.child?.suite.encryption, .ENCR_AES_GCM_16(keyBits: 256))
    }

    /// Samsung asks for the P-CSCF with private types 16389/16390; an ePDG configured for them answers.
    func testSamsungPrivatePCSCFAttributes() throws {
        var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [Wire.IPAddress(CoreHarness.pcscf)!])])
        policy.pcscfIPv4AttributeType = 16389
        policy.pcscfIPv6AttributeType = 16390
        let h = CoreHarness(policy: policy)
        let p = try h.addPhone(profile: .samsung, scenario: .register)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertEqual(passedSteps(p), [.ikeSAInit, .ikeAuth, .childSA, .register, .subscribe, .ikeDelete].filter { passedSteps(p).contains($0) })
        XCTAssertTrue(passedSteps(p).contains(.register))
        XCTAssertEqual(p.pcscf?.description, CoreHarness.pcscf)
    }

    /// Unconfigured, the ePDG still answers Samsung's private types 16389/16390 in kind.
    func testSamsungPrivateTypesAnsweredInKindWithoutConfig() throws {
        let h = CoreHarness()
        let p = try h.addPhone(profile: .samsung, scenario: .register)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertTrue(passedSteps(p).contains(.register))
        XCTAssertEqual(p.pcscf?.description, CoreHarness.pcscf)
    }

    /// An APN without a P-CSCF: the phone gets none and says so.
    func testNoPCSCFOnTheAPNFailsClearly() throws {
        let h = CoreHarness(policy: IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [])]))
        let p = try h.addPhone(profile: .samsung, scenario: .register)
        h.run()
        XCTAssertEqual(p.finished, false)
        guard case let .fail(reason)? = p.events.last(where: { $0.step != .note })?.verdict else { return XCTFail(ladder(h, p)) }
        XCTAssertTrue(reason.contains("P-CSCF"), reason)
    }

    /// The card's SQN is ahead of the HSS: EAP-AKA sync failure, AUTS, resync, then success.
    func testSQNResynchronisationDuringAttach() throws {
        let h = CoreHarness()
        let p = try h.addPhone(cardSQN: 5000 << 5, hssSQN: 0, scenario: .attach)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertEqual(h.hss.resyncs, 1)
    }

    /// A wrong K: the phone rejects the network's AUTN (MAC failure) and the attach fails with a reason.
    func testWrongKeyFailsAttach() throws {
        let h = CoreHarness()
        let p = try h.addPhone(scenario: .attach)
        h.hss.add(imsi: "001010000000001", alg: .milenage(try Milenage(k: [UInt8](repeating: 0x11, count: 16), opc: CoreHarness.set1OPc)))
        h.run()
        XCTAssertEqual(p.finished, false)
        XCTAssertEqual(p.events.last?.step, .ikeAuth, ladder(h, p))
        XCTAssertFalse(p.events.last?.verdict.passed ?? true)
    }

    /// Emergency profile: IDr EMERGENCY, INVITE urn:service:sos answered by the IMS.
    func testEmergencyProfile() throws {
        let h = CoreHarness()
        let p = try h.addPhone(profile: .emergencyProfile, mediaDuration: 0.2)
        h.run()
        XCTAssertEqual(p.config.idr, "EMERGENCY")
        XCTAssertEqual(p.child?.apn, "EMERGENCY")
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertTrue(h.traces(p).contains { $0.summary.hasPrefix("INVITE urn:service:sos") }, ladder(h, p))
    }

    /// Phone-to-phone: B stays registered (teardown off) and answers; A calls B and checks B's loopback of its RTP.
    func testPhoneToPhoneCall() throws {
        let h = CoreHarness()
        let b = try h.addPhone(imsi: "001010000000002", scenario: .register, teardown: false)
        let a = try h.addPhone(imsi: "001010000000001", mediaDuration: 0.4, target: "sip:001010000000002@\(CoreHarness.domain)")
        h.run()
        XCTAssertEqual(a.finished, true, ladder(h, a) + "\n---\n" + ladder(h, b))
        XCTAssertTrue(b.events.contains { $0.detail.hasPrefix("from sip:001010000000001") }, ladder(h, b))
        XCTAssertTrue(a.events.first { $0.step == .media }?.detail.hasPrefix("sent 20, echoed 20, lost 0") == true, ladder(h, a))
    }
}

extension PhoneEndToEndTests {
    func makeSigner() throws -> IKEAuthSigner {
        let key = try PrivateKey.generateEC(curve: .p256)
        let c = try Certificate.selfSigned(commonName: "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org",
                                           dnsName: "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org", key: key)
        return try CertificateSigner(certificate: c.certificate, key: c.privateKey)
    }

    /// MediaTek: an ePDG signing its first IKE_AUTH response loses the phone; with
    /// omit_auth_in_first_auth_rsp the same phone attaches. Android does not care.
    func testMediaTekNeedsOmitAuthInFirstAuthResponse() throws {
        let apns = [APNPolicy(name: "ims", pcscfAddresses: [Wire.IPAddress(CoreHarness.pcscf)!])]
        let signer = try makeSigner()
        let signing = CoreHarness(policy: IKEResponderPolicy(apns: apns), signer: signer)
        let mtk = try signing.addPhone(profile: .mediatek, scenario: .attach)
        signing.run()
        XCTAssertEqual(mtk.finished, false)
        guard case let .fail(reason)? = mtk.events.last?.verdict else { return XCTFail(ladder(signing, mtk)) }
        XCTAssertTrue(reason.contains("omit_auth_in_first_auth_rsp"), reason)

        let androidH = CoreHarness(policy: IKEResponderPolicy(apns: apns), signer: signer)
        let android = try androidH.addPhone(profile: .android, scenario: .attach)
        androidH.run()
        XCTAssertEqual(android.finished, true, ladder(androidH, android))

        var omit = IKEResponderPolicy(apns: apns)
        omit.omitAuthInFirstAuthResponse = true
        let omitting = CoreHarness(policy: omit, signer: signer)
        let mtk2 = try omitting.addPhone(profile: .mediatek, scenario: .attach)
        omitting.run()
        XCTAssertEqual(mtk2.finished, true, ladder(omitting, mtk2))
    }
}

extension PhoneEndToEndTests {
    /// Every built-in profile attaches and registers against an ePDG configured for it.
    func testEveryProfileAttachesAndRegisters() throws {
        for profile in HandsetProfile.all {
            var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [Wire.IPAddress(CoreHarness.pcscf)!]),
                                                   APNPolicy(name: "EMERGENCY", pcscfAddresses: [Wire.IPAddress(CoreHarness.pcscf)!])])
            if let t = profile.pcscfAttributeTypes, t.v4 >= 16384 { policy.pcscfIPv4AttributeType = t.v4; policy.pcscfIPv6AttributeType = t.v6 }
            let h = CoreHarness(policy: policy)
            // The 3-digit-MNC SIM registers nowhere in this single-domain IMS: attach only.
            let mnc3 = profile.mncDigits == 3
            let p = try h.addPhone(imsi: mnc3 ? "310410123456789" : "001010000000001", profile: profile, scenario: mnc3 ? .attach : .register)
            h.run()
            XCTAssertEqual(p.finished, true, "\(profile.name):\n" + ladder(h, p))
            if profile.authNotifies.contains(.DEVICE_IDENTITY) {
                // The ePDG recorded the IMEI (the SA is gone after the delete; the log line stays).
                XCTAssertTrue(h.epdgLogs.contains { $0.contains("353490069873319") }, "\(profile.name): " + h.epdgLogs.joined(separator: "\n"))
            }
            if mnc3 {
                XCTAssertEqual(p.config.initiatorConfig.nai.description, "0310410123456789@nai.epc.mnc410.mcc310.3gppnetwork.org")
            }
        }
    }
}

extension PhoneEndToEndTests {
    /// An IPv6-only P-CSCF: the phone uses its inner IPv6 address for SIP (bracketed hosts) and SDP (IP6).
    func testIPv6InnerPath() throws {
        let policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [Wire.IPAddress(CoreHarness.pcscf6)!])])
        let h = CoreHarness(policy: policy)
        let p = try h.addPhone(profile: .android, mediaDuration: 0.2)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        XCTAssertEqual(p.innerAddress?.isIPv6, true)
        XCTAssertEqual(p.pcscf?.description, Wire.IPAddress(CoreHarness.pcscf6)?.description)
        XCTAssertTrue(p.events.first { $0.step == .media }?.detail.hasPrefix("sent 10, echoed 10, lost 0") == true, ladder(h, p))
    }
}

extension PhoneEndToEndTests {
    /// A network-initiated call (IMS MT call) to a registered phone: answered, media echoed back, ended by the network.
    func testNetworkInitiatedCallIsAnswered() throws {
        let h = CoreHarness()
        let p = try h.addPhone(scenario: .register, teardown: false)
        h.run()
        XCTAssertEqual(p.finished, true, ladder(h, p))
        let (callID, acts) = h.ims.mtCall("sip:001010000000001@\(CoreHarness.domain)", now: h.now)
        XCTAssertNotNil(callID)
        h.performIMS(acts)
        h.run(limit: 5, start: false, untilQuiet: true)
        XCTAssertTrue(p.events.contains { $0.verdict == .info("incoming call up") }, ladder(h, p))
        XCTAssertTrue(p.isActive)
        XCTAssertNotNil(p.media)
        h.performIMS(h.ims.mtHangup(try XCTUnwrap(callID), now: h.now))
        h.run(limit: 5, start: false, untilQuiet: true)
        XCTAssertTrue(p.events.contains { $0.verdict == .info("call ended") && $0.detail == "by the peer" }, ladder(h, p))
    }
}

extension PhoneEndToEndTests {
    /// Datagrams to two phones sharing one address are routed by IKE SPIi and ESP SPI.
    func testDemuxKeys() throws {
        let h = CoreHarness()
        let a = try h.addPhone(imsi: "001010000000001", scenario: .register, teardown: false)
        let b = try h.addPhone(imsi: "001010000000002", scenario: .register, teardown: false)
        h.run()
        XCTAssertEqual(a.demuxKeys.count, 2)
        XCTAssertTrue(Set(a.demuxKeys).isDisjoint(with: Set(b.demuxKeys)))
        guard case let .esp(spi)? = a.demuxKeys.last else { return XCTFail() }
        XCTAssertEqual(PhoneDemuxKey(payload: [UInt8(spi >> 24), UInt8((spi >> 16) & 0xff), UInt8((spi >> 8) & 0xff), UInt8(spi & 0xff), 0, 0, 0, 1], natT: true),
                       .esp(spi: spi))
        XCTAssertNil(PhoneDemuxKey(payload: [0xff], natT: true))
        let sent = (h.actions[ObjectIdentifier(a)] ?? []).compactMap { if case let .sendIKE(b, _, _) = $0 { b } else { nil } }
        XCTAssertEqual(PhoneDemuxKey(payload: sent[0], natT: false), a.demuxKeys.first)
        XCTAssertEqual(PhoneDemuxKey(payload: sent.last ?? [], natT: true), a.demuxKeys.first)   // after the move to 4500
    }
}
