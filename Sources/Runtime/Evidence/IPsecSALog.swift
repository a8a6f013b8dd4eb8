import Crypto
import IKEv2
import Wire

/// The "Add IPsec SA" log lines of a Child SA in the style of the callbox tutorial: one line
/// per direction and address family, `Tunnel src=<ip:port> dst=<ip:port>`, the traffic
/// selectors as `src=<ip>:<port>/<prefix> dst=...`, `spi=0x..`, and with key logging on
/// `auth=<alg> 0x<key> cipher=<alg> 0x<key>` (what Wireshark's ESP preferences want).
public enum IPsecSALog {
    public static func lines(_ d: ChildSADescription, keys: Bool) -> [String] {
        var out: [String] = []
        let families = [true, false].filter { v4 in d.localTS.contains { $0.isIPv4 == v4 } || d.remoteTS.contains { $0.isIPv4 == v4 } }
        // Outbound first (ePDG → UE), as the tutorial's log shows it.
        for outbound in [true, false] {
            let spi = outbound ? d.outboundSPI : d.inboundSPI
            let (src, dst) = outbound ? (d.local, d.remote) : (d.remote, d.local)
            let (srcTS, dstTS) = outbound ? (d.localTS, d.remoteTS) : (d.remoteTS, d.localTS)
            for v4 in families {
                let s = srcTS.filter { $0.isIPv4 == v4 }.map(selector).joined(separator: ","),
                    t = dstTS.filter { $0.isIPv4 == v4 }.map(selector).joined(separator: ",")
                var line = "Add IPsec SA \(outbound ? "out" : "in"): Tunnel src=\(src) dst=\(dst) src=\(s.isEmpty ? "-" : s) dst=\(t.isEmpty ? "-" : t) spi=0x\(Hex.spi(spi))"
                let ek = outbound ? d.outboundEncryptionKey : d.inboundEncryptionKey
                let ak = outbound ? d.outboundIntegrityKey : d.inboundIntegrityKey
                line += " auth=\(authName(d.suite.integrity))" + (keys && !ak.isEmpty ? " 0x\(Hex.encode(ak))" : "")
                line += " cipher=\(cipherName(d.suite.encryption))" + (keys && !ek.isEmpty ? " 0x\(Hex.encode(ek))" : "")
                if d.suite.extendedSequenceNumbers { line += " esn=1" }
                out.append(line)
            }
        }
        return out
    }

    /// `192.168.4.2:0/32`, `0.0.0.0:0/0`, `[2001:db8::]:0/64`; a range that is no prefix as `a-b`.
    public static func selector(_ ts: TrafficSelector) -> String {
        let port = ts.startPort == ts.endPort ? "\(ts.startPort)" : ts.startPort == 0 && ts.endPort == 65535 ? "0" : "\(ts.startPort)-\(ts.endPort)"
        let a = ts.startAddress.bytes, b = ts.endAddress.bytes
        var prefix = 0
        while prefix < a.count * 8 {
            let byte = prefix / 8, bit = UInt8(0x80) >> UInt8(prefix % 8)
            if a[byte] & bit != b[byte] & bit { break }
            prefix += 1
        }
        // A prefix only if the rest is all zeros in start and all ones in end.
        var isPrefix = true
        for i in prefix..<(a.count * 8) {
            let byte = i / 8, bit = UInt8(0x80) >> UInt8(i % 8)
            if a[byte] & bit != 0 || b[byte] & bit == 0 { isPrefix = false; break }
        }
        let host = ts.isIPv4 ? "\(ts.startAddress)" : "[\(ts.startAddress)]"
        if isPrefix { return "\(host):\(port)/\(prefix)" }
        return "\(ts.startAddress)-\(ts.endAddress):\(port)"
    }

    public static func cipherName(_ e: EncryptionAlgorithm) -> String {
        switch e {
        case .ENCR_NULL: "null"
        case .ENCR_3DES: "3des-cbc"
        case .ENCR_BLOWFISH: "blowfish-cbc"
        case .ENCR_AES_CBC: "aes-cbc"
        case .ENCR_AES_CTR: "aes-ctr"
        case .ENCR_AES_GCM_8: "aes-gcm-8"
        case .ENCR_AES_GCM_12: "aes-gcm-12"
        case .ENCR_AES_GCM_16: "aes-gcm-16"
        case .ENCR_NULL_AUTH_AES_GMAC: "aes-gmac"
        }
    }

    public static func authName(_ i: IntegrityAlgorithm?) -> String {
        switch i {
        case nil: "null"
        case .AUTH_HMAC_MD5_96?: "hmac-md5-96"
        case .AUTH_HMAC_SHA1_96?: "hmac-sha-1-96"
        case .AUTH_AES_XCBC_96?: "aes-xcbc-96"
        case .AUTH_HMAC_MD5_128?: "hmac-md5-128"
        case .AUTH_HMAC_SHA1_160?: "hmac-sha-1-160"
        case .AUTH_AES_CMAC_96?: "aes-cmac-96"
        case .AUTH_HMAC_SHA2_256_128?: "hmac-sha-256-128"
        case .AUTH_HMAC_SHA2_384_192?: "hmac-sha-384-192"
        case .AUTH_HMAC_SHA2_512_256?: "hmac-sha-512-256"
        }
    }
}
