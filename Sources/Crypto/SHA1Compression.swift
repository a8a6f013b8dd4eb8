import COpenSSL

/// The raw SHA-1 compression function on one 512-bit block, without the length padding
/// of a full hash. FIPS 186-2 (change notice 1) builds its PRF on it as the function G,
/// which EAP-AKA (RFC 4187 §7) and EAP-SIM use to expand the master key. OpenSSL exposes
/// it as `SHA1_Transform` (deprecated in OpenSSL 3 but still shipped); reached through
/// <openssl/sha.h>, which the shim's <openssl/x509.h> already includes.
public enum SHA1Compression {
    /// The standard SHA-1 initial chaining value H0..H4 (FIPS 180).
    public static let initialState: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]

    /// G(t, c): compresses the 64-byte `block` starting from chaining value `state`
    /// (five words; nil means the standard IV) and returns the new chaining value as
    /// 20 big-endian bytes.
    public static func g(state: [UInt32]?, block: [UInt8]) -> [UInt8] {
        precondition(block.count == 64, "SHA-1 compression takes a 64-byte block, got \(block.count)")
        let h = state ?? initialState
        precondition(h.count == 5, "SHA-1 chaining value is 5 words, got \(h.count)")
        let ctx = (OpenSSLSHA1.self as any SHA1Transforming.Type).transform(h, block)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for w in [ctx.h0, ctx.h1, ctx.h2, ctx.h3, ctx.h4] {
            out.append(UInt8(truncatingIfNeeded: w >> 24)); out.append(UInt8(truncatingIfNeeded: w >> 16))
            out.append(UInt8(truncatingIfNeeded: w >> 8)); out.append(UInt8(truncatingIfNeeded: w))
        }
        return out
    }
}

/// OpenSSL 3 marks the low-level SHA-1 API deprecated and offers no EVP equivalent for a
/// bare compression. The call sits in a deprecated witness reached through a protocol,
/// so the one intended use does not warn at every build.
private protocol SHA1Transforming {
    static func transform(_ h: [UInt32], _ block: [UInt8]) -> SHA_CTX
}

private enum OpenSSLSHA1: SHA1Transforming {
    @available(*, deprecated, message: "low-level OpenSSL SHA-1 API; used only for FIPS 186-2 G")
    static func transform(_ h: [UInt32], _ block: [UInt8]) -> SHA_CTX {
        var ctx = SHA_CTX()
        _ = SHA1_Init(&ctx)
        ctx.h0 = h[0]; ctx.h1 = h[1]; ctx.h2 = h[2]; ctx.h3 = h[3]; ctx.h4 = h[4]
        SHA1_Transform(&ctx, block)
        return ctx
    }
}
