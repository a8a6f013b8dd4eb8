import Crypto

/// One row of Wireshark's `esp_sa` UAT file (Preferences › Protocols › ESP › ESP SAs), so
/// a capture opens decrypted without typing a key. Field order and the algorithm names
/// are the ones Wireshark 4.x's ESP dissector accepts.
public enum WiresharkESPSA {
    /// `"IPv4","src","dst","0xSPI","<encryption>","0x<key>","<authentication>","0x<key>"`
    public static func row(sa: ESPSecurityAssociation, source: String, destination: String) -> String {
        let t = sa.transform
        let proto = source.contains(":") ? "IPv6" : "IPv4"
        let spi = "0x" + hex8(sa.spi)
        let auth: String
        if t.encryption.isAEAD { auth = "NULL" } else { auth = integrityName(t.integrity) }
        let encKey = t.encryptionKey.isEmpty ? "" : "0x" + t.encryptionKey.hex
        let authKey = t.integrityKey.isEmpty ? "" : "0x" + t.integrityKey.hex
        return [proto, source, destination, spi, encryptionName(t.encryption), encKey, auth, authKey]
            .map { "\"\($0)\"" }.joined(separator: ",")
    }

    static func encryptionName(_ e: EncryptionAlgorithm) -> String {
        switch e {
        case .ENCR_NULL: return "NULL"
        case .ENCR_3DES: return "TripleDES-CBC [RFC2451]"
        case .ENCR_AES_CBC: return "AES-CBC [RFC3602]"
        case .ENCR_AES_CTR: return "AES-CTR [RFC3686]"
        case .ENCR_AES_GCM_8: return "AES-GCM with 8 octet ICV [RFC4106]"
        case .ENCR_AES_GCM_12: return "AES-GCM with 12 octet ICV [RFC4106]"
        case .ENCR_AES_GCM_16: return "AES-GCM with 16 octet ICV [RFC4106]"
        case .ENCR_NULL_AUTH_AES_GMAC: return "NULL"      // Wireshark has no GMAC decoder; payload is clear
        case .ENCR_BLOWFISH: return "BLOWFISH-CBC [RFC2451]"
        }
    }

    static func integrityName(_ i: IntegrityAlgorithm?) -> String {
        switch i {
        case nil: return "NULL"
        case .AUTH_HMAC_SHA1_96?: return "HMAC-SHA-1-96 [RFC2404]"
        case .AUTH_HMAC_MD5_96?: return "HMAC-MD5-96 [RFC2403]"
        case .AUTH_HMAC_SHA2_256_128?: return "HMAC-SHA-256-128 [RFC4868]"
        case .AUTH_HMAC_SHA2_384_192?: return "HMAC-SHA-384-192 [RFC4868]"
        case .AUTH_HMAC_SHA2_512_256?: return "HMAC-SHA-512-256 [RFC4868]"
        case .AUTH_HMAC_MD5_128?: return "ANY 128 bit authentication [no checking]"
        case .AUTH_HMAC_SHA1_160?: return "NULL"   // no 160-bit choice in Wireshark 4.0: ICV left unchecked and undecoded
        case .AUTH_AES_XCBC_96?, .AUTH_AES_CMAC_96?: return "ANY 96 bit authentication [no checking]"
        }
    }
}

/// Eight lower-case hex digits.
func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
