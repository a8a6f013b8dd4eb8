import COpenSSL

/// The CSPRNG: OpenSSL's RAND_bytes (DRBG seeded from the kernel). Used for nonces,
/// SPIs, IVs, RANDs, DH private keys and cookies.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 {
            let rc = RAND_bytes(&out, Int32(count))
            precondition(rc == 1, "RAND_bytes failed: \(opensslErrorString())")
        }
        return out
    }

    public static func uint32() -> UInt32 {
        bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
