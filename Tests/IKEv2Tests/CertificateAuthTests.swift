import XCTest
import Crypto
@testable import IKEv2

final class CertificateAuthTests: XCTestCase {
    static let ec: (certificate: Certificate, privateKey: PrivateKey) = {
        try! Certificate.selfSigned(commonName: "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org",
                                    dnsName: "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org", key: try! PrivateKey.generateEC(curve: .p256))
    }()
    static let rsa: (certificate: Certificate, privateKey: PrivateKey) = {
        try! Certificate.selfSigned(commonName: "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org",
                                    dnsName: "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org")
    }()

    func testSignerMethodsAndVerification() throws {
        let octets = [UInt8](repeating: 0xab, count: 100)
        let rsaSigner = try CertificateSigner(certificate: Self.rsa.certificate, key: Self.rsa.privateKey)
        let ecSigner = try CertificateSigner(certificate: Self.ec.certificate, key: Self.ec.privateKey)
        let cases: [(IKEAuthSigner, [UInt16], AuthMethod, PublicKey)] = [
            (rsaSigner, [], .RSA_DIGITAL_SIGNATURE, try Self.rsa.certificate.publicKey),
            (rsaSigner, [2, 3, 4], .DIGITAL_SIGNATURE, try Self.rsa.certificate.publicKey),
            (ecSigner, [], .ECDSA_SHA256_P256, try Self.ec.certificate.publicKey),
            (ecSigner, [2], .DIGITAL_SIGNATURE, try Self.ec.certificate.publicKey),
        ]
        for (signer, hashes, method, pub) in cases {
            let auth = try signer.sign(octets, peerHashes: hashes)
            XCTAssertEqual(auth.method, method)
            XCTAssertTrue(SignatureAuthVerifier.verify(auth, signedOctets: octets, publicKey: pub), "\(method)")
            XCTAssertFalse(SignatureAuthVerifier.verify(auth, signedOctets: octets + [0], publicKey: pub), "\(method) other data")
            var bad = auth; bad.data[bad.data.count - 1] ^= 1
            XCTAssertFalse(SignatureAuthVerifier.verify(bad, signedOctets: octets, publicKey: pub), "\(method) flipped bit")
        }
        if case .ECDSA_SHA256_P256 = try ecSigner.sign(octets, peerHashes: []).method {
            XCTAssertEqual(try ecSigner.sign(octets, peerHashes: []).data.count, 64, "RFC 4754 r|s")
        }
        XCTAssertEqual(try rsaSigner.sign(octets, peerHashes: [2]).digitalSignatureParts().algorithmIdentifier,
                       SignatureAlgorithm.rsaPKCS1(.sha256).rfc7427AlgorithmIdentifier)
    }

    func testAttachWithCertificateAUTH() throws {
        for pair in [Self.ec, Self.rsa] {
            let h = try AttachHarness()
            h.signer = try CertificateSigner(certificate: pair.certificate, key: pair.privateKey)
            try h.makeUE()
            h.run()
            XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
            XCTAssertTrue(h.ue.responderUsedCertificate)
            XCTAssertTrue(AttachHarness.logs(h.ueActions).contains { $0.contains("DIGITAL_SIGNATURE AUTH verified") })
        }
    }

    /// An RSA certificate makes the first IKE_AUTH response large: with a small fragment size it
    /// goes out as SKF fragments (RFC 7383) and the phone reassembles it.
    func testLargeResponseIsFragmented() throws {
        let h = try AttachHarness()
        h.signer = try CertificateSigner(certificate: Self.rsa.certificate, key: Self.rsa.privateKey)
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        // After IKE_SA_INIT, shrink the ePDG's fragment size.
        let m = h.packetsToEPDG.removeFirst()
        h.route(h.epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: false)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        XCTAssertTrue(sa.fragmentationNegotiated)
        sa.fragmentSize = 576
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        XCTAssertTrue(h.ue.fragmentationNegotiated)
        let frags = AttachHarness.sends(h.epdgActions).compactMap { try? IKEMessage(parsing: $0) }.filter { $0.payloads.skf != nil }
        XCTAssertGreaterThanOrEqual(frags.count, 2)
        XCTAssertTrue(AttachHarness.sends(h.epdgActions).allSatisfy { $0.count <= 576 })
        XCTAssertTrue(h.ue.responderUsedCertificate)
    }

    func testOmitAuthInFirstResponse() throws {
        var p = try AttachHarness().policy
        p.omitAuthInFirstAuthResponse = true
        let h = try AttachHarness(policy: p)
        h.signer = try CertificateSigner(certificate: Self.ec.certificate, key: Self.ec.privateKey)
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertFalse(h.ue.responderUsedCertificate)
    }
}
