import Crypto

/// The pseudo-random function of FIPS 186-2 change notice 1 (general purpose, §3.1 with
/// G built on the SHA-1 compression function), as RFC 4187 §7 / Appendix A and RFC 4186
/// use it to stretch the 160-bit MK into the EAP-AKA/SIM keys. XSEED is 0 and b = 160.
public enum FIPS186PRF {
    /// `length` bytes (rounded up internally to 40-byte rounds) from the 20-byte XKEY.
    public static func generate(xkey: [UInt8], length: Int) throws -> [UInt8] {
        try requireLength(xkey, 20, "XKEY")
        guard length >= 0 else { throw AKAError.invalidParameter("PRF length \(length)") }
        var xkey = xkey
        var out: [UInt8] = []
        out.reserveCapacity(length + 40)
        while out.count < length {
            for _ in 0..<2 {
                // w_i = G(t, XVAL), XVAL = XKEY (XSEED_j = 0) zero-padded to 512 bits.
                let w = SHA1Compression.g(state: nil, block: xkey + [UInt8](repeating: 0, count: 44))
                out += w
                // XKEY = (1 + XKEY + w_i) mod 2^160
                var carry: UInt16 = 1
                for i in stride(from: 19, through: 0, by: -1) {
                    let s = UInt16(xkey[i]) + UInt16(w[i]) + carry
                    xkey[i] = UInt8(truncatingIfNeeded: s)
                    carry = s >> 8
                }
            }
        }
        return Array(out.prefix(length))
    }
}
