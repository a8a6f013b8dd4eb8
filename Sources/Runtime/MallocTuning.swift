import Glibc

/// glibc malloc settings for a process whose loop threads allocate and free per message.
/// Each thread's arena otherwise grows its heap (mprotect) on a burst and trims it right
/// after: in a perf profile of `vowifi bench sip` that churn was 9 % of the IMS's CPU.
/// Keeping 16 MiB of slack on top of each heap and trimming only past 64 MiB removes it.
enum MallocTuning {
    /// glibc's mallopt(3) (declared in malloc.h, which the Glibc module does not export).
    @_silgen_name("mallopt") private static func mallopt(_ param: Int32, _ value: Int32) -> Int32

    private static let applied: Bool = {
        _ = mallopt(-2 /* M_TOP_PAD */, 16 << 20)
        _ = mallopt(-1 /* M_TRIM_THRESHOLD */, 64 << 20)
        return true
    }()

    /// Idempotent; call before the loops start.
    static func apply() { _ = applied }
}
