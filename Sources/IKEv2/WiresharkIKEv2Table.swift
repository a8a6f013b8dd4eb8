import Crypto

/// One row of Wireshark's `ikev2_decryption_table` UAT file (Preferences › Protocols ›
/// ISAKMP › IKEv2 Decryption Table): the SPIs, SK_ei/SK_er with the cipher, and
/// SK_ai/SK_ar with the integrity algorithm, named as Wireshark 4.x names them.
public enum WiresharkIKEv2Table {
    public static func row(spii: UInt64, spir: UInt64, encryption: EncryptionAlgorithm, skEi: [UInt8], skEr: [UInt8],
                           integrity: IntegrityAlgorithm?, skAi: [UInt8], skAr: [UInt8]) -> String {
        // Hex-bytes fields are bare in a UAT file; only the enumerated names are quoted.
        [Hex.spi(spii), Hex.spi(spir), skEi.hex, skEr.hex, "\"\(encryptionName(encryption))\"",
         skAi.hex, skAr.hex, "\"\(integrityName(integrity, aead: encryption.isAEAD))\""].joined(separator: ",")
    }

    static func encryptionName(_ e: EncryptionAlgorithm) -> String {
        switch e {
        case .ENCR_NULL: return "NULL [RFC2410]"
        case .ENCR_3DES: return "3DES [RFC2451]"
        case .ENCR_BLOWFISH: return "BLOWFISH-CBC [RFC2451]"
        case let .ENCR_AES_CBC(b): return "AES-CBC-\(b) [RFC3602]"
        case let .ENCR_AES_CTR(b): return "AES-CTR-\(b) [RFC5930]"
        case let .ENCR_AES_GCM_8(b): return "AES-GCM-\(b) with 8 octet ICV [RFC5282]"
        case let .ENCR_AES_GCM_12(b): return "AES-GCM-\(b) with 12 octet ICV [RFC5282]"
        case let .ENCR_AES_GCM_16(b): return "AES-GCM-\(b) with 16 octet ICV [RFC5282]"
        case .ENCR_NULL_AUTH_AES_GMAC: return "NULL [RFC2410]"
        }
    }

    static func integrityName(_ i: IntegrityAlgorithm?, aead: Bool) -> String {
        if aead { return "NONE [RFC4306]" }
        switch i {
        case nil: return "NONE [RFC4306]"
        case .AUTH_HMAC_MD5_96?: return "HMAC_MD5_96 [RFC2403]"
        case .AUTH_HMAC_SHA1_96?: return "HMAC_SHA1_96 [RFC2404]"
        case .AUTH_HMAC_SHA2_256_128?: return "HMAC_SHA2_256_128 [RFC4868]"
        case .AUTH_HMAC_SHA2_384_192?: return "HMAC_SHA2_384_192 [RFC4868]"
        case .AUTH_HMAC_SHA2_512_256?: return "HMAC_SHA2_512_256 [RFC4868]"
        case .AUTH_HMAC_MD5_128?: return "HMAC_MD5_128 [RFC4595]"
        case .AUTH_HMAC_SHA1_160?: return "HMAC_SHA1_160 [RFC4595]"
        case .AUTH_AES_XCBC_96?: return "ANY 96 bit authentication [no checking]"
        case .AUTH_AES_CMAC_96?: return "ANY 96 bit authentication [no checking]"
        }
    }
}
