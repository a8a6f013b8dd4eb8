/// AlgorithmIdentifiers for IKEv2 "Digital Signature" authentication (AUTH method 14,
/// RFC 7427 §3): the AUTH data is len(1) | AlgorithmIdentifier DER | signature.
extension SignatureAlgorithm {
    private static func hashAlgID(_ d: DigestAlgorithm, withNull: Bool) -> [UInt8]? {
        let last: UInt8
        switch d {
        case .sha256: last = 1
        case .sha384: last = 2
        case .sha512: last = 3
        default: return nil
        }
        let oid: [UInt8] = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, last]
        return withNull ? [0x30, 0x0d] + oid + [0x05, 0x00] : [0x30, 0x0b] + oid
    }

    private static func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] { [tag, UInt8(body.count)] + body }

    /// RSASSA-PSS parameters (RFC 4055): hash, MGF1 with the same hash, salt = hash size.
    private static func pssAlgID(_ d: DigestAlgorithm, withNull: Bool, withTrailer: Bool) -> [UInt8]? {
        guard let hash = hashAlgID(d, withNull: withNull) else { return nil }
        let mgf1 = tlv(0x30, [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08] + hash)
        var params = tlv(0xa0, hash) + tlv(0xa1, mgf1) + tlv(0xa2, [0x02, 0x01, UInt8(d.size)])
        if withTrailer { params += tlv(0xa3, [0x02, 0x01, 0x01]) }
        return tlv(0x30, [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a] + tlv(0x30, params))
    }

    /// The DER AlgorithmIdentifier to send in AUTH method 14. nil for `.ecdsaRaw` (RFC 7427
    /// carries ECDSA signatures in DER) and for hashes RFC 7427 does not pair with the scheme.
    public var rfc7427AlgorithmIdentifier: [UInt8]? {
        switch self {
        case let .rsaPKCS1(d):
            let last: UInt8
            switch d { case .sha1: last = 0x05; case .sha256: last = 0x0b; case .sha384: last = 0x0c; case .sha512: last = 0x0d; default: return nil }
            return [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last, 0x05, 0x00]
        case let .ecdsa(d):
            switch d {
            case .sha1: return [0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01]
            case .sha256: return [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
            case .sha384: return [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]
            case .sha512: return [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04]
            default: return nil
            }
        case let .rsaPSS(d):
            return Self.pssAlgID(d, withNull: true, withTrailer: false)
        case .ecdsaRaw:
            return nil
        }
    }

    /// Recognises a peer's AlgorithmIdentifier. RSASSA-PSS is accepted with the same hash
    /// for MGF1 and salt = hash size, with or without NULL hash parameters and with or
    /// without an explicit default trailerField. nil if unknown.
    public init?(rfc7427AlgorithmIdentifier der: [UInt8]) {
        for d in [DigestAlgorithm.sha1, .sha256, .sha384, .sha512] {
            for candidate in [SignatureAlgorithm.rsaPKCS1(d), .ecdsa(d)] where candidate.rfc7427AlgorithmIdentifier == der {
                self = candidate
                return
            }
            for withNull in [true, false] {
                for withTrailer in [false, true] where Self.pssAlgID(d, withNull: withNull, withTrailer: withTrailer) == der {
                    self = .rsaPSS(d)
                    return
                }
            }
        }
        return nil
    }
}
