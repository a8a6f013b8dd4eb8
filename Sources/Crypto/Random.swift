import COpenSSL
import Synchronization

/// The CSPRNG: OpenSSL's RAND_bytes (DRBG seeded from the kernel). Used for nonces,
/// SPIs, IVs, RANDs, DH private keys and cookies.
///
/// Small requests are served from a 4 KiB block of DRBG output taken in one call: an IKE
/// attach makes about ten small requests, and each RAND_bytes call costs about a microsecond
/// of fixed overhead (4 % of an attach). Every byte is handed out once and the block is
/// never reused. The process never forks without exec, so no copy of the block can be
/// shared with a child.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        if count <= RandomPool.chunkLimit {
            out.withUnsafeMutableBytes { pool.fill($0) }
        } else {
            let rc = RAND_bytes(&out, Int32(count))
            precondition(rc == 1, "RAND_bytes failed: \(opensslErrorString())")
        }
        return out
    }

    public static func uint32() -> UInt32 {
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { pool.fill($0) }
        return v
    }

    public static func uint64() -> UInt64 {
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { pool.fill($0) }
        return v
    }
}

/// A block of DRBG output consumed front to back under a lock.
private final class RandomPool: Sendable {
    static let blockSize = 4096
    /// Requests above this go to RAND_bytes directly.
    static let chunkLimit = 256
    private struct State: ~Copyable {
        var block = [UInt8](repeating: 0, count: RandomPool.blockSize)
        var used = RandomPool.blockSize
    }
    private let state = Mutex(State())

    func fill(_ dst: UnsafeMutableRawBufferPointer) {
        state.withLock { s in
            if s.used + dst.count > Self.blockSize {
                let rc = s.block.withUnsafeMutableBytes { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(Self.blockSize)) }
                precondition(rc == 1, "RAND_bytes failed: \(opensslErrorString())")
                s.used = 0
            }
            s.block.withUnsafeMutableBytes { b in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[s.used..<(s.used + dst.count)]))
                // Handed-out bytes do not stay in memory.
                b.baseAddress!.advanced(by: s.used).initializeMemory(as: UInt8.self, repeating: 0, count: dst.count)
            }
            s.used += dst.count
        }
    }
}
private let pool = RandomPool()
