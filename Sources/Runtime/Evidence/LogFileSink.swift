import Foundation
import Glibc

/// Where the core's log lines go when the callbox options ask for more than the plain
/// `Logger` does: another time format (`time=full|sec`, `time.us`) and size-based rotation
/// (`file.rotate=<size>`: `<file>` is renamed `<file>.1`, `.2`... and a new `<file>` begins).
/// Use as `Logger(levels:destination: .lines(sink.write))`.
public final class LogFileSink: @unchecked Sendable {
    // @unchecked: the descriptor and counters are only touched with `lock` held.
    public let path: String?
    private let options: LogOptions
    private let lock = NSLock()
    private var fd: Int32
    private var written = 0
    private var rotations = 0

    /// `path` nil writes to stderr.
    public init(path: String?, options: LogOptions) throws {
        self.path = path
        self.options = options
        if let path {
            fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RuntimeError.system(call: "open", context: "log file \(path)", errno: errno) }
            var st = stat()
            if fstat(fd, &st) == 0 { written = Int(st.st_size) }
        } else {
            fd = 2
        }
    }

    deinit { if path != nil { Glibc.close(fd) } }

    /// Whether lines need restamping (the `Logger` writes `HH:MM:SS.mmm` itself).
    public var restamps: Bool { options.time != .short || options.microseconds }

    /// Writes one finished line (a multi-line entry is one call, kept whole).
    public func write(_ line: String) {
        var text = line
        if restamps, let space = line.firstIndex(of: " ") {
            text = Self.stamp(options.time, us: options.microseconds) + line[space...]
        }
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        lock.lock(); defer { lock.unlock() }
        if let limit = options.rotateSize, let path, written > 0, written + bytes.count > limit { rotate(path) }
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
                off += n
            }
        }
        written += bytes.count
    }

    private func rotate(_ path: String) {
        rotations += 1
        Glibc.close(fd)
        _ = Glibc.rename(path, "\(path).\(rotations)")
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { fd = 2 }
        written = 0
    }

    /// The time column in the requested format, local time.
    static func stamp(_ f: LogOptions.TimeFormat, us: Bool) -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let frac = us ? pad(Int(ts.tv_nsec / 1000), 6) : pad(Int(ts.tv_nsec / 1_000_000), 3)
        if f == .sec { return "\(ts.tv_sec).\(frac)" }
        var t = ts.tv_sec
        var tmv = tm()
        localtime_r(&t, &tmv)
        let hms = "\(pad(Int(tmv.tm_hour), 2)):\(pad(Int(tmv.tm_min), 2)):\(pad(Int(tmv.tm_sec), 2)).\(frac)"
        guard f == .full else { return hms }
        return "\(Int(tmv.tm_year) + 1900)-\(pad(Int(tmv.tm_mon) + 1, 2))-\(pad(Int(tmv.tm_mday), 2)) \(hms)"
    }

    static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }
}
