/// The receiver's anti-replay window (RFC 4303 §3.4.3, with extended sequence numbers
/// per RFC 4303 Appendix A). A sliding bitmap of `size` bits whose right edge is the
/// highest sequence number authenticated so far.
///
/// The check is split in two, as the RFC requires: `check` before the ICV is verified
/// (so forged packets cannot move the window), `accept` after.
public struct AntiReplayWindow: Sendable {
    /// Window size in packets (a multiple of 64).
    public let size: UInt64
    /// Highest sequence number accepted (full 64-bit value with ESN; the low 32 bits otherwise).
    public private(set) var top: UInt64 = 0
    private var bitmap: [UInt64]

    public init(size: Int = 1024) {
        let words = max(1, (size + 63) / 64)
        self.size = UInt64(words * 64)
        bitmap = [UInt64](repeating: 0, count: words)
    }

    public enum Verdict: Equatable, Sendable {
        case ok(UInt64)          // the full sequence number to use for the ICV and `accept`
        case replayed
        case tooOld
    }

    /// Reconstructs the full 64-bit sequence number from its low 32 bits (RFC 4303 A2.2)
    /// when `esn` is on, then tells whether it may be new.
    public func check(low: UInt32, esn: Bool) -> Verdict {
        guard let seq = esn ? reconstruct(low: low) : UInt64(low) else { return .tooOld }
        if seq == 0 { return .tooOld }   // sequence numbers start at 1
        if seq > top { return .ok(seq) }
        let diff = top - seq
        if diff >= size { return .tooOld }
        return isSet(seq) ? .replayed : .ok(seq)
    }

    /// Marks `seq` as received, sliding the window when it is above the top.
    public mutating func accept(_ seq: UInt64) {
        if seq > top {
            let shift = seq - top
            if shift >= size {
                for i in 0..<bitmap.count { bitmap[i] = 0 }
            } else {
                for s in (top + 1)...seq where s - top <= size { clear(s) }
            }
            top = seq
        }
        set(seq)
    }

    /// RFC 4303 Appendix A2.2: the high 32 bits are guessed from where `low` falls
    /// relative to the window's bottom. Nil when the guess lands below sequence 0.
    private func reconstruct(low: UInt32) -> UInt64? {
        let tl = UInt64(UInt32(truncatingIfNeeded: top))
        let th = top >> 32
        let l = UInt64(low)
        if tl >= size - 1 {
            // Case A: the window lies within one 2^32 subspace.
            return l >= tl - (size - 1) ? th << 32 | l : (th + 1) << 32 | l
        }
        // Case B: the window spans two subspaces.
        let bottom = (tl &+ (1 << 32) &- (size - 1)) & 0xFFFF_FFFF
        if l >= bottom { return th == 0 ? nil : (th - 1) << 32 | l }
        return th << 32 | l
    }

    private func index(_ seq: UInt64) -> (Int, UInt64) {
        let bit = seq % size
        return (Int(bit / 64), 1 << (bit % 64))
    }
    private func isSet(_ seq: UInt64) -> Bool { let (w, m) = index(seq); return bitmap[w] & m != 0 }
    private mutating func set(_ seq: UInt64) { let (w, m) = index(seq); bitmap[w] |= m }
    private mutating func clear(_ seq: UInt64) { let (w, m) = index(seq); bitmap[w] &= ~m }
}
