/// IKEv2 Transform Type 3 (integrity) algorithms with their IANA IDs as raw values
/// (RFC 7296 §3.3.2). The same transform protects IKE SK payloads and ESP packets.
public enum IntegrityAlgorithm: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case AUTH_HMAC_MD5_96 = 1        // RFC 2403
    case AUTH_HMAC_SHA1_96 = 2       // RFC 2404
    case AUTH_AES_XCBC_96 = 5        // RFC 3566
    case AUTH_HMAC_MD5_128 = 6       // RFC 4595
    case AUTH_HMAC_SHA1_160 = 7      // RFC 4595
    case AUTH_AES_CMAC_96 = 8        // RFC 4494
    case AUTH_HMAC_SHA2_256_128 = 12 // RFC 4868
    case AUTH_HMAC_SHA2_384_192 = 13 // RFC 4868
    case AUTH_HMAC_SHA2_512_256 = 14 // RFC 4868

    /// Key length (bytes): SK_ai/SK_ar and ESP integrity key size.
    public var keyLength: Int {
        switch self {
        case .AUTH_HMAC_MD5_96, .AUTH_HMAC_MD5_128: 16
        case .AUTH_HMAC_SHA1_96, .AUTH_HMAC_SHA1_160: 20
        case .AUTH_AES_XCBC_96, .AUTH_AES_CMAC_96: 16
        case .AUTH_HMAC_SHA2_256_128: 32
        case .AUTH_HMAC_SHA2_384_192: 48
        case .AUTH_HMAC_SHA2_512_256: 64
        }
    }

    /// Length of the transmitted (truncated) ICV in bytes.
    public var outputLength: Int {
        switch self {
        case .AUTH_HMAC_MD5_96, .AUTH_HMAC_SHA1_96, .AUTH_AES_XCBC_96, .AUTH_AES_CMAC_96: 12
        case .AUTH_HMAC_MD5_128, .AUTH_HMAC_SHA2_256_128: 16
        case .AUTH_HMAC_SHA1_160: 20
        case .AUTH_HMAC_SHA2_384_192: 24
        case .AUTH_HMAC_SHA2_512_256: 32
        }
    }

    /// The hash underlying the HMAC variants (nil for the AES-based MACs).
    public var digest: DigestAlgorithm? {
        switch self {
        case .AUTH_HMAC_MD5_96, .AUTH_HMAC_MD5_128: .md5
        case .AUTH_HMAC_SHA1_96, .AUTH_HMAC_SHA1_160: .sha1
        case .AUTH_HMAC_SHA2_256_128: .sha256
        case .AUTH_HMAC_SHA2_384_192: .sha384
        case .AUTH_HMAC_SHA2_512_256: .sha512
        case .AUTH_AES_XCBC_96, .AUTH_AES_CMAC_96: nil
        }
    }

    /// One-shot truncated MAC. For repeated use under one key, keep an `IntegrityContext`.
    public func mac(key: [UInt8], data: [UInt8]) throws -> [UInt8] {
        try IntegrityContext(algorithm: self, key: key).mac(data)
    }

    public var description: String {
        switch self {
        case .AUTH_HMAC_MD5_96: "AUTH_HMAC_MD5_96"
        case .AUTH_HMAC_SHA1_96: "AUTH_HMAC_SHA1_96"
        case .AUTH_AES_XCBC_96: "AUTH_AES_XCBC_96"
        case .AUTH_HMAC_MD5_128: "AUTH_HMAC_MD5_128"
        case .AUTH_HMAC_SHA1_160: "AUTH_HMAC_SHA1_160"
        case .AUTH_AES_CMAC_96: "AUTH_AES_CMAC_96"
        case .AUTH_HMAC_SHA2_256_128: "AUTH_HMAC_SHA2_256_128"
        case .AUTH_HMAC_SHA2_384_192: "AUTH_HMAC_SHA2_384_192"
        case .AUTH_HMAC_SHA2_512_256: "AUTH_HMAC_SHA2_512_256"
        }
    }
}
