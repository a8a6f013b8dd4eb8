import AKA
import Crypto
import Foundation
@testable import IKEv2
import Wire
import XCTest

/// The responder's certificate mode without root or strongSwan: our initiator runs
/// IKE_SA_INIT, then the test replaces its EAP IKE_AUTH with a certificate-signed one (as
/// strongSwan sends) and checks the ePDG's answer byte for byte through the SK payload.
final class ResponderCertificateModeTests: XCTestCase {
    final class NoVectors: AuthenticationVectorSource {
        func vector(imsi: String) throws -> AuthenticationVector { throw AuthenticationVectorError.userUnknown }
        func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {}
    }
    final class Pool: InnerAddressPool {
        var released = 0
        func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
            InnerAddresses(ipv4: wantIPv4 ? IPAddress(v4: 198, 18, 0, 7) : nil, ipv6: nil)
        }
        func release(_ addresses: InnerAddresses, imsi: String, apn: String) { released += 1 }
    }

    let ueEnd = IKEEndpoint(IPAddress(v4: 198, 51, 100, 2), 500)
    let epdgEnd = IKEEndpoint(IPAddress(v4: 198, 51, 100, 1), 500)

    struct Run {
        var responder: IKEResponder
        var ue: IKEInitiator
        var actions: [IKEAction]
        var response: [Payload]?
    }

    /// IKE_SA_INIT by our initiator, then a certificate IKE_AUTH signed with `ueKey` for `ueCert`.
    func run(trust: PeerCertificatePolicy?, ueCert: Certificate, ueKey: PrivateKey, idi: IDPayload,
             tamper: Bool = false) throws -> Run {
        let (epdgCert, epdgKey) = try Certificate.selfSigned(commonName: "ims", dnsName: "ims")
        var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress(v4: 198, 18, 1, 53)],
                                                         pcscfAddresses: [IPAddress(v4: 198, 18, 1, 1)])])
        policy.peerCertificates = trust
        let responder = IKEResponder(policy: policy, vectors: NoVectors(), pool: Pool(),
                                     signer: try CertificateSigner(certificate: epdgCert, key: epdgKey))
        let usim = try USIM(algorithm: .milenage(try Milenage(k: [UInt8](repeating: 1, count: 16), opc: [UInt8](repeating: 2, count: 16))))
        let ue = IKEInitiator(config: IKEInitiatorConfig(imsi: "001010000000001", mcc: "001", mnc: "01"), usim: usim,
                              local: ueEnd, remote: epdgEnd, now: 0)
        func sends(_ a: [IKEAction]) -> [[UInt8]] { a.compactMap { if case let .send(b, _, _) = $0 { b } else { nil } } }
        let initReq = sends(ue.start(now: 0))
        XCTAssertEqual(initReq.count, 1)
        let initResp = sends(responder.handle(datagram: initReq[0], from: ueEnd, to: epdgEnd, now: 0))
        XCTAssertEqual(initResp.count, 1)
        // The ePDG asks for a certificate by its trust anchors' key hashes (RFC 7296 §3.7).
        let initPayloads = try IKEMessage(parsing: initResp[0]).payloads
        let certreqs = initPayloads.compactMap { if case let .certreq(c) = $0 { c } else { nil } }
        XCTAssertEqual(certreqs, trust.map { [$0.certificateRequest] } ?? [])
        _ = ue.handle(datagram: initResp[0], from: epdgEnd, to: ueEnd, now: 0) // derives keys, sends an EAP IKE_AUTH we ignore

        // A certificate IKE_AUTH (RFC 7296 §1.2, §2.15) in place of the EAP one.
        guard var octets = ue.authOctets(ofInitiator: true, idPrime: idi.idPrime) else { throw XCTSkip("no keys") }
        if tamper { octets[octets.count - 1] ^= 1 }
        let signer = try CertificateSigner(certificate: ueCert, key: ueKey)
        let auth = try signer.sign(octets, peerHashes: [2])
        XCTAssertEqual(auth.method, .DIGITAL_SIGNATURE)
        let esp = ESPSuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128)
        let payloads: [Payload] = [
            .idi(idi), .cert(CertPayload(encoding: CertPayload.X509_SIGNATURE, data: try ueCert.der)),
            .idr(IDPayload(.ID_FQDN, "ims")), .auth(auth),
            .cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: [CPPayload.Attribute(CPPayload.Attribute.INTERNAL_IP4_ADDRESS),
                                                                        CPPayload.Attribute(CPPayload.Attribute.INTERNAL_IP4_DNS)])),
            .sa(SAPayload(proposals: [Proposal(number: 1, protocolID: .ESP, spi: [0xc0, 0, 0, 1], transforms: esp.transforms)])),
            .tsi(TSPayload([TrafficSelector.anyV4])), .tsr(TSPayload([TrafficSelector.anyV4])),
        ]
        // Whole messages (RFC 7383 fragmentation is covered elsewhere; here it would only split them).
        ue.fragmentSize = 65000
        responder.allSAs.forEach { $0.fragmentSize = 65000 }
        let req = ue.encode(ue.header(.IKE_AUTH, response: false, id: 1), payloads)
        XCTAssertEqual(req.count, 1)
        let actions = responder.handle(datagram: req[0], from: ueEnd, to: epdgEnd, now: 1)
        var response: [Payload]?
        if let bytes = sends(actions).first, let protection = ue.protection {
            let m = try IKEMessage(parsing: bytes)
            XCTAssertEqual(m.header.exchangeType, .IKE_AUTH)
            XCTAssertTrue(m.header.isResponse)
            response = try protection.unprotect(raw: bytes, message: m)
        }
        // The responder's own AUTH must verify with its certificate over its signed octets.
        if let r = response, let a = r.auth, let idr = r.idr, let der = r.certs.first?.data {
            let octetsR = try XCTUnwrap(ue.authOctets(ofInitiator: false, idPrime: idr.idPrime))
            XCTAssertTrue(SignatureAuthVerifier.verify(a, signedOctets: octetsR, publicKey: try Certificate(der: der).publicKey))
            XCTAssertEqual(der, try epdgCert.der)
        }
        return Run(responder: responder, ue: ue, actions: actions, response: response)
    }

    func testCertificateInitiatorAcceptedWithCPAndChildSA() throws {
        let (ueCert, ueKey) = try Certificate.selfSigned(commonName: "ue.swan.test", dnsName: "ue.swan.test")
        let r = try run(trust: PeerCertificatePolicy(pinned: [ueCert]), ueCert: ueCert, ueKey: ueKey,
                        idi: IDPayload(.ID_FQDN, "ue.swan.test"))
        let p = try XCTUnwrap(r.response)
        XCTAssertEqual(p.idr, IDPayload(.ID_FQDN, "ims"))
        XCTAssertEqual(p.auth?.method, .DIGITAL_SIGNATURE)
        XCTAssertEqual(p.cp?.attributes.first { $0.type == CPPayload.Attribute.INTERNAL_IP4_ADDRESS }?.value, [198, 18, 0, 7])
        XCTAssertEqual(p.cp?.attributes.first { $0.type == CPPayload.Attribute.INTERNAL_IP4_DNS }?.value, [198, 18, 1, 53])
        XCTAssertEqual(p.tsi?.selectors.map(\.description), ["198.18.0.7"])
        let child = r.actions.compactMap { if case let .installChildSA(c) = $0 { c } else { nil } }
        XCTAssertEqual(child.count, 1)
        XCTAssertEqual(child.first?.outboundSPI, 0xc000_0001)
        XCTAssertTrue(r.actions.contains { if case .ikeSAEstablished = $0 { true } else { false } })
        XCTAssertEqual(r.responder.allSAs.first?.imsi, "ue.swan.test")
    }

    func testRefusals() throws {
        let (ueCert, ueKey) = try Certificate.selfSigned(commonName: "ue.swan.test", dnsName: "ue.swan.test")
        let (otherCert, _) = try Certificate.selfSigned(commonName: "other", dnsName: "other")
        func refused(_ r: Run, _ line: UInt = #line) {
            XCTAssertEqual(r.response?.notifies.map(\.type), [.AUTHENTICATION_FAILED], line: line)
            XCTAssertFalse(r.actions.contains { if case .installChildSA = $0 { true } else { false } }, line: line)
            XCTAssertEqual(r.responder.count, 0, line: line)
        }
        // Off by default: only EAP-AKA.
        refused(try run(trust: nil, ueCert: ueCert, ueKey: ueKey, idi: IDPayload(.ID_FQDN, "ue.swan.test")))
        // Not pinned, no anchor.
        refused(try run(trust: PeerCertificatePolicy(pinned: [otherCert]), ueCert: ueCert, ueKey: ueKey, idi: IDPayload(.ID_FQDN, "ue.swan.test")))
        // IDi the certificate does not vouch for.
        refused(try run(trust: PeerCertificatePolicy(pinned: [ueCert]), ueCert: ueCert, ueKey: ueKey, idi: IDPayload(.ID_FQDN, "someone.else")))
        // Signature over other octets.
        refused(try run(trust: PeerCertificatePolicy(pinned: [ueCert]), ueCert: ueCert, ueKey: ueKey,
                        idi: IDPayload(.ID_FQDN, "ue.swan.test"), tamper: true))
    }
}
