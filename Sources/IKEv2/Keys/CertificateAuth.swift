import Crypto

/// Signs the ePDG's AUTH with its certificate key. With RFC 7427 support announced by the peer
/// (SIGNATURE_HASH_ALGORITHMS containing SHA2-256) it uses method 14; otherwise the classic
/// method 1 (RSA PKCS#1 v1.5 SHA-1) or 9/10/11 (ECDSA, RFC 4754), which every phone accepts.
public final class CertificateSigner: IKEAuthSigner {
    public let certificate: Certificate
    public let key: PrivateKey
    public let certificateDER: [UInt8]

    public init(certificate: Certificate, key: PrivateKey) throws {
        self.certificate = certificate; self.key = key
        certificateDER = try certificate.der
    }

    public func sign(_ signedOctets: [UInt8], peerHashes: [UInt16]) throws -> AuthPayload {
        let rfc7427 = peerHashes.contains(2)
        switch key.kind {
        case .rsa:
            if rfc7427 {
                let alg = SignatureAlgorithm.rsaPKCS1(.sha256)
                guard let id = alg.rfc7427AlgorithmIdentifier else { throw CryptoError.unsupported("\(alg) in RFC 7427") }
                return AuthPayload(method: .DIGITAL_SIGNATURE,
                                   data: AuthPayload.digitalSignatureData(algorithmIdentifier: id, signature: try key.sign(signedOctets, algorithm: alg)))
            }
            return AuthPayload(method: .RSA_DIGITAL_SIGNATURE, data: try key.sign(signedOctets, algorithm: .rsaPKCS1(.sha1)))
        case let .ec(curve):
            if rfc7427 {
                let alg = SignatureAlgorithm.ecdsa(curve.rfc4754Digest)
                guard let id = alg.rfc7427AlgorithmIdentifier else { throw CryptoError.unsupported("\(alg) in RFC 7427") }
                return AuthPayload(method: .DIGITAL_SIGNATURE,
                                   data: AuthPayload.digitalSignatureData(algorithmIdentifier: id, signature: try key.sign(signedOctets, algorithm: alg)))
            }
            let method: AuthMethod = curve == .p256 ? .ECDSA_SHA256_P256 : curve == .p384 ? .ECDSA_SHA384_P384 : .ECDSA_SHA512_P521
            return AuthPayload(method: method, data: try key.sign(signedOctets, algorithm: .ecdsaRaw(curve.rfc4754Digest)))
        }
    }
}

/// Checks a signature AUTH (methods 1, 9–11, 14) against a public key.
public enum SignatureAuthVerifier {
    public static func verify(_ auth: AuthPayload, signedOctets: [UInt8], publicKey: PublicKey) -> Bool {
        switch auth.method {
        case .RSA_DIGITAL_SIGNATURE:
            return publicKey.verify(signature: auth.data, data: signedOctets, algorithm: .rsaPKCS1(.sha1))
        case .ECDSA_SHA256_P256:
            return publicKey.verify(signature: auth.data, data: signedOctets, algorithm: .ecdsaRaw(.sha256))
        case .ECDSA_SHA384_P384:
            return publicKey.verify(signature: auth.data, data: signedOctets, algorithm: .ecdsaRaw(.sha384))
        case .ECDSA_SHA512_P521:
            return publicKey.verify(signature: auth.data, data: signedOctets, algorithm: .ecdsaRaw(.sha512))
        case .DIGITAL_SIGNATURE:
            guard let parts = try? auth.digitalSignatureParts(),
                  let alg = SignatureAlgorithm(rfc7427AlgorithmIdentifier: parts.algorithmIdentifier) else { return false }
            return publicKey.verify(signature: parts.signature, data: signedOctets, algorithm: alg)
        default:
            return false
        }
    }
}
