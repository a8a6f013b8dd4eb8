import XCTest
import Foundation
import TestSupport
import COpenSSL
@testable import Crypto

final class SignatureCertificateTests: XCTestCase {
    static let rsa: PrivateKey = { try! PrivateKey.generateRSA(bits: 2048) }()
    let data = Array("IKE_AUTH InitiatorSignedOctets".utf8)

    func testRSASignVerifyRoundTrips() throws {
        let key = Self.rsa, pub = key.publicKey
        XCTAssertEqual(key.kind, .rsa(bits: 2048))
        for alg: SignatureAlgorithm in [.rsaPKCS1(.sha1), .rsaPKCS1(.sha256), .rsaPKCS1(.sha384), .rsaPKCS1(.sha512),
                                        .rsaPSS(.sha256), .rsaPSS(.sha384), .rsaPSS(.sha512)] {
            let sig = try key.sign(data, algorithm: alg)
            XCTAssertEqual(sig.count, 256, "\(alg)")
            XCTAssertTrue(pub.verify(signature: sig, data: data, algorithm: alg), "\(alg)")
            var tampered = data; tampered[0] ^= 1
            XCTAssertFalse(pub.verify(signature: sig, data: tampered, algorithm: alg), "\(alg) tampered data")
            var badSig = sig; badSig[10] ^= 1
            XCTAssertFalse(pub.verify(signature: badSig, data: data, algorithm: alg), "\(alg) tampered signature")
        }
        // PKCS#1 v1.5 is deterministic, PSS is randomised; a hash mismatch fails.
        XCTAssertEqual(try key.sign(data, algorithm: .rsaPKCS1(.sha256)), try key.sign(data, algorithm: .rsaPKCS1(.sha256)))
        XCTAssertNotEqual(try key.sign(data, algorithm: .rsaPSS(.sha256)), try key.sign(data, algorithm: .rsaPSS(.sha256)))
        let s256 = try key.sign(data, algorithm: .rsaPKCS1(.sha256))
        XCTAssertFalse(pub.verify(signature: s256, data: data, algorithm: .rsaPKCS1(.sha1)))
        XCTAssertFalse(pub.verify(signature: s256, data: data, algorithm: .rsaPSS(.sha256)))
        XCTAssertThrowsError(try key.sign(data, algorithm: .ecdsa(.sha256)))
        XCTAssertFalse(pub.verify(signature: s256, data: data, algorithm: .ecdsa(.sha256)))
    }

    func testECDSASignVerifyDERAndRaw() throws {
        for curve in ECCurve.allCases {
            let key = try PrivateKey.generateEC(curve: curve), pub = key.publicKey
            XCTAssertEqual(key.kind, .ec(curve))
            let d = curve.rfc4754Digest
            let raw = try key.sign(data, algorithm: .ecdsaRaw(d))
            XCTAssertEqual(raw.count, 2 * curve.coordinateLength)
            XCTAssertTrue(pub.verify(signature: raw, data: data, algorithm: .ecdsaRaw(d)))
            let der = try key.sign(data, algorithm: .ecdsa(d))
            XCTAssertEqual(der[0], 0x30)
            XCTAssertTrue(pub.verify(signature: der, data: data, algorithm: .ecdsa(d)))
            // The two encodings convert into each other.
            XCTAssertTrue(pub.verify(signature: try ECDSASignature.derToRaw(der, coordinateLength: curve.coordinateLength),
                                     data: data, algorithm: .ecdsaRaw(d)))
            XCTAssertTrue(pub.verify(signature: try ECDSASignature.rawToDER(raw, coordinateLength: curve.coordinateLength),
                                     data: data, algorithm: .ecdsa(d)))
            var tampered = data; tampered[tampered.count - 1] ^= 0x40
            XCTAssertFalse(pub.verify(signature: raw, data: tampered, algorithm: .ecdsaRaw(d)))
            XCTAssertFalse(pub.verify(signature: der, data: tampered, algorithm: .ecdsa(d)))
            XCTAssertFalse(pub.verify(signature: Array(raw.dropLast()), data: data, algorithm: .ecdsaRaw(d)), "short raw")
            XCTAssertFalse(pub.verify(signature: raw, data: data, algorithm: .ecdsa(d)), "raw given as DER")
            let other = try PrivateKey.generateEC(curve: curve).publicKey
            XCTAssertFalse(other.verify(signature: raw, data: data, algorithm: .ecdsaRaw(d)), "other key")
        }
    }

