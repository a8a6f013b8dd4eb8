/// IKEv2 Transform Type 1 (encryption) algorithms, named as in the IANA registry
/// (RFC 7296 §3.3.2). One value describes both the IKE SA (SK payload) and the ESP
/// SA use; the key length (Key Length attribute, in bits) travels with the case.
public enum EncryptionAlgorithm: Hashable, Sendable, CustomStringConvertible {
    /// RFC 2451, 192-bit key (168 effective), 8-byte IV.
    case ENCR_3DES
    /// RFC 2451; key 40...448 bits (multiple of 8), default 128. Needs OpenSSL's legacy provider.
    case ENCR_BLOWFISH(keyBits: Int)
    /// RFC 2410; no confidentiality, ESP only with an integrity algorithm.
    case ENCR_NULL
    /// RFC 3602; key 128/192/256 bits, 16-byte IV.
    case ENCR_AES_CBC(keyBits: Int)
    /// RFC 3686; key material = AES key | 4-byte nonce; 8-byte IV.
    case ENCR_AES_CTR(keyBits: Int)
    /// RFC 4106/5282 AES-GCM with an 8, 12 or 16-byte ICV; key material = AES key | 4-byte salt.
    case ENCR_AES_GCM_8(keyBits: Int)
    case ENCR_AES_GCM_12(keyBits: Int)
    case ENCR_AES_GCM_16(keyBits: Int)
    /// RFC 4543 AES-GMAC: authentication only, 16-byte ICV; key material = AES key | 4-byte salt.
    case ENCR_NULL_AUTH_AES_GMAC(keyBits: Int)

    /// IANA IKEv2 Transform Type 1 ID.
    public var transformID: UInt16 {
        switch self {
        case .ENCR_3DES: 3
        case .ENCR_BLOWFISH: 7
        case .ENCR_NULL: 11
        case .ENCR_AES_CBC: 12
        case .ENCR_AES_CTR: 13
        case .ENCR_AES_GCM_8: 18
        case .ENCR_AES_GCM_12: 19
        case .ENCR_AES_GCM_16: 20
        case .ENCR_NULL_AUTH_AES_GMAC: 21
        }
    }

    /// The Key Length transform attribute value (bits), or nil for fixed-key ciphers,
    /// which must not carry the attribute (RFC 7296 §3.3.5).
    public var keyLengthAttribute: Int? {
        switch self {
        case .ENCR_3DES, .ENCR_NULL: nil
        case let .ENCR_BLOWFISH(b), let .ENCR_AES_CBC(b), let .ENCR_AES_CTR(b), let .ENCR_AES_GCM_8(b),
             let .ENCR_AES_GCM_12(b), let .ENCR_AES_GCM_16(b), let .ENCR_NULL_AUTH_AES_GMAC(b): b
        }
    }

    /// Builds the algorithm from a negotiated transform. Throws `unsupported` for an
    /// unknown ID and `invalidLength` for a missing or impossible Key Length attribute.
    public init(transformID: UInt16, keyLength: Int?) throws {
        let alg: EncryptionAlgorithm
        switch transformID {
        case 3: alg = .ENCR_3DES
        case 7: alg = .ENCR_BLOWFISH(keyBits: keyLength ?? 128)
        case 11: alg = .ENCR_NULL
        case 12, 13, 18, 19, 20, 21:
            guard let k = keyLength else {
                throw CryptoError.invalidLength(what: "Key Length attribute of transform \(transformID)", expected: "128, 192 or 256 bits", got: 0)
            }
            switch transformID {
            case 12: alg = .ENCR_AES_CBC(keyBits: k)
            case 13: alg = .ENCR_AES_CTR(keyBits: k)
            case 18: alg = .ENCR_AES_GCM_8(keyBits: k)
            case 19: alg = .ENCR_AES_GCM_12(keyBits: k)
            case 20: alg = .ENCR_AES_GCM_16(keyBits: k)
            default: alg = .ENCR_NULL_AUTH_AES_GMAC(keyBits: k)
            }
        default:
            throw CryptoError.unsupported("IKEv2 encryption transform ID \(transformID)")
        }
        if (transformID == 3 || transformID == 11), let k = keyLength {
            throw CryptoError.invalidLength(what: "Key Length attribute of transform \(transformID)", expected: "none", got: k)
        }
        try alg.validate()
        self = alg
    }

