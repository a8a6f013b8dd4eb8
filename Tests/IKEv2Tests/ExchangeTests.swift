import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

final class ExchangeTests: XCTestCase {
    func testNATTraversalMovesTo4500AndEncapsulates() throws {
        let h = try AttachHarness()
        h.nat = true
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        XCTAssertTrue(nw.udpEncapsulation)
        XCTAssertTrue(ue.udpEncapsulation)
        XCTAssertEqual(nw.remote, IKEEndpoint(IPAddress(v4: 198, 51, 100, 77), 40001), "ePDG follows the NAT mapping of port 4500")
        XCTAssertEqual(nw.local.port, 4500)
        XCTAssertEqual(ue.remote.port, 4500)
        XCTAssertEqual(ue.local.port, 4500)
        // Every IKE_AUTH went over 4500.
        let sends = h.ueActions.compactMap { if case let .send(_, from, to) = $0 { (from.port, to.port) } else { nil } }
        XCTAssertEqual(sends.first?.1, 500)
        XCTAssertTrue(sends.dropFirst().allSatisfy { $0 == (4500, 4500) })
    }

    func testForcedUDPEncapsulationWithoutNAT() throws {
        let h = try AttachHarness()
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.forceUDPEncapsulation = true
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        XCTAssertTrue(nw.udpEncapsulation, "the ePDG saw a NAT_DETECTION_SOURCE_IP that does not match")
        XCTAssertEqual(nw.remote.port, 4500)
        XCTAssertTrue(try XCTUnwrap(h.ue.childSA).udpEncapsulation)
    }