    /// RFC 4754 §8.1 and §8.2: verify the published r | s for "abc" (ECDSA-256/SHA-256, ECDSA-384/SHA-384).
    func testECDSARFC4754Vectors() throws {
        let p256 = try PublicKey(curve: .p256, xy: [UInt8](hex:
            "2442a5cc0ecd015fa3ca31dc8e2bbc70bf42d60cbca20085e0822cb04235e970" + "6fc98bd7e50211a4a27102fa3549df79ebcb4bf246b80945cddfe7d509bbfd7d"))
        let sig256 = [UInt8](hex: "cb28e0999b9c7715fd0a80d8e47a77079716cbbf917dd72e97566ea1c066957c"
                                + "86fa3bb4e26cad5bf90b7f81899256ce7594bb1ea0c89212748bff3b3d5b0315")
        XCTAssertTrue(p256.verify(signature: sig256, data: Array("abc".utf8), algorithm: .ecdsaRaw(.sha256)))
        XCTAssertFalse(p256.verify(signature: sig256, data: Array("abd".utf8), algorithm: .ecdsaRaw(.sha256)))

        let p384 = try PublicKey(curve: .p384, xy: [UInt8](hex:
            "96281bf8dd5e0525ca049c048d345d3082968d10fedf5c5aca0c64e6465a97ea5ce10c9dfec21797415710721f437922"
          + "447688ba94708eb6e2e4d59f6ab6d7edff9301d249fe49c33096655f5d502fad3d383b91c5e7edaa2b714cc99d5743ca"))
        let sig384 = [UInt8](hex: "fb017b914e29149432d8bac29a514640b46f53ddab2c69948084e2930f1c8f7e08e07c9c63f2d21a07dcb56a6af56eb3"
                                + "b263a1305e057f984d38726a1b46874109f417bca112674c528262a40a629af1cbb9f516ce0fa7d2ff630863a00e8b9f")
        XCTAssertTrue(p384.verify(signature: sig384, data: Array("abc".utf8), algorithm: .ecdsaRaw(.sha384)))
        XCTAssertThrowsError(try PublicKey(curve: .p256, xy: [UInt8](repeating: 1, count: 64)))
    }

