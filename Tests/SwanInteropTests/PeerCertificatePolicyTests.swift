import Crypto
import Foundation
import IKEv2
import XCTest

/// The certificate check of the responder's optional certificate mode (no root needed): trust
/// through a CA or a pin, IDi bound to the certificate, validity, and the CERTREQ it announces.
final class PeerCertificatePolicyTests: XCTestCase {
    var dir = ""

    override func tearDown() {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    func load(_ path: String) throws -> Certificate { try Certificate(pem: String(contentsOfFile: path, encoding: .utf8)) }

    func testCATrustPinIdentityAndValidity() throws {
        guard Shell.which("openssl") != nil else { throw XCTSkip("openssl CLI missing") }
        dir = try makeTempDir("pcp")
        let pki = try TestPKI(dir: dir)
        let ue = try load(try pki.issue("ue.swan.test").cert)
        let ca = try load(pki.caPEM)
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        let otherCA = try load(try TestPKI(dir: dir + "/other", caName: "Other CA").caPEM)
        let der = try ue.der
        let fqdn = IDPayload(.ID_FQDN, "ue.swan.test")

        // Signed by the anchor: the key that must verify AUTH is the certificate's.
        let key = try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: fqdn)
        XCTAssertEqual(try key.derEncoded, try ue.publicKey.derEncoded)
        // ID_DER_ASN1_DN must equal the subject; FQDN must be a subjectAltName (case-insensitive).
        XCTAssertNoThrow(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: IDPayload(.ID_DER_ASN1_DN, try ue.subjectDER)))
        XCTAssertNoThrow(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: IDPayload(.ID_FQDN, "UE.swan.TEST")))
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: IDPayload(.ID_FQDN, "other.swan.test"))) {
            guard case .identityMismatch? = $0 as? PeerCertificateError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: IDPayload(.ID_DER_ASN1_DN, try ca.subjectDER)))
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: IDPayload(.ID_IPV4_ADDR, [198, 51, 100, 2])))
        // Another CA: untrusted, unless the certificate itself is pinned.
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [otherCA]).validate(certificates: [der], id: fqdn)) {
            guard case .untrusted? = $0 as? PeerCertificateError else { return XCTFail("\($0)") }
        }
        XCTAssertNoThrow(try PeerCertificatePolicy(trustAnchors: [otherCA], pinned: [ue]).validate(certificates: [der], id: fqdn))
        // Validity: 30 days from now.
        let now = Int64(Date().timeIntervalSince1970)
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: fqdn, now: now + 40 * 86400)) {
            guard case .expired? = $0 as? PeerCertificateError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [der], id: fqdn, now: now - 86400)) {
            guard case .notYetValid? = $0 as? PeerCertificateError else { return XCTFail("\($0)") }
        }
        // No CERT, garbage CERT.
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [], id: fqdn)) {
            XCTAssertEqual($0 as? PeerCertificateError, .noCertificate)
        }
        XCTAssertThrowsError(try PeerCertificatePolicy(trustAnchors: [ca]).validate(certificates: [[0x30, 0x03, 0x02, 0x01]], id: fqdn)) {
            guard case .malformed? = $0 as? PeerCertificateError else { return XCTFail("\($0)") }
        }

        // CERTREQ: encoding 4, SHA-1 of each anchor's SubjectPublicKeyInfo (RFC 7296 §3.7), as openssl computes it.
        let req = PeerCertificatePolicy(trustAnchors: [ca, otherCA]).certificateRequest
        XCTAssertEqual(req.encoding, 4)
        XCTAssertEqual(req.data.count, 40)
        let spki = Shell.run(["sh", "-c", "openssl x509 -in '\(pki.caPEM)' -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha1 -r"], dropStderr: true)
        XCTAssertEqual(Array(req.data[0..<20]).map { String(format: "%02x", $0) }.joined(), String(spki.output.prefix(40)))
    }
}
