import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

final class AttachTests: XCTestCase {
    /// Both ends must agree on every key and SPI, crosswise.
    func assertMatchingChildren(_ h: AttachHarness, file: StaticString = #filePath, line: UInt = #line) throws {
        let ueChild = try XCTUnwrap(AttachHarness.children(h.ueActions).first, "UE installed no Child SA", file: file, line: line)
        let nwChild = try XCTUnwrap(AttachHarness.children(h.epdgActions).first, "ePDG installed no Child SA", file: file, line: line)
        XCTAssertEqual(ueChild.inboundSPI, nwChild.outboundSPI, file: file, line: line)
        XCTAssertEqual(ueChild.outboundSPI, nwChild.inboundSPI, file: file, line: line)
        XCTAssertEqual(ueChild.outboundEncryptionKey, nwChild.inboundEncryptionKey, file: file, line: line)
        XCTAssertEqual(ueChild.outboundIntegrityKey, nwChild.inboundIntegrityKey, file: file, line: line)
        XCTAssertEqual(ueChild.inboundEncryptionKey, nwChild.outboundEncryptionKey, file: file, line: line)
        XCTAssertEqual(ueChild.inboundIntegrityKey, nwChild.outboundIntegrityKey, file: file, line: line)
        XCTAssertNotEqual(ueChild.inboundEncryptionKey, ueChild.outboundEncryptionKey, file: file, line: line)
        XCTAssertEqual(ueChild.suite, nwChild.suite, file: file, line: line)
        XCTAssertEqual(ueChild.localTS, nwChild.remoteTS, file: file, line: line)
        XCTAssertEqual(ueChild.remoteTS, nwChild.localTS, file: file, line: line)
    }

