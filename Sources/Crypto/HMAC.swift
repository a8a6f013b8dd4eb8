import COpenSSL

/// HMAC (RFC 2104) over OpenSSL's one-shot `HMAC()`; the building block of the IKEv2
/// PRFs, ESP integrity, EAP-AKA AT_MAC and Milenage-independent key derivations.
public enum HMAC {
    public static func mac(_ algorithm: DigestAlgorithm, key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        let p = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                COpenSSL.HMAC(algorithm.evp, k.baseAddress, Int32(k.count), d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, &out, &len)
            }
        }
        precondition(p != nil, "HMAC cannot fail for a built-in hash: \(opensslErrorString())")
        return Array(out.prefix(Int(len)))
    }
}
