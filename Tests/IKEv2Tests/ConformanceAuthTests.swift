import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// The first IKE_AUTH request as other phones write it: IDr absent or of another type, IDi
/// types, the NAI in an EAP-Response/Identity, CERTREQ, ESN and SPI sizes of the Child SA
/// proposal (RFC 7296 §2.16, §3.3; TS 24.302 §7.2.2; TS 33.402 §8.2.2).
final class ConformanceAuthTests: XCTestCase {
    typealias H = AttachHarness

    func challengeSubtype(_ reply: [Payload], file: StaticString = #filePath, line: UInt = #line) -> AKASubtype? {
        guard let p = H.eap(reply), p.code == .request, let m = try? EAPAKAMessage(parsing: p.typeData) else {
            XCTFail("no EAP-Request in \(reply)", file: file, line: line); return nil
        }
        return m.subtype
    }

    /// TS 24.302 §7.2.2: no IDr means the default APN; without `defaultAPN` configured that is
    /// the first APN (the callbox's first pdn_list entry). The ePDG names it in its IDr.
    func testIDrAbsentSelectsDefaultAPN() throws {
        let h = try H()
        XCTAssertNil(h.policy.defaultAPN)
        try h.makeUE()
        let reply = try h.firstAuth { $0.replace(.IDr, with: []) }
        XCTAssertEqual(reply.idr, IDPayload(.ID_FQDN, "ims"), "\(H.logs(h.epdgActions))")
        XCTAssertEqual(challengeSubtype(reply), .challenge)
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established, "\(H.logs(h.ueActions + h.epdgActions))")
        XCTAssertEqual(h.epdg.allSAs.first?.apn, "ims")
        XCTAssertTrue(H.logs(h.epdgActions).contains("IKE_AUTH without IDr: default APN 'ims'"))
    }

    /// Some ePDGs need IDr as ID_KEY_ID (Android carrier config); the APN is accepted in
    /// KEY_ID, FQDN and RFC822 form, whatever the case, and the IDr is echoed as sent.
    func testIDrAsKeyIDFQDNOrRFC822() throws {
        for id in [IDPayload(.ID_KEY_ID, "ims"), IDPayload(.ID_FQDN, "IMS"), IDPayload(.ID_RFC822_ADDR, "ims")] {
            let h = try H()
            try h.makeUE()
            let reply = try h.firstAuth { $0.replace(.IDr, with: [.idr(id)]) }
            XCTAssertEqual(reply.idr, id)
            XCTAssertEqual(challengeSubtype(reply), .challenge, "\(id)")
            h.run(start: false)
            XCTAssertEqual(h.ue.state, .established, "\(id): \(H.logs(h.epdgActions))")
        }
    }

    /// IDi carries the NAI as RFC822 (Android default), FQDN or KEY_ID: each gets the AKA
    /// challenge. An IPv4 IDi is no NAI: the ePDG asks with AKA-Identity.
    func testIDiTypes() throws {
        for t in [IDType.ID_RFC822_ADDR, .ID_FQDN, .ID_KEY_ID] {
            let h = try H()
            try h.makeUE()
            let reply = try h.firstAuth { p in p.replace(.IDi, with: [.idi(IDPayload(t, p.idi!.data))]) }
            XCTAssertEqual(challengeSubtype(reply), .challenge, "\(t)")
        }
        let h = try H()
        try h.makeUE()
        let reply = try h.firstAuth { $0.replace(.IDi, with: [.idi(IDPayload(.ID_IPV4_ADDR, [198, 51, 100, 9]))]) }
        XCTAssertEqual(challengeSubtype(reply), .identity)
    }

    /// Some phones put the NAI in an EAP-Response/Identity in the first IKE_AUTH; it is used
    /// when IDi is no NAI (no extra AKA-Identity round).
    func testNAIInEAPResponseIdentity() throws {
        let h = try H()
        try h.makeUE()
        let reply = try h.firstAuth { p in
            let nai = p.idi!.data
            p.replace(.IDi, with: [.idi(IDPayload(.ID_IPV4_ADDR, [198, 51, 100, 9]))])
            p.append(.eap(EAPPacket(code: .response, identifier: 0, type: EAPType.identity, typeData: nai).serialize()))
        }
        XCTAssertEqual(challengeSubtype(reply), .challenge)
        XCTAssertEqual(h.epdg.allSAs.first?.imsi, H.imsi)
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("using the EAP-Response/Identity") })
    }

    /// CERTREQ naming a CA we do not know, and INITIAL_CONTACT, do not disturb an EAP attach.
    func testCertReqWithUnknownCAAndInitialContact() throws {
        let h = try H()
        try h.makeUE()
        _ = try h.firstAuth { p in
            p.append(.certreq(CertPayload(encoding: CertPayload.X509_SIGNATURE, data: SecureRandom.bytes(20))))
            p.append(.notify(NotifyPayload(.INITIAL_CONTACT)))
        }
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established, "\(H.logs(h.epdgActions))")
        XCTAssertEqual(h.epdg.allSAs.first?.initialContact, true)
    }

    func espProposal(_ n: UInt8, spi: [UInt8] = [0, 0, 0x12, 0x34], esn: [UInt16]) -> Proposal {
        Proposal(number: n, protocolID: .ESP, spi: spi,
                 transforms: [Transform(.ENCR, 12, keyLength: 128), Transform(.INTEG, 12)] + esn.map { Transform(.ESN, $0) })
    }

    /// The Child SA proposal with both ESN values gets no ESN (our choice), with only ESN gets
    /// ESN; an ESP proposal whose SPI is not 4 octets is skipped (§3.3.1); D-H is never chosen.
    func testESNAndESPSPISize() throws {
        for (proposals, number, esn) in [([espProposal(1, esn: [1, 0])], UInt8(1), false),
                                         ([espProposal(1, esn: [1])], 1, true),
                                         ([espProposal(1, spi: [], esn: [0]), espProposal(2, esn: [0])], 2, false),
                                         // §1.2: D-H in an IKE_AUTH Child proposal (some Android builds): ignored, none chosen.
                                         ([Proposal(number: 3, protocolID: .ESP, spi: [0, 0, 0x12, 0x34],
                                                    transforms: espProposal(3, esn: [0]).transforms + [Transform(.DH, 14), Transform(.DH, 0)])], 3, false)] {
            let h = try H()
            try h.makeUE()
            _ = try h.firstAuth { $0.replace(.SA, with: [.sa(SAPayload(proposals: proposals))]) }
            h.run(start: false)
            let child = try XCTUnwrap(H.children(h.epdgActions).first, "\(H.logs(h.epdgActions))")
            XCTAssertEqual(child.suite.extendedSequenceNumbers, esn)
            XCTAssertEqual(child.outboundSPI, 0x1234)
            let final = try XCTUnwrap(H.sends(h.epdgActions).last)
            let chosen = try XCTUnwrap(h.ue.protection).unprotect(raw: final, message: IKEMessage(parsing: final)).sa?.proposals
            XCTAssertEqual(chosen?.map(\.number), [number])
            XCTAssertEqual(chosen?.first?.transforms(.DH), [])
        }
    }

    /// TS 23.003 §9.1: an IDr with the APN Operator Identifier selects the PDN by its Network Identifier.
    func testAPNWithOperatorIdentifier() throws {
        let h = try H()
        try h.makeUE()
        let reply = try h.firstAuth { $0.replace(.IDr, with: [.idr(IDPayload(.ID_FQDN, "ims.mnc001.mcc001.gprs"))]) }
        XCTAssertEqual(challengeSubtype(reply), .challenge, "\(H.logs(h.epdgActions))")
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertEqual(h.epdg.allSAs.first?.apn, "ims")
        XCTAssertEqual(IKEResponderPolicy.networkIdentifier("Ims.MNC001.MCC001.GPRS"), "Ims")
        XCTAssertEqual(IKEResponderPolicy.networkIdentifier("internet.gprs"), "internet.gprs")
    }

    /// RFC 4555 §3.1 / RFC 7296 §2.4: MOBIKE_SUPPORTED and INITIAL_CONTACT sent only in the
    /// last IKE_AUTH request (with AUTH) count as well.
    func testMOBIKEAndInitialContactInLastIKEAuth() throws {
        let h = try H()
        try h.makeUE()
        _ = try h.firstAuth { p in p.removeAll { if case let .notify(n) = $0 { n.type == .MOBIKE_SUPPORTED || n.type == .INITIAL_CONTACT } else { false } } }
        let eap = try h.nextRequestOfPhone()
        _ = try h.deliverProtected(eap.bytes, from: eap.from, to: eap.to)
        let last = try h.nextRequestOfPhone()
        XCTAssertNotNil(last.payloads.auth)
        let reply = try h.sendProtected(last.header, last.payloads + [.notify(NotifyPayload(.MOBIKE_SUPPORTED)), .notify(NotifyPayload(.INITIAL_CONTACT))],
                                        from: last.from, to: last.to)
        XCTAssertTrue(reply.first?.has(.MOBIKE_SUPPORTED) == true, "\(reply)")
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        XCTAssertTrue(sa.isEstablished && sa.mobikeNegotiated && sa.initialContact)
    }
}