    func testKeyPEMRoundTripAndErrors() throws {
        let key = try PrivateKey.generateEC(curve: .p256)
        let pem = try key.pemEncoded()
        XCTAssertTrue(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let again = try PrivateKey(pem: pem)
        let sig = try again.sign(data, algorithm: .ecdsa(.sha256))
        XCTAssertTrue(key.publicKey.verify(signature: sig, data: data, algorithm: .ecdsa(.sha256)))
        let pubPEM = try key.publicKey.pemEncoded()
        let pub = try PublicKey(pem: pubPEM)
        XCTAssertTrue(pub.verify(signature: sig, data: data, algorithm: .ecdsa(.sha256)))
        XCTAssertEqual(try PublicKey(der: try pub.derEncoded).derEncoded, try pub.derEncoded)
        XCTAssertThrowsError(try PrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")) {
            guard case .invalidEncoding = $0 as? CryptoError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try PrivateKey(der: [0x30, 0x03, 0x02, 0x01]))
        // Encrypted PKCS#8: needs the password, never prompts.
        let encrypted = try collectingBIO { bio in
            let pw = Array("secret".utf8)
            try check(PEM_write_bio_PKCS8PrivateKey(bio, key.pkey, EVP_aes_128_cbc(), pw.map { CChar(bitPattern: $0) }, Int32(pw.count), nil, nil), "write")
        }
        let encryptedPEM = String(decoding: encrypted, as: UTF8.self)
        XCTAssertTrue(encryptedPEM.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        XCTAssertThrowsError(try PrivateKey(pem: encryptedPEM))
        XCTAssertThrowsError(try PrivateKey(pem: encryptedPEM, password: "wrong"))
        XCTAssertEqual(try PrivateKey(pem: encryptedPEM, password: "secret").publicKey.derEncoded, try key.publicKey.derEncoded)
        XCTAssertThrowsError(try Certificate(der: [0x30, 0x00]))
    }

    func testSelfSignedEPDGCertificate() throws {
        let fqdn = "epdg.epc.mnc001.mcc001.pub.3gppnetwork.org"
        let ecKey = try PrivateKey.generateEC(curve: .p256)
        let (cert, key) = try Certificate.selfSigned(commonName: fqdn, dnsName: fqdn, key: ecKey, days: 30)
        XCTAssertTrue(key === ecKey)
        XCTAssertEqual(cert.commonName, fqdn)
        XCTAssertEqual(cert.subject, "CN=\(fqdn)")
        XCTAssertEqual(cert.issuer, "CN=\(fqdn)")
        XCTAssertEqual(cert.subjectAltNameDNS, [fqdn])
        XCTAssertEqual(try cert.publicKey.derEncoded, try key.publicKey.derEncoded)
        XCTAssertTrue(cert.isSigned(by: key.publicKey))
        XCTAssertFalse(cert.isSigned(by: try PrivateKey.generateEC(curve: .p256).publicKey))
        let nb = try XCTUnwrap(cert.notBefore), na = try XCTUnwrap(cert.notAfter)
        XCTAssertEqual(na - nb, 30 * 86400)
        XCTAssertLessThan(abs(nb - Int64(Date().timeIntervalSince1970)), 300)
        // DER and PEM round trips give the same certificate.
        let der = try cert.der
        XCTAssertEqual(try Certificate(der: der).der, der)
        XCTAssertEqual(try Certificate(pem: try cert.pemEncoded()).der, der)
        // Subject DER is a SEQUENCE (ID_DER_ASN1_DN).
        XCTAssertEqual(try cert.subjectDER.first, 0x30)
        // Default key: RSA-2048.
        let (rsaCert, rsaKey) = try Certificate.selfSigned(commonName: "a.example", dnsName: "b.example")
        XCTAssertEqual(rsaKey.kind, .rsa(bits: 2048))
        XCTAssertEqual(rsaCert.subjectAltNameDNS, ["b.example"])
        XCTAssertEqual(try rsaCert.publicKey.kind, .rsa(bits: 2048))
    }

    /// A certificate and key made by the `openssl` CLI load; SAN, subject and key match,
    /// and CLI signatures verify with our PublicKey.
    func testOpenSSLCLICertificateLoads() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crypto-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func openssl(_ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.currentDirectoryURL = dir
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "openssl \(args.joined(separator: " "))")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("no openssl CLI") }

        for (keySpec, alg) in [("rsa:2048", SignatureAlgorithm.rsaPKCS1(.sha256)), ("ec:P-384", .ecdsa(.sha384))] {
            var args = ["req", "-x509", "-nodes", "-days", "2", "-keyout", "key.pem", "-out", "cert.pem",
                        "-subj", "/C=FR/O=VoWiFi Test/CN=epdg.test.example",
                        "-addext", "subjectAltName=DNS:epdg.test.example,DNS:alt.test.example,IP:198.51.100.7"]
            if keySpec.hasPrefix("ec:") {
                try openssl(["ecparam", "-name", "secp384r1", "-out", "ecparams.pem"])
                args += ["-newkey", "ec:ecparams.pem"]
            } else {
                args += ["-newkey", keySpec]
            }
            try openssl(args)
            let cert = try Certificate(pem: String(contentsOf: dir.appendingPathComponent("cert.pem"), encoding: .utf8))
            XCTAssertEqual(cert.subjectAltNameDNS, ["epdg.test.example", "alt.test.example"])
            XCTAssertEqual(cert.subjectAltNameIPs, [[198, 51, 100, 7]])
            XCTAssertEqual(cert.subject, "C=FR, O=VoWiFi Test, CN=epdg.test.example")
            XCTAssertEqual(cert.commonName, "epdg.test.example")
            let key = try PrivateKey(pem: String(contentsOf: dir.appendingPathComponent("key.pem"), encoding: .utf8))
            XCTAssertEqual(try cert.publicKey.derEncoded, try key.publicKey.derEncoded)
            XCTAssertTrue(cert.isSigned(by: try cert.publicKey))

            // Interop: the CLI signs, we verify.
            try Data(data).write(to: dir.appendingPathComponent("msg.bin"))
            try openssl(["dgst", keySpec.hasPrefix("ec:") ? "-sha384" : "-sha256", "-sign", "key.pem", "-out", "sig.bin", "msg.bin"])
            let sig = Array(try Data(contentsOf: dir.appendingPathComponent("sig.bin")))
            XCTAssertTrue(try cert.publicKey.verify(signature: sig, data: data, algorithm: alg), "\(keySpec)")
            XCTAssertFalse(try cert.publicKey.verify(signature: sig, data: data + [0], algorithm: alg))
            // Chain parsing of a two-cert PEM.
            let pem = try cert.pemEncoded()
            XCTAssertEqual(try Certificate.chain(pem: pem + pem).count, 2)
        }
    }
}

