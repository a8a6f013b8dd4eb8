import Foundation
import Glibc

/// Log layers, one per protocol area (the callbox's names where it has them).
public enum LogLayer: String, CaseIterable, Sendable {
    case runtime, ikev2, eap, ipsec, sip, ims, hss
    /// `[IKEV2]` in log lines.
    public var tag: String { rawValue.uppercased() }
}

/// How much a layer logs: none < error < info < debug.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case none = 0, error, info, debug
    public init?(name: String) {
        switch name.lowercased() {
        case "none": self = .none
        case "error": self = .error
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The DIR column: UL/DL for user-plane packets, TO/FROM for signalling with a peer, `-`.
public enum LogDirection: String, Sendable {
    case none = "-", ul = "UL", dl = "DL", to = "TO", from = "FROM"
}

/// Thread-safe line logger: `HH:MM:SS.mmm [LAYER] DIR UE message`, to stderr or a file.
/// Levels are fixed at creation, so `isEnabled` is a lock-free array read; only the write
/// takes the lock (one write(2) per line keeps lines whole).
///
/// `@unchecked Sendable`: `levels` and `fd` are immutable; the write path holds `lock`.
public final class Logger: @unchecked Sendable {
    public enum Destination: Sendable {
        case standardError
        /// A file, appended to (created if missing).
        case file(path: String)
        /// Each finished line (without the newline), e.g. for tests or a UI.
        case lines(@Sendable (String) -> Void)
    }

    private let levels: [LogLevel]
    private let fd: Int32
    private let ownsFD: Bool
    private let sink: (@Sendable (String) -> Void)?
    private let lock = Lock()

    /// - Parameters:
    ///   - levels: per-layer levels; layers not listed use `defaultLevel`.
    public init(levels: [LogLayer: LogLevel] = [:], defaultLevel: LogLevel = .error,
                destination: Destination = .standardError) throws(RuntimeError) {
        self.levels = LogLayer.allCases.map { levels[$0] ?? defaultLevel }
        switch destination {
        case .standardError:
            fd = 2; ownsFD = false; sink = nil
        case .file(let path):
            let f = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | Linux.O_CLOEXEC_, 0o644)
            guard f >= 0 else { throw .system(call: "open", context: "log file \(path)", errno: errno) }
            fd = f; ownsFD = true; sink = nil
        case .lines(let s):
            fd = -1; ownsFD = false; sink = s
        }
    }

    /// Parses callbox-style options, `all.level=error,ikev2.level=debug,sip.level=info`
    /// (unknown layers and keys other than `level` are ignored: they belong to other tools).
    public convenience init(options: String, destination: Destination = .standardError) throws(RuntimeError) {
        var levels: [LogLayer: LogLevel] = [:]
        var all = LogLevel.error
        for item in options.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].hasSuffix(".level"), let level = LogLevel(name: kv[1]) else { continue }
            let layer = String(kv[0].dropLast(6))
            if layer == "all" { all = level } else if let l = LogLayer(rawValue: layer) { levels[l] = level }
        }
        try self.init(levels: levels, defaultLevel: all, destination: destination)
    }

    deinit { if ownsFD { Glibc.close(fd) } }

    @inline(__always) public func isEnabled(_ layer: LogLayer, _ level: LogLevel) -> Bool {
        level != .none && level <= levels[layerIndex(layer)]
    }

    public func level(of layer: LogLayer) -> LogLevel { levels[layerIndex(layer)] }

    /// Logs one line (the message is built only if the level is enabled). `ue` is the
    /// subscriber column (IMSI, IKE SPI, dialog id...), `-` when nil.
    public func log(_ layer: LogLayer, _ level: LogLevel, _ message: @autoclosure () -> String,
                    dir: LogDirection = .none, ue: String? = nil) {
        guard isEnabled(layer, level) else { return }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let line = Logger.format(time: ts, layer: layer, dir: dir, ue: ue, message: message())
        write(line)
    }

    public func error(_ layer: LogLayer, _ message: @autoclosure () -> String, dir: LogDirection = .none, ue: String? = nil) {
        log(layer, .error, message(), dir: dir, ue: ue)
    }
    public func info(_ layer: LogLayer, _ message: @autoclosure () -> String, dir: LogDirection = .none, ue: String? = nil) {
        log(layer, .info, message(), dir: dir, ue: ue)
    }
    public func debug(_ layer: LogLayer, _ message: @autoclosure () -> String, dir: LogDirection = .none, ue: String? = nil) {
        log(layer, .debug, message(), dir: dir, ue: ue)
    }

    /// `HH:MM:SS.mmm [LAYER] DIR UE message` in local time.
    public static func format(time: timespec, layer: LogLayer, dir: LogDirection, ue: String?, message: String) -> String {
        var t = time.tv_sec
        var tmv = tm()
        localtime_r(&t, &tmv)
        let ms = Int(time.tv_nsec / 1_000_000)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec)).\(msText) [\(layer.tag)] \(dir.rawValue) \(ue ?? "-") \(message)"
    }

    private func write(_ line: String) {
        if let sink { sink(line); return }
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        lock.withLock {
            bytes.withUnsafeBytes { b in
                var off = 0
                while off < b.count {
                    let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                    if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
                    off += n
                }
            }
        }
    }

    @inline(__always) private func layerIndex(_ l: LogLayer) -> Int {
        switch l { case .runtime: 0; case .ikev2: 1; case .eap: 2; case .ipsec: 3; case .sip: 4; case .ims: 5; case .hss: 6 }
    }
}
