/// AES-XCBC-MAC (RFC 3566 §4), a construction over AES-128 block encryption (OpenSSL
/// AES-ECB via AESBlockCipher). Used by AUTH_AES_XCBC_96 and PRF_AES128_XCBC (RFC 4434).
struct AESXCBCMAC {
    private let k1: AESBlockCipher
    private let k2: [UInt8]
    private let k3: [UInt8]

    /// `key` must be 16 bytes (callers enforce; PRF_AES128_XCBC first normalises it).
    init(key: [UInt8]) throws {
        let k = try AESBlockCipher(key: key)
        k1 = try AESBlockCipher(key: k.encrypt([UInt8](repeating: 0x01, count: 16)))
        k2 = k.encrypt([UInt8](repeating: 0x02, count: 16))
        k3 = k.encrypt([UInt8](repeating: 0x03, count: 16))
    }

    /// The full 128-bit MAC of `m`.
    func mac(_ m: UnsafeRawBufferPointer) -> [UInt8] {
        var e = [UInt8](repeating: 0, count: 16)
        let n = m.count
        var off = 0
        // All blocks but the last go through plain CBC under K1.
        while n - off > 16 {
            for i in 0..<16 { e[i] ^= m[off + i] }
            e = k1.encrypt(e)
            off += 16
        }
        let rem = n - off
        if rem == 16 {
            for i in 0..<16 { e[i] ^= m[off + i] ^ k2[i] }
        } else {
            // Incomplete (or empty) last block: pad with 0x80 00.. and use K3.
            for i in 0..<rem { e[i] ^= m[off + i] }
            e[rem] ^= 0x80
            for i in 0..<16 { e[i] ^= k3[i] }
        }
        return k1.encrypt(e)
    }

    func mac(_ m: [UInt8]) -> [UInt8] { m.withUnsafeBytes { mac($0) } }
}