final class RFC7427Tests: XCTestCase {
    func testKnownEncodings() {
        // RFC 7427 Appendix A.1.3 (sha256WithRSAEncryption) and A.3.1 (ecdsa-with-SHA256).
        XCTAssertEqual(SignatureAlgorithm.rsaPKCS1(.sha256).rfc7427AlgorithmIdentifier?.hex, "300d06092a864886f70d01010b0500")
        XCTAssertEqual(SignatureAlgorithm.ecdsa(.sha256).rfc7427AlgorithmIdentifier?.hex, "300a06082a8648ce3d040302")
        // PSS/SHA-256 with the default trailerField spelled out (non-DER, seen in the wild):
        // we emit DER (without it) and accept both.
        let a43 = "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120a303020101"
        XCTAssertEqual(SignatureAlgorithm(rfc7427AlgorithmIdentifier: [UInt8](hex: a43)), .rsaPSS(.sha256))
        for alg: SignatureAlgorithm in [.rsaPKCS1(.sha1), .rsaPKCS1(.sha256), .rsaPKCS1(.sha384), .rsaPKCS1(.sha512),
                                        .ecdsa(.sha256), .ecdsa(.sha384), .ecdsa(.sha512), .rsaPSS(.sha256), .rsaPSS(.sha384), .rsaPSS(.sha512)] {
            let der = try! XCTUnwrap(alg.rfc7427AlgorithmIdentifier)
            XCTAssertEqual(der[0], 0x30); XCTAssertEqual(Int(der[1]), der.count - 2)
            XCTAssertEqual(SignatureAlgorithm(rfc7427AlgorithmIdentifier: der), alg)
        }
        XCTAssertNil(SignatureAlgorithm.ecdsaRaw(.sha256).rfc7427AlgorithmIdentifier)
        XCTAssertNil(SignatureAlgorithm(rfc7427AlgorithmIdentifier: [0x30, 0x00]))
    }

    /// Certificates the `openssl` CLI signs carry the same AlgorithmIdentifier bytes.
    func testMatchesOpenSSLCertificateSignatureAlgorithms() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("no openssl CLI") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rfc7427-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rsa = try PrivateKey.generateRSA(bits: 2048), ec = try PrivateKey.generateEC(curve: .p384)
        try rsa.pemEncoded().write(to: dir.appendingPathComponent("rsa.pem"), atomically: true, encoding: .utf8)
        try ec.pemEncoded().write(to: dir.appendingPathComponent("ec.pem"), atomically: true, encoding: .utf8)
        let cases: [(String, [String], SignatureAlgorithm)] = [
            ("rsa.pem", ["-sha256"], .rsaPKCS1(.sha256)),
            ("rsa.pem", ["-sha512"], .rsaPKCS1(.sha512)),
            ("rsa.pem", ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"], .rsaPSS(.sha256)),
            ("rsa.pem", ["-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"], .rsaPSS(.sha384)),
            ("ec.pem", ["-sha384"], .ecdsa(.sha384)),
        ]
        for (keyFile, opts, alg) in cases {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = ["req", "-x509", "-new", "-key", keyFile, "-subj", "/CN=t", "-days", "1", "-outform", "DER", "-out", "c.der"] + opts
            p.currentDirectoryURL = dir
            p.standardError = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            let der = Array(try Data(contentsOf: dir.appendingPathComponent("c.der")))
            let aid = try XCTUnwrap(alg.rfc7427AlgorithmIdentifier)
            // Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature }: the AlgorithmIdentifier
            // appears in tbsCertificate.signature and in signatureAlgorithm.
            let hits = (0...(der.count - aid.count)).filter { Array(der[$0..<($0 + aid.count)]) == aid }.count
            XCTAssertEqual(hits, 2, "\(alg) \(aid.hex)")
        }
    }
}
