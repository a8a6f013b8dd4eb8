/// The algorithm names of the callbox `epdg` lists, validated here and mapped to IKEv2
/// transforms (RFC 7296 §3.3.2, IANA "IKEv2 Parameters") by the IKEv2/ESP layers.
/// Config stays free of Crypto: these are names and IANA numbers only.

/// `ike_encryption_algo_list` / `esp_encryption_algo_list` values.
public enum EncryptionAlgorithm: String, CaseIterable, Sendable {
    case null = "null"
    case aesCBC128 = "aes-cbc-128"
    case aesCBC192 = "aes-cbc-192"
    case aesCBC256 = "aes-cbc-256"
    case aesGCM128_16 = "aes-gcm-128-16"
    case aesGCM192_16 = "aes-gcm-192-16"
    case aesGCM256_16 = "aes-gcm-256-16"
    case tripleDES = "3des"
    case blowfish = "blowfish"
    case aesCTR128 = "aes-ctr-128"
    case aesCTR192 = "aes-ctr-192"
    case aesCTR256 = "aes-ctr-256"
    case encrNullAuthAESGMAC128 = "encr-null-auth-aes-gmac-128"
    case encrNullAuthAESGMAC192 = "encr-null-auth-aes-gmac-192"
    case encrNullAuthAESGMAC256 = "encr-null-auth-aes-gmac-256"

    /// The documented IKE list, which is also the default, in documented order.
    public static let ikeDefault: [EncryptionAlgorithm] = [
        .aesCBC128, .aesCBC192, .aesCBC256, .aesGCM128_16, .aesGCM256_16, .tripleDES, .blowfish,
        .aesCTR128, .aesCTR192, .aesCTR256,
    ]
    /// The documented ESP list, which is also the default (`null` first).
    public static let espDefault: [EncryptionAlgorithm] = [
        .null, .aesCBC128, .aesCBC192, .aesCBC256, .aesGCM128_16, .aesGCM192_16, .aesGCM256_16, .tripleDES,
        .blowfish, .aesCTR128, .aesCTR192, .aesCTR256, .encrNullAuthAESGMAC128, .encrNullAuthAESGMAC192,
        .encrNullAuthAESGMAC256,
    ]

    /// IKEv2 Transform Type 1 ID: ENCR_3DES 3, ENCR_BLOWFISH 7, ENCR_NULL 11, ENCR_AES_CBC 12,
    /// ENCR_AES_CTR 13, ENCR_AES_GCM_16 20, ENCR_NULL_AUTH_AES_GMAC 21.
    public var transformID: UInt16 {
        switch self {
        case .null: return 11
        case .aesCBC128, .aesCBC192, .aesCBC256: return 12
        case .aesCTR128, .aesCTR192, .aesCTR256: return 13
        case .aesGCM128_16, .aesGCM192_16, .aesGCM256_16: return 20
        case .encrNullAuthAESGMAC128, .encrNullAuthAESGMAC192, .encrNullAuthAESGMAC256: return 21
        case .tripleDES: return 3
        case .blowfish: return 7
        }
    }

    /// Key Length attribute in bits (nil for fixed-key ciphers: null, 3DES; Blowfish is sent as 128).
    public var keyLengthBits: UInt16? {
        switch self {
        case .aesCBC128, .aesGCM128_16, .aesCTR128, .encrNullAuthAESGMAC128, .blowfish: return 128
        case .aesCBC192, .aesGCM192_16, .aesCTR192, .encrNullAuthAESGMAC192: return 192
        case .aesCBC256, .aesGCM256_16, .aesCTR256, .encrNullAuthAESGMAC256: return 256
        case .null, .tripleDES: return nil
        }
    }

    /// True for AEAD transforms (GCM, GMAC), which take no separate integrity transform.
    public var isAEAD: Bool { transformID == 20 || transformID == 21 }
}