    func testEAPAKAAttach() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        try assertMatchingChildren(h)
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        XCTAssertEqual(nw.innerIPv4, IPAddress(v4: 198, 51, 100, 2))
        XCTAssertEqual(nw.remoteTS, [.single(IPAddress(v4: 198, 51, 100, 2))], "TSi narrowed to the assigned address")
        XCTAssertEqual(nw.localTS, [.anyV4])
        XCTAssertEqual(nw.imsi, AttachHarness.imsi)
        XCTAssertEqual(nw.apn, "ims")
        XCTAssertEqual(nw.suite, ESPSuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96))
        XCTAssertEqual(nw.inboundEncryptionKey.count, 16)
        XCTAssertEqual(nw.inboundIntegrityKey.count, 20)
        XCTAssertFalse(nw.udpEncapsulation)
        let a = try XCTUnwrap(h.ue.assigned)
        XCTAssertEqual(a.ipv4, IPAddress(v4: 198, 51, 100, 2))
        XCTAssertEqual(a.dns, [IPAddress("198.51.100.53")!])
        XCTAssertEqual(a.pcscf, [IPAddress("198.51.100.1")!])
        // Both sides report the same IKE SA keys.
        let est = (h.ueActions + h.epdgActions).compactMap { if case let .ikeSAEstablished(i) = $0 { i } else { nil } }
        XCTAssertEqual(est.count, 2)
        XCTAssertEqual(est[0].keys, est[1].keys)
        // The host learns the next deadline (the Child SA rekey at 270 s) from an armTimer action.
        guard case let .armTimer(at)? = h.epdgActions.last else { return XCTFail("last ePDG action must arm the timer") }
        XCTAssertEqual(at, try XCTUnwrap(h.epdg.nextWakeup), accuracy: 0.001)
        XCTAssertEqual(h.epdg.count, 1)
        XCTAssertEqual(h.hss.vectorsIssued, 1)
        // Message flow: INIT, AUTH(ids), AUTH(EAP), AUTH(AUTH) = 4 requests and 4 responses.
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 4)
        XCTAssertEqual(AttachHarness.sends(h.epdgActions).count, 4)
    }

    func testEAPAKAPrimeAttachWithGCMAndIPv6() throws {
        let h = try AttachHarness()
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01", useAKAPrime: true)
        cfg.ikeSuites = [IKESuite(encryption: .ENCR_AES_GCM_16(keyBits: 256), integrity: nil, prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256)]
        cfg.espSuites = [ESPSuite(encryption: .ENCR_AES_GCM_16(keyBits: 128), integrity: nil)]
        cfg.requestIPv6 = true
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        try assertMatchingChildren(h)
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        XCTAssertEqual(nw.suite.encryption, .ENCR_AES_GCM_16(keyBits: 128))
        XCTAssertNil(nw.suite.integrity)
        XCTAssertEqual(nw.inboundEncryptionKey.count, 20, "AES-128 key + 4-byte salt")
        XCTAssertEqual(nw.innerIPv6, IPAddress("2001:db8:0:2::1"))
        XCTAssertEqual(nw.remoteTS.count, 2)
        XCTAssertEqual(nw.remoteTS[1], TrafficSelector(startAddress: IPAddress("2001:db8:0:2::")!, endAddress: IPAddress("2001:db8:0:2:ffff:ffff:ffff:ffff")!))
        XCTAssertEqual(h.ue.assigned?.ipv6PrefixLength, 64)
        XCTAssertEqual(Set(h.ue.assigned?.pcscf ?? []), [IPAddress("198.51.100.1")!, IPAddress("2001:db8::5")!])
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains { $0.contains("EAP-AKA' challenge") })
    }

    func testResynchronisation() throws {
        let h = try AttachHarness()
        try h.makeUE(lastSeq: 500) // the USIM has seen SQNs far above the HSS's 10
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        XCTAssertEqual(h.hss.resyncs, 1)
        XCTAssertEqual(h.hss.vectorsIssued, 2)
        XCTAssertEqual(h.hss.subscribers[AttachHarness.imsi]?.seq, 501)
        try assertMatchingChildren(h)
    }

    func testWrongKeyFailsWithAuthenticationFailed() throws {
        let h = try AttachHarness()
        try h.makeUE(k: [UInt8](repeating: 0x11, count: 16))
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with AUTHENTICATION_FAILED", notify: .AUTHENTICATION_FAILED))
        XCTAssertTrue(AttachHarness.children(h.epdgActions + h.ueActions).isEmpty)
        XCTAssertEqual(h.epdg.count, 0, "the failed SA is forgotten")
        XCTAssertEqual(h.pool.inUse, 0)
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains { $0.contains("AKA-Authentication-Reject") })
    }

    func testUnknownIMSI() throws {
        let h = try AttachHarness()
        try h.makeUE(IKEInitiatorConfig(imsi: "001010000000999", mcc: "001", mnc: "01"))
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with USER_UNKNOWN", notify: .USER_UNKNOWN))
        XCTAssertEqual(h.epdg.count, 0)
    }

    func testUnknownAPN() throws {
        let h = try AttachHarness()
        try h.makeUE(IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01", apn: "internet"))
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_AUTH rejected with NO_APN_SUBSCRIPTION", notify: .NO_APN_SUBSCRIPTION))
    }

    func testInvalidKERetry() throws {
        var p = try AttachHarness().policy
        p.ikeDHGroups = [.modp2048]
        let h = try AttachHarness(policy: p)
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.ikeSuites = [IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256),
                         IKESuite(encryption: .ENCR_AES_CBC(keyBits: 256), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .modp2048)]
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        // First response: INVALID_KE_PAYLOAD naming group 14, from a stateless exchange.
        let first = try IKEMessage(parsing: AttachHarness.sends(h.epdgActions)[0])
        XCTAssertEqual(first.payloads.notify(.INVALID_KE_PAYLOAD)?.data, [0x00, 0x0e])
        XCTAssertEqual(first.header.spiR, 0)
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 5)
        try assertMatchingChildren(h)
        XCTAssertEqual(h.epdg.count, 1)
        XCTAssertEqual(h.ue.suite?.dhGroup, .modp2048)
    }

    func testNoProposalChosenIsLoggedWithOfferedAndAccepted() throws {
        var p = try AttachHarness().policy
        p.ikeEncryption = [.ENCR_AES_CBC(keyBits: 256)]
        let h = try AttachHarness(policy: p)
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .failed(reason: "IKE_SA_INIT rejected with NO_PROPOSAL_CHOSEN", notify: .NO_PROPOSAL_CHOSEN))
        let line = try XCTUnwrap(AttachHarness.logs(h.epdgActions).first { $0.hasPrefix("NO_PROPOSAL_CHOSEN") })
        XCTAssertTrue(line.contains("offered ENCR_AES_CBC_128/PRF_HMAC_SHA2_256/AUTH_HMAC_SHA2_256_128/MODP_2048"), line)
        XCTAssertTrue(line.contains("accepted [\"ENCR_AES_CBC_256\"]"), line)
    }

    func testDuplicateRequestGetsCachedResponse() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        let ueSent = AttachHarness.sends(h.ueActions)
        let epdgSent = AttachHarness.sends(h.epdgActions)
        // Replay the IKE_SA_INIT request and the second IKE_AUTH request.
        let again0 = AttachHarness.sends(h.epdg.handle(datagram: ueSent[0], from: h.ueEnd, to: h.epdgEnd, now: h.now + 1))
        XCTAssertEqual(again0, [epdgSent[0]])
        let again2 = AttachHarness.sends(h.epdg.handle(datagram: ueSent[3], from: h.ueEnd, to: h.epdgEnd, now: h.now + 1))
        XCTAssertEqual(again2, [epdgSent[3]])
        XCTAssertEqual(AttachHarness.children(h.epdgActions).count, 1)
        // An old request (#1) is dropped, not answered.
        XCTAssertTrue(AttachHarness.sends(h.epdg.handle(datagram: ueSent[1], from: h.ueEnd, to: h.epdgEnd, now: h.now + 1)).isEmpty)
    }

    func testDPDAndDelete() throws {
        var p = try AttachHarness().policy
        p.espLifetime = 3600
        let h = try AttachHarness(policy: p)
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        // The ePDG probes after dpdInterval of silence; the phone answers.
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let wake = try XCTUnwrap(h.epdg.nextWakeup)
        XCTAssertEqual(wake, sa.lastActivity + 300, accuracy: 0.001)
        h.now = wake
        h.route(h.epdg.poll(now: h.now), fromUE: false)
        XCTAssertEqual(h.toUE.count, 1)
        let dpd = try IKEMessage(parsing: h.toUE[0])
        XCTAssertEqual(dpd.header.exchangeType, .INFORMATIONAL)
        XCTAssertFalse(dpd.header.isInitiator)
        h.run(start: false)
        XCTAssertNil(sa.pending, "DPD answered")
        // The phone probes too.
        h.route(h.ue.checkLiveness(now: h.now), fromUE: true)
        XCTAssertEqual(h.packetsToEPDG.count, 1)
        h.run(start: false)
        XCTAssertNil(h.ue.pending)
        // The phone deletes the IKE SA: the ePDG removes the Child SA and releases the address.
        h.route(h.ue.delete(now: h.now), fromUE: true)
        h.run(start: false)
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.releases, 1)
        let nwChild = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        XCTAssertTrue(h.epdgActions.contains(.deleteChildSA(inboundSPI: nwChild.inboundSPI, outboundSPI: nwChild.outboundSPI)))
        XCTAssertTrue(h.epdgActions.contains { if case .ikeSADeleted(_, _, "deleted by peer") = $0 { true } else { false } })
    }

    /// The ePDG deletes an IKE SA (`vowifi run` stopping, RFC 7296 §1.4.1): the INFORMATIONAL
    /// Delete goes to the phone, the Child SA and the address go away, and the phone answers.
    /// The Delete was built and then dropped, so the SWu-IKEv2 emulator never heard of the
    /// ePDG's shutdown and kept sending ESP into the void.
    func testEPDGDeleteIsSentToThePhone() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let child = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        h.epdgActions = []
        h.route(h.epdg.delete(spiR: sa.localSPI, now: h.now), fromUE: false)
        XCTAssertEqual(h.toUE.count, 1, "\(AttachHarness.logs(h.epdgActions))")
        let del = try IKEMessage(parsing: XCTUnwrap(h.toUE.first))
        XCTAssertEqual(del.header.exchangeType, .INFORMATIONAL)
        XCTAssertFalse(del.header.isResponse)
        XCTAssertTrue(h.epdgActions.contains(.deleteChildSA(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI)))
        XCTAssertTrue(h.epdgActions.contains { if case .ikeSADeleted(_, _, "deleted locally") = $0 { true } else { false } })
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.releases, 1)
        // The phone takes the Delete: it answers and drops its side.
        h.ueActions = []
        h.run(start: false)
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 1, "the phone answers the Delete")
        XCTAssertTrue(h.ueActions.contains { if case .ikeSADeleted = $0 { true } else { false } }, "\(AttachHarness.logs(h.ueActions))")
    }

    func testDeadPeerIsDroppedAfterRetransmissions() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        var t = try XCTUnwrap(h.epdg.nextWakeup)
        var sent = 0
        for _ in 0..<20 {
            let a = h.epdg.poll(now: t)
            sent += AttachHarness.sends(a).count
            h.epdgActions += a
            guard let n = h.epdg.nextWakeup else { break }
            t = n
        }
        XCTAssertEqual(sent, 6, "DPD request + 5 retransmissions")
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.inUse, 0)
        XCTAssertTrue(h.epdgActions.contains { if case .ikeSADeleted(_, _, "peer not responding") = $0 { true } else { false } })
    }

    func testHalfOpenSAExpires() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        h.route(h.epdg.handle(datagram: h.toEPDG.removeFirst(), from: h.ueEnd, to: h.epdgEnd, now: h.now), fromUE: false)
        XCTAssertEqual(h.epdg.count, 1)
        _ = h.epdg.poll(now: h.now + 29)
        XCTAssertEqual(h.epdg.count, 1)
        _ = h.epdg.poll(now: h.now + 30)
        XCTAssertEqual(h.epdg.count, 0)
    }

    func testPrivatePCSCFAttributeTypes() throws {
        var p = try AttachHarness().policy
        p.pcscfIPv4AttributeType = 16384
        let h = try AttachHarness(policy: p)
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.pcscfIPv4AttributeType = 16384
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertEqual(h.ue.assigned?.pcscf, [IPAddress("198.51.100.1")!])
        // The reply used the private type.
        let lastResponse = AttachHarness.logs(h.epdgActions).last { $0.contains("CFG_REPLY") || $0.contains("CP(2") } ?? ""
        XCTAssertTrue(lastResponse.contains("ATTR(16384)=198.51.100.1"), lastResponse)
    }

    func testNonPermanentIdentityTriggersAKAIdentity() throws {
        let h = try AttachHarness()
        try h.makeUE()
        // Pretend the phone used a pseudonym in IDi: rewrite it before start.
        h.ue.idiSent = IDPayload(.ID_RFC822_ADDR, "2pseudonym@nai.epc.mnc001.mcc001.3gppnetwork.org")
        h.run()
        // The ePDG asks for the permanent identity, the phone gives its NAI in AT_IDENTITY, and both derive MK from it.
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains { $0.contains("EAP-Request/AKA-Identity") })
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 5)
        try assertMatchingChildren(h)
    }
}