    func testChildSARekeyWithAndWithoutPFS() throws {
        for pfs in [nil, DHGroup.ecp256] {
            let h = try AttachHarness()
            try h.makeUE()
            h.run()
            XCTAssertEqual(h.ue.state, .established)
            let first = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
            h.ueActions = []; h.epdgActions = []
            h.route(h.ue.rekeyChildSA(now: h.now, pfsGroup: pfs), fromUE: true)
            h.run(start: false)
            let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first, "\(AttachHarness.logs(h.epdgActions))")
            let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
            XCTAssertEqual(nw.inboundSPI, ue.outboundSPI)
            XCTAssertEqual(nw.outboundSPI, ue.inboundSPI)
            XCTAssertEqual(nw.inboundEncryptionKey, ue.outboundEncryptionKey)
            XCTAssertEqual(nw.outboundIntegrityKey, ue.inboundIntegrityKey)
            XCTAssertNotEqual(nw.inboundEncryptionKey, first.inboundEncryptionKey)
            XCTAssertNotEqual(nw.inboundSPI, first.inboundSPI)
            XCTAssertEqual(nw.remoteTS, first.remoteTS)
            XCTAssertEqual(AttachHarness.logs(h.epdgActions).contains { $0.contains("with PFS") }, pfs != nil)
            // The phone deleted the old pair; the ePDG removed it and kept the new one.
            XCTAssertTrue(h.epdgActions.contains(.deleteChildSA(inboundSPI: first.inboundSPI, outboundSPI: first.outboundSPI)))
            let sa = try XCTUnwrap(h.epdg.allSAs.first)
            XCTAssertEqual(sa.children.map(\.inboundSPI), [nw.inboundSPI])
        }
    }

    func testEPDGRekeysChildSAAtESPLifetime() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        let first = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        XCTAssertEqual(try XCTUnwrap(h.epdg.nextWakeup), sa.lastActivity + 270, accuracy: 0.001, "rekey at 90% of the 300 s esp lifetime")
        h.ueActions = []; h.epdgActions = []
        h.now = try XCTUnwrap(h.epdg.nextWakeup)
        h.route(h.epdg.poll(now: h.now), fromUE: false)
        h.run(start: false)
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains { $0.contains("reached esp lifetime") })
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        // The ePDG started this exchange, so its outbound keys are the exchange initiator's.
        XCTAssertEqual(nw.outboundEncryptionKey, ue.inboundEncryptionKey)
        XCTAssertEqual(nw.inboundIntegrityKey, ue.outboundIntegrityKey)
        XCTAssertEqual(nw.outboundSPI, ue.inboundSPI)
        XCTAssertTrue(h.epdgActions.contains(.deleteChildSA(inboundSPI: first.inboundSPI, outboundSPI: first.outboundSPI)))
        XCTAssertTrue(h.ueActions.contains(.deleteChildSA(inboundSPI: first.outboundSPI, outboundSPI: first.inboundSPI)))
        XCTAssertEqual(sa.children.count, 1)
        XCTAssertEqual(h.ue.children.count, 1)
        XCTAssertEqual(h.ue.state, .established)
    }

    func testIKESARekeyKeepsChildSAsAndAddress() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        let oldSPIr = h.ue.spiR
        let oldKeys = try XCTUnwrap(h.ue.keys)
        h.ueActions = []; h.epdgActions = []
        h.route(h.ue.rekeyIKESA(now: h.now), fromUE: true)
        h.run(start: false)
        XCTAssertNotEqual(h.ue.spiR, oldSPIr)
        XCTAssertNotEqual(h.ue.keys, oldKeys)
        XCTAssertEqual(h.epdg.count, 1, "old SA deleted by the phone, new one kept")
        let sa = try XCTUnwrap(h.epdg.sa(spiR: h.ue.spiR))
        XCTAssertEqual(sa.keys, h.ue.keys)
        XCTAssertEqual(sa.children.count, 1)
        XCTAssertEqual(sa.children.first?.ikeSPIr, h.ue.spiR)
        XCTAssertEqual(h.pool.releases, 0)
        XCTAssertFalse(h.epdgActions.contains { if case .deleteChildSA = $0 { true } else { false } })
        XCTAssertTrue(h.epdgActions.contains { if case let .ikeSARekeyed(_, r, _) = $0 { r == oldSPIr } else { false } })
        // The new SA works: a Child SA rekey over it derives from the new SK_d on both sides.
        h.ueActions = []; h.epdgActions = []
        h.route(h.ue.rekeyChildSA(now: h.now), fromUE: true)
        h.run(start: false)
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first, "\(AttachHarness.logs(h.epdgActions + h.ueActions))")
        let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        XCTAssertEqual(nw.inboundEncryptionKey, ue.outboundEncryptionKey)
        XCTAssertEqual(sa.children.count, 1)
        // Deleting the new IKE SA releases the address once.
        h.route(h.ue.delete(now: h.now), fromUE: true)
        h.run(start: false)
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.releases, 1)
    }

    func testDeviceIdentityEncodingAndReport() throws {
        // TS 24.302 §8.2.9.2 examples (callbox-reference §9.5).
        XCTAssertEqual(DeviceIdentity(kind: .imeisv, digits: "1234567891234567").notifyData,
                       [0x00, 0x09, 0x02, 0x21, 0x43, 0x65, 0x87, 0x19, 0x32, 0x54, 0x76])
        XCTAssertEqual(DeviceIdentity(kind: .imei, digits: "123456789123456").notifyData,
                       [0x00, 0x09, 0x01, 0x21, 0x43, 0x65, 0x87, 0x19, 0x32, 0x54, 0xf6])
        XCTAssertEqual(DeviceIdentity(notifyData: [0x00, 0x09, 0x01, 0x21, 0x43, 0x65, 0x87, 0x19, 0x32, 0x54, 0xf6]),
                       DeviceIdentity(kind: .imei, digits: "123456789123456"))
        XCTAssertNil(DeviceIdentity(notifyData: [0x00, 0x09, 0x01, 0x21]))
        XCTAssertNil(DeviceIdentity(notifyData: [0x00, 0x02, 0x03, 0x21]))
        let imeisv = DeviceIdentity(kind: .imeisv, digits: "3534900698733101")
        XCTAssertEqual(try attached(deviceIdentity: imeisv).epdg.allSAs.first?.deviceIdentity, imeisv)
    }

    /// A full in-memory attach of a phone with this device identity, sent unasked or only when asked.
    func attached(deviceIdentity: DeviceIdentity?, unasked: Bool = true) throws -> AttachHarness {
        let h = try AttachHarness()
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.deviceIdentity = deviceIdentity
        cfg.deviceIdentityUnasked = unasked
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        return h
    }

    /// The ePDG asks a phone that did not send its IMEI for it (N(DEVICE_IDENTITY) with an empty
    /// IMEI in the first IKE_AUTH response, TS 24.302 §8.2.9.2); a phone that has one answers in
    /// its next EAP request, as Android does; a phone that sent it unasked is not asked; a phone
    /// without one still attaches. Over INFORMATIONAL the phone answers in the response.
    func testEPDGAsksForTheDeviceIdentity() throws {
        let imei = DeviceIdentity(kind: .imei, digits: "353490069873319")
        for (configured, unasked) in [(imei, false), (imei, true), (nil, false)] as [(DeviceIdentity?, Bool)] {
            let h = try attached(deviceIdentity: configured, unasked: unasked)
            XCTAssertEqual(h.epdg.allSAs.first?.deviceIdentity, configured, "configured \(String(describing: configured)), unasked \(unasked)")
            let firstAuth = try XCTUnwrap(AttachHarness.sends(h.epdgActions).dropFirst().first)
            let payloads = try XCTUnwrap(h.ue.protection).unprotect(raw: firstAuth, message: IKEMessage(parsing: firstAuth))
            XCTAssertEqual(payloads.notify(.DEVICE_IDENTITY)?.data, unasked ? nil : [0x00, 0x01, 0x01], "asked unless sent unasked")
            XCTAssertEqual(AttachHarness.logs(h.ueActions).contains { $0.hasPrefix("ePDG asks for the device identity") }, !unasked)
        }

        // A DEVICE_IDENTITY without digits (a phone echoing the request) records nothing and is logged.
        let e = try attached(deviceIdentity: DeviceIdentity(kind: .imei, digits: ""))
        XCTAssertNil(e.epdg.allSAs.first?.deviceIdentity)
        XCTAssertTrue(AttachHarness.logs(e.epdgActions).contains("malformed DEVICE_IDENTITY 000101"), "\(AttachHarness.logs(e.epdgActions))")

        // INFORMATIONAL: the phone answers with its identity.
        let h = try attached(deviceIdentity: imei)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        h.epdgActions = []
        sa.sendRequest(.INFORMATIONAL, [.notify(NotifyPayload(.DEVICE_IDENTITY, data: DeviceIdentity(kind: .imeisv, digits: "").notifyData))], now: h.now)
        h.route(h.epdg.collect(sa), fromUE: false)
        h.run(start: false)
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains("ePDG asks for the device identity (INFORMATIONAL): answering IMEI 353490069873319"))
    }

    func testErrorInjection() throws {
        // Reject the first IKE_AUTH with the doc's example notifies.
        var h = try AttachHarness()
        h.epdg.errorInjection = IKEErrorInjection(exchange: .ike_auth_step1, rejectNotifies: [NotifyPayload(.NO_APN_SUBSCRIPTION, data: [0x12, 0x34]),
                                                                                            NotifyPayload(.AUTHORIZATION_REJECTED, data: [0x56, 0x78])], ttl: 1)
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with NO_APN_SUBSCRIPTION", notify: .NO_APN_SUBSCRIPTION))
        XCTAssertEqual(h.epdg.errorInjection?.ttl, 0)
        // ttl used up: the next attach works.
        try h.makeUE()
        h.ueActions = []
        h.run()
        XCTAssertEqual(h.ue.state, .established)

        // Reject IKE_SA_INIT for one APN only: IKE_SA_INIT has no APN yet, so an APN filter never matches there.
        h = try AttachHarness()
        h.epdg.errorInjection = IKEErrorInjection(exchange: .ike_sa_init, rejectNotifies: [NotifyPayload(.NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED)])
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_SA_INIT rejected with NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED", notify: .NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED))
        XCTAssertEqual(h.epdg.count, 0)

        // Ignore the EAP response once: the phone's retransmission goes through.
        h = try AttachHarness()
        h.epdg.errorInjection = IKEErrorInjection(exchange: .ike_auth_step2, ttl: 1, apns: ["IMS"])
        try h.makeUE()
        h.run()
        XCTAssertNotEqual(h.ue.state, .established)
        h.now += 2
        h.route(h.ue.poll(now: h.now), fromUE: true)
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.epdgActions))")
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains { $0.contains("ike_generate_error: ignoring IKE_AUTH #2") })
    }

    func testOperatorReactivationAndPCSCFPush() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        h.route(h.epdg.sendPCSCF(imsi: AttachHarness.imsi, addresses: [IPAddress("198.51.100.9")!], now: h.now), fromUE: false)
        h.run(start: false)
        XCTAssertEqual(h.ue.assigned?.pcscf, [IPAddress("198.51.100.9")!])
        XCTAssertEqual(h.epdg.allSAs.first?.pending == nil, true, "CFG_ACK received")
        h.route(h.epdg.requestReactivation(imsi: AttachHarness.imsi, now: h.now), fromUE: false)
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.releases, 1)
        h.run(start: false)
        XCTAssertTrue(h.ue.isDead)
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains { $0.contains("reactivation (cause 39)") })
    }

    func testHandsetProfileOverrides() throws {
        var p = try AttachHarness().policy
        p.pcscfIPv4AttributeType = 16389
        p.pcscfIPv6AttributeType = 16390
        let h = try AttachHarness(policy: p)
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        // A phone-style proposal: several transforms of each type in one proposal.
        cfg.ikeSAOverride = SAPayload(proposals: [Proposal(number: 1, protocolID: .IKE, transforms: [
            Transform(.ENCR, EncrID.ENCR_AES_CBC, keyLength: 256), Transform(.ENCR, EncrID.ENCR_AES_CBC, keyLength: 128),
            Transform(.PRF, PRFID.PRF_HMAC_SHA2_256), Transform(.PRF, PRFID.PRF_HMAC_SHA1),
            Transform(.INTEG, IntegID.AUTH_HMAC_SHA2_256_128), Transform(.INTEG, IntegID.AUTH_HMAC_SHA1_96),
            Transform(.DH, DHGroupID.MODP_2048), Transform(.DH, DHGroupID.MODP_1024)])])
        cfg.espProposalsOverride = [Proposal(number: 1, protocolID: .ESP, transforms: [
            Transform(.ENCR, EncrID.ENCR_AES_CBC, keyLength: 128), Transform(.INTEG, IntegID.AUTH_HMAC_SHA1_96),
            Transform(.INTEG, IntegID.AUTH_HMAC_SHA2_256_128), Transform(.ESN, 0)])]
        cfg.cpRequestAttributes = [1, 3, 8, 10, 16389, 16390]
        cfg.idrType = .ID_KEY_ID
        cfg.authNotifies = [NotifyPayload(.INITIAL_CONTACT), NotifyPayload(.EAP_ONLY_AUTHENTICATION), NotifyPayload(.MOBIKE_SUPPORTED)]
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        // Our preference order (AES-CBC-128 first, SHA1-96 first) picks inside the phone's proposal.
        XCTAssertEqual(h.ue.suite, IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96, prf: .PRF_HMAC_SHA1, dhGroup: .modp2048))
        XCTAssertEqual(Set(h.ue.assigned?.pcscf ?? []), [IPAddress("198.51.100.1")!, IPAddress("2001:db8::5")!])
        XCTAssertNotNil(h.ue.assigned?.ipv6)
        XCTAssertEqual(AttachHarness.children(h.epdgActions).first?.suite.integrity, .AUTH_HMAC_SHA1_96)
    }

    func testUnknownSPIGetsUnprotectedInvalidIKESPI() throws {
        let h = try AttachHarness()
        let req = IKEMessage(header: IKEHeader(spiI: 7, spiR: 9, exchangeType: .INFORMATIONAL, isInitiator: true, isResponse: false, messageID: 4),
                             payloads: [.sk(SKPayload(firstInnerPayload: .none, body: [UInt8](repeating: 0, count: 32)))])
        let out = AttachHarness.sends(h.epdg.handle(datagram: req.serialize(), from: h.ueEnd, to: h.epdgEnd, now: 0))
        let r = try IKEMessage(parsing: try XCTUnwrap(out.first))
        XCTAssertEqual(r.header.spiI, 7); XCTAssertEqual(r.header.spiR, 9); XCTAssertEqual(r.header.messageID, 4)
        XCTAssertTrue(r.header.isResponse)
        XCTAssertEqual(r.payloads, [.notify(NotifyPayload(.INVALID_IKE_SPI))])
        // Never answer a response.
        var resp = req; resp.header.isResponse = true
        XCTAssertTrue(AttachHarness.sends(h.epdg.handle(datagram: resp.serialize(), from: h.ueEnd, to: h.epdgEnd, now: 0)).isEmpty)
    }

    func testCookieChallengeUnderLoad() throws {
        var p = try AttachHarness().policy
        p.cookieThreshold = 0 // always ask
        let h = try AttachHarness(policy: p)
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        let first = try IKEMessage(parsing: AttachHarness.sends(h.epdgActions)[0])
        XCTAssertEqual(firstNotify(first), .COOKIE)
        XCTAssertEqual(first.payloads.notify(.COOKIE)?.data.count, 33)
        let second = try IKEMessage(parsing: AttachHarness.sends(h.ueActions)[1])
        XCTAssertEqual(second.payloads.first, first.payloads.first, "the cookie comes first in the retried request")
        try assertChildrenMatch(h)
        // A forged cookie is answered with a fresh challenge, not an SA.
        var forged = second
        forged.header.spiI = 42
        XCTAssertEqual(h.epdg.count, 1)
        let r = AttachHarness.sends(h.epdg.handle(datagram: forged.serialize(), from: h.ueEnd, to: h.epdgEnd, now: h.now))
        XCTAssertEqual(firstNotify(try IKEMessage(parsing: r[0])), .COOKIE)
        XCTAssertEqual(h.epdg.count, 1)
    }

    func firstNotify(_ m: IKEMessage) -> NotifyType? {
        if case let .notify(n)? = m.payloads.first { return n.type }
        return nil
    }

    func assertChildrenMatch(_ h: AttachHarness) throws {
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        XCTAssertEqual(nw.inboundEncryptionKey, ue.outboundEncryptionKey)
        XCTAssertEqual(nw.outboundIntegrityKey, ue.inboundIntegrityKey)
    }

    func testInitialContactReplacesStaleSA() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        let first = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        // The phone reboots (its state is gone) and attaches again with INITIAL_CONTACT.
        try h.makeUE(lastSeq: 11)
        h.epdgActions = []
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertEqual(h.epdg.count, 1)
        XCTAssertEqual(h.pool.inUse, 1)
        XCTAssertTrue(h.epdgActions.contains(.deleteChildSA(inboundSPI: first.inboundSPI, outboundSPI: first.outboundSPI)))
        XCTAssertTrue(h.epdgActions.contains { if case .ikeSADeleted(_, _, "replaced by a new IKE SA with INITIAL_CONTACT") = $0 { true } else { false } })
        // Without INITIAL_CONTACT (a second tunnel, e.g. another APN) the first SA stays.
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.authNotifies = [NotifyPayload(.EAP_ONLY_AUTHENTICATION)]
        try h.makeUE(cfg, lastSeq: 12)
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertEqual(h.epdg.count, 2)
    }

    func testInitiatorRetransmitsAndResponderAnswersFromCache() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        h.packetsToEPDG = [] // lost
        XCTAssertEqual(h.ue.wakeup, h.now + 2)
        h.route(h.ue.poll(now: h.now + 1), fromUE: true)
        XCTAssertTrue(h.packetsToEPDG.isEmpty, "not yet")
        h.route(h.ue.poll(now: h.now + 2), fromUE: true)
        XCTAssertEqual(h.packetsToEPDG.count, 1, "retransmitted")
        h.now += 2
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established)
    }

    func testInitiatorGivesUpWhenNobodyAnswers() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        var t = h.now
        for _ in 0..<10 {
            guard let w = h.ue.wakeup else { break }
            t = w
            _ = h.ue.poll(now: t)
        }
        XCTAssertEqual(h.ue.state, .failed(reason: "peer not responding", notify: nil))
        XCTAssertEqual(t - h.now, 2 + 4 + 8 + 16 + 32 + 64, accuracy: 0.001)
    }

    func testUnsupportedCriticalPayloadInIKEAuth() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        h.run(start: false) // runs to completion; now inject a crafted INFORMATIONAL with a critical unknown payload
        XCTAssertEqual(h.ue.state, .established)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let ueSA = h.ue!
        // Build a request from the phone's side with the phone's keys.
        let header = IKEHeader(spiI: sa.spiI, spiR: sa.spiR, exchangeType: .INFORMATIONAL, isInitiator: true, isResponse: false,
                               messageID: ueSA.nextRequestID)
        let wire = try XCTUnwrap(ueSA.protection).protect(header: header, payloads: [.unknown(type: PayloadType(rawValue: 99), critical: true, body: [1])])
        let out = AttachHarness.sends(h.epdg.handle(datagram: wire, from: h.ueEnd, to: h.epdgEnd, now: h.now))
        XCTAssertEqual(out.count, 1)
        let m = try IKEMessage(parsing: out[0])
        let inner = try XCTUnwrap(ueSA.protection).unprotect(raw: out[0], message: m)
        XCTAssertEqual(inner, [.notify(NotifyPayload(.UNSUPPORTED_CRITICAL_PAYLOAD, data: [99]))])
    }

    /// Mutated copies of every message of a real attach must never crash the ePDG.
    func testResponderSurvivesMutatedMessages() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        let msgs = AttachHarness.sends(h.ueActions)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<1500 {
            var m = msgs[i % msgs.count]
            let n = Int.random(in: 1...4, using: &rng)
            for _ in 0..<n { m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            if i % 7 == 0 { m = Array(m.prefix(Int.random(in: 0..<m.count, using: &rng))) }
            _ = h.epdg.handle(datagram: m, from: h.ueEnd, to: h.epdgEnd, now: h.now)
        }
        // Random garbage too.
        for _ in 0..<500 {
            let g = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = h.epdg.handle(datagram: g, from: h.ueEnd, to: h.epdgEnd, now: h.now)
        }
        XCTAssertLessThanOrEqual(h.epdg.count, 200)
    }
}
