import Glibc

/// Nanoseconds on CLOCK_MONOTONIC: the only clock timers use (wall-clock jumps never fire
/// or delay a retransmission).
public enum MonotonicClock {
    @inline(__always) public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds, clamped at zero (negative durations fire immediately).
    var nanosecondsClamped: UInt64 {
        let (s, atto) = components
        if s < 0 { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(max(0, atto) / 1_000_000_000)
    }
}