    /// Checks the key size is one the cipher defines.
    public func validate() throws {
        switch self {
        case .ENCR_3DES, .ENCR_NULL: return
        case let .ENCR_BLOWFISH(b):
            guard b >= 40, b <= 448, b % 8 == 0 else {
                throw CryptoError.invalidLength(what: "Blowfish key", expected: "5...56", got: b / 8)
            }
        case let .ENCR_AES_CBC(b), let .ENCR_AES_CTR(b), let .ENCR_AES_GCM_8(b), let .ENCR_AES_GCM_12(b),
             let .ENCR_AES_GCM_16(b), let .ENCR_NULL_AUTH_AES_GMAC(b):
            guard b == 128 || b == 192 || b == 256 else {
                throw CryptoError.invalidLength(what: "AES key", expected: "16, 24 or 32", got: b / 8)
            }
        }
    }

    /// Length of the cipher key proper (bytes).
    public var keyLength: Int {
        switch self {
        case .ENCR_3DES: 24
        case .ENCR_NULL: 0
        case let .ENCR_BLOWFISH(b), let .ENCR_AES_CBC(b), let .ENCR_AES_CTR(b), let .ENCR_AES_GCM_8(b),
             let .ENCR_AES_GCM_12(b), let .ENCR_AES_GCM_16(b), let .ENCR_NULL_AUTH_AES_GMAC(b): b / 8
        }
    }

    /// Bytes of salt/nonce taken from the end of the key material (RFC 3686, 4106, 4543, 5282).
    public var saltLength: Int {
        switch self {
        case .ENCR_AES_CTR, .ENCR_AES_GCM_8, .ENCR_AES_GCM_12, .ENCR_AES_GCM_16, .ENCR_NULL_AUTH_AES_GMAC: 4
        default: 0
        }
    }

    /// Bytes to take from the IKEv2 KEYMAT / prf+ stream for SK_e or an ESP key
    /// (key followed by salt, RFC 7296 §2.17, RFC 4106 §8.1).
    public var keyMaterialLength: Int { keyLength + saltLength }

    /// Length of the explicit IV carried in each ESP packet / SK payload.
    public var ivLength: Int {
        switch self {
        case .ENCR_NULL: 0
        case .ENCR_AES_CBC: 16
        case .ENCR_3DES, .ENCR_BLOWFISH, .ENCR_AES_CTR, .ENCR_AES_GCM_8, .ENCR_AES_GCM_12,
             .ENCR_AES_GCM_16, .ENCR_NULL_AUTH_AES_GMAC: 8
        }
    }

    /// The plaintext must be a multiple of this (the caller pads; ESP additionally
    /// aligns to 4 bytes, RFC 4303 §2.4). 1 for stream and AEAD modes.
    public var blockSize: Int {
        switch self {
        case .ENCR_AES_CBC: 16
        case .ENCR_3DES, .ENCR_BLOWFISH: 8
        default: 1
        }
    }

    /// ICV appended by the cipher itself (AEAD); 0 for non-AEAD ciphers, which need an
    /// integrity algorithm.
    public var icvLength: Int {
        switch self {
        case .ENCR_AES_GCM_8: 8
        case .ENCR_AES_GCM_12: 12
        case .ENCR_AES_GCM_16, .ENCR_NULL_AUTH_AES_GMAC: 16
        default: 0
        }
    }

    /// True for combined-mode algorithms (no separate integrity transform is negotiated).
    public var isAEAD: Bool { icvLength > 0 }

    public var description: String {
        switch self {
        case .ENCR_3DES: "ENCR_3DES"
        case .ENCR_NULL: "ENCR_NULL"
        case let .ENCR_BLOWFISH(b): "ENCR_BLOWFISH_\(b)"
        case let .ENCR_AES_CBC(b): "ENCR_AES_CBC_\(b)"
        case let .ENCR_AES_CTR(b): "ENCR_AES_CTR_\(b)"
        case let .ENCR_AES_GCM_8(b): "ENCR_AES_GCM_8_\(b)"
        case let .ENCR_AES_GCM_12(b): "ENCR_AES_GCM_12_\(b)"
        case let .ENCR_AES_GCM_16(b): "ENCR_AES_GCM_16_\(b)"
        case let .ENCR_NULL_AUTH_AES_GMAC(b): "ENCR_NULL_AUTH_AES_GMAC_\(b)"
        }
    }
}