/// `ike_integrity_algo_list` / `esp_integrity_algo_list` values.
public enum IntegrityAlgorithm: String, CaseIterable, Sendable {
    case null = "null"
    case hmacSHA1_96 = "hmac-sha-1-96"
    case hmacSHA1_160 = "hmac-sha-1-160"
    case hmacSHA256_128 = "hmac-sha-256-128"
    case hmacSHA384_192 = "hmac-sha-384-192"
    case hmacSHA512_256 = "hmac-sha-512-256"
    case hmacMD5_96 = "hmac-md5-96"
    case hmacMD5_128 = "hmac-md5-128"
    case aesCMAC96 = "aes-cmac-96"

    public static let ikeDefault: [IntegrityAlgorithm] = [
        .hmacSHA1_96, .hmacSHA1_160, .hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256, .hmacMD5_96,
        .hmacMD5_128, .aesCMAC96,
    ]
    public static let espDefault: [IntegrityAlgorithm] = [.null] + ikeDefault

    /// IKEv2 Transform Type 3 ID: NONE 0, AUTH_HMAC_MD5_96 1, AUTH_HMAC_SHA1_96 2, AUTH_HMAC_MD5_128 6,
    /// AUTH_HMAC_SHA1_160 7, AUTH_AES_CMAC_96 8, AUTH_HMAC_SHA2_256_128 12, _384_192 13, _512_256 14.
    public var transformID: UInt16 {
        switch self {
        case .null: return 0
        case .hmacMD5_96: return 1
        case .hmacSHA1_96: return 2
        case .hmacMD5_128: return 6
        case .hmacSHA1_160: return 7
        case .aesCMAC96: return 8
        case .hmacSHA256_128: return 12
        case .hmacSHA384_192: return 13
        case .hmacSHA512_256: return 14
        }
    }
}

/// `ike_prf_list` values.
public enum PRFAlgorithm: String, CaseIterable, Sendable {
    case hmacSHA1 = "prf-hmac-sha1"
    case hmacSHA2_256 = "prf-hmac-sha2-256"
    case hmacSHA2_384 = "prf-hmac-sha2-384"
    case hmacSHA2_512 = "prf-hmac-sha2-512"
    case hmacMD5 = "prf-hmac-md5"
    case aes128XCBC = "prf-aes128-xcbc"

    public static let ikeDefault: [PRFAlgorithm] = allCases

    /// IKEv2 Transform Type 2 ID: PRF_HMAC_MD5 1, PRF_HMAC_SHA1 2, PRF_AES128_XCBC 4,
    /// PRF_HMAC_SHA2_256 5, _384 6, _512 7.
    public var transformID: UInt16 {
        switch self {
        case .hmacMD5: return 1
        case .hmacSHA1: return 2
        case .aes128XCBC: return 4
        case .hmacSHA2_256: return 5
        case .hmacSHA2_384: return 6
        case .hmacSHA2_512: return 7
        }
    }
}

/// `ike_dh_group_list` / `esp_dh_group_list` values (`none` only for ESP: no PFS).
public enum DHGroup: String, CaseIterable, Sendable {
    case none = "none"
    case group1 = "group_1"
    case group2 = "group_2"
    case group5 = "group_5"
    case group14 = "group_14"
    case group15 = "group_15"
    case group16 = "group_16"
    case group17 = "group_17"
    case group18 = "group_18"
    case group19 = "group_19"
    case group22 = "group_22"
    case group23 = "group_23"
    case group24 = "group_24"

    /// Allowed in `ike_dh_group_list` (the documented list: 1, 2, 5, 14…19, 22, 23, 24).
    public static let ikeAllowed: [DHGroup] = [
        .group1, .group2, .group5, .group14, .group15, .group16, .group17, .group18, .group19, .group22,
        .group23, .group24,
    ]
    /// The documented default: groups 1 and 2 are accepted but not offered by default.
    public static let ikeDefault: [DHGroup] = [
        .group5, .group14, .group15, .group16, .group17, .group18, .group19, .group22, .group23, .group24,
    ]
    public static let espAllowed: [DHGroup] = [.none] + ikeAllowed
    public static let espDefault: [DHGroup] = [.none] + ikeDefault

    /// IKEv2 Transform Type 4 ID: the group number (0 for none).
    public var transformID: UInt16 {
        self == .none ? 0 : UInt16(rawValue.dropFirst("group_".count)) ?? 0
    }
}
