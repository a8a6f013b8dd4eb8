/// IKEv2 Transform Type 2 (PRF) algorithms with their IANA IDs as raw values.
public enum PseudoRandomFunction: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case PRF_HMAC_MD5 = 1       // RFC 2104
    case PRF_HMAC_SHA1 = 2      // RFC 2104
    case PRF_AES128_XCBC = 4    // RFC 4434
    case PRF_HMAC_SHA2_256 = 5  // RFC 4868
    case PRF_HMAC_SHA2_384 = 6  // RFC 4868
    case PRF_HMAC_SHA2_512 = 7  // RFC 4868

    /// Output size in bytes.
    public var outputLength: Int {
        switch self {
        case .PRF_HMAC_MD5, .PRF_AES128_XCBC: 16
        case .PRF_HMAC_SHA1: 20
        case .PRF_HMAC_SHA2_256: 32
        case .PRF_HMAC_SHA2_384: 48
        case .PRF_HMAC_SHA2_512: 64
        }
    }

    /// The preferred key size (RFC 7296 §2.13): the length of SK_d, SK_pi and SK_pr.
    public var keyLength: Int { outputLength }

    /// True when the PRF takes a fixed-size key (RFC 7296 §2.14: SKEYSEED then uses
    /// the first half of the key from Ni and the second from Nr). Only AES128-XCBC.
    public var hasFixedKeySize: Bool { self == .PRF_AES128_XCBC }

    public var digest: DigestAlgorithm? {
        switch self {
        case .PRF_HMAC_MD5: .md5
        case .PRF_HMAC_SHA1: .sha1
        case .PRF_HMAC_SHA2_256: .sha256
        case .PRF_HMAC_SHA2_384: .sha384
        case .PRF_HMAC_SHA2_512: .sha512
        case .PRF_AES128_XCBC: nil
        }
    }

    /// prf(key, data). Any key length is accepted: HMAC hashes long keys itself, and
    /// AES-XCBC-PRF-128 normalises the key per RFC 4434 §2 (pad short keys with zeros,
    /// replace long keys by AES-XCBC-MAC(0^128, key)).
    public func prf(key: [UInt8], data: [UInt8]) -> [UInt8] {
        if let digest { return HMAC.mac(digest, key: key, data: data) }
        let k: [UInt8]
        if key.count == 16 {
            k = key
        } else if key.count < 16 {
            k = key + [UInt8](repeating: 0, count: 16 - key.count)
        } else {
            k = Self.xcbc(key: [UInt8](repeating: 0, count: 16), data: key)
        }
        return Self.xcbc(key: k, data: data)
    }

    /// prf+ (RFC 7296 §2.13): T1 | T2 | ... truncated to `length`, Tn = prf(K, Tn-1 | S | n).
    /// Throws if more than 255 iterations would be needed.
    public func prfPlus(key: [UInt8], seed: [UInt8], length: Int) throws -> [UInt8] {
        let rounds = (length + outputLength - 1) / outputLength
        guard rounds <= 255 else {
            throw CryptoError.invalidLength(what: "prf+ output", expected: "<= \(255 * outputLength)", got: length)
        }
        var out: [UInt8] = []
        out.reserveCapacity(rounds * outputLength)
        var t: [UInt8] = []
        var n: UInt8 = 1
        let keyed = digest.map { KeyedHMAC($0, key: key) }
        var input: [UInt8] = []
        input.reserveCapacity(outputLength + seed.count + 1)
        while out.count < length {
            input.removeAll(keepingCapacity: true)
            input += t; input += seed; input.append(n)
            t = keyed?.mac(input) ?? prf(key: key, data: input)
            out += t
            n &+= 1
        }
        return Array(out.prefix(length))
    }

    /// AES-XCBC-MAC with a 16-byte key; AESBlockCipher only fails on a wrong key size,
    /// which the caller has excluded.
    private static func xcbc(key: [UInt8], data: [UInt8]) -> [UInt8] {
        guard let m = try? AESXCBCMAC(key: key) else { preconditionFailure("AES-128 key of 16 bytes rejected") }
        return m.mac(data)
    }

    public var description: String {
        switch self {
        case .PRF_HMAC_MD5: "PRF_HMAC_MD5"
        case .PRF_HMAC_SHA1: "PRF_HMAC_SHA1"
        case .PRF_AES128_XCBC: "PRF_AES128_XCBC"
        case .PRF_HMAC_SHA2_256: "PRF_HMAC_SHA2_256"
        case .PRF_HMAC_SHA2_384: "PRF_HMAC_SHA2_384"
        case .PRF_HMAC_SHA2_512: "PRF_HMAC_SHA2_512"
        }
    }
}
