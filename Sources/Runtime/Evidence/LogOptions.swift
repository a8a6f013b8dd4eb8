import Foundation

/// The callbox `log_options` string as its users write it:
/// `all.level=error,ikev2.level=debug,ikev2.payload=1,ikev2.key=1,sip.level=debug,sip.payload=1,
/// ipsec.max_size=64,time=full`. Per layer: `level` (none|error|info|debug), `payload`
/// (decoded message trees / whole SIP messages), `key` (SK_* and ESP keys), `max_size`
/// (bytes of any value dumped in hex; 0 = lengths only). Global: `time=short|full|sec`,
/// `time.us`, `file.rotate=<size>` (bytes, k/M/G suffixes). `all.` applies to every layer;
/// unknown layers (the callbox's nas, s1ap...) and options are ignored, as they belong to
/// the callbox.
public struct LogOptions: Sendable, Equatable {
    public enum TimeFormat: String, Sendable, Equatable {
        /// `HH:MM:SS.mmm` (the default).
        case short
        /// `YYYY-MM-DD HH:MM:SS.mmm`.
        case full
        /// Seconds since 1970 with milliseconds.
        case sec
    }

    public struct Layer: Sendable, Equatable {
        public var level: LogLevel = .error
        public var payload = false
        public var key = false
        /// nil: values are dumped whole.
        public var maxSize: Int?
    }

    public private(set) var layers: [LogLayer: Layer] = [:]
    public var time: TimeFormat = .short
    public var microseconds = false
    /// `file.rotate=<size>`: the log starts a new file `<name>.1`, `.2`... past this size.
    public var rotateSize: Int?
    /// Items that were not understood (reported once by `vowifi run`).
    public private(set) var ignored: [String] = []

    public init() {
        for l in LogLayer.allCases { layers[l] = Layer() }
    }

    public init(parsing text: String) {
        self.init()
        // `all.` first, so `ikev2.level=debug,all.level=error` still leaves ikev2 at debug.
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        let sorted = items.filter { $0.hasPrefix("all.") } + items.filter { !$0.hasPrefix("all.") }
        for item in sorted {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            let key = kv[0], value = kv.count == 2 ? kv[1] : "1"
            switch key {
            case "time":
                if let t = TimeFormat(rawValue: value) { time = t } else { ignored.append(item) }
                continue
            case "time.us": microseconds = value != "0"; continue
            case "file.rotate":
                if let n = Self.parseSize(value) { rotateSize = n } else { ignored.append(item) }
                continue
            default: break
            }
            guard let dot = key.lastIndex(of: ".") else { ignored.append(item); continue }
            let name = String(key[..<dot]), option = String(key[key.index(after: dot)...])
            let targets: [LogLayer]
            if name == "all" { targets = LogLayer.allCases }
            else if let l = LogLayer(rawValue: name) { targets = [l] }
            else if name == "epdg" { targets = [.ikev2, .eap] }      // the callbox's ePDG layer
            else if name == "media" || name == "rx" || name == "cx" { targets = [.ims] }
            else { continue }                                          // a callbox-only layer
            for l in targets {
                var s = layers[l] ?? Layer()
                switch option {
                case "level":
                    guard let v = LogLevel(name: value) else { ignored.append(item); break }
                    s.level = v
                case "payload": s.payload = value != "0"
                case "key": s.key = value != "0"
                case "max_size": s.maxSize = Int(value)
                case "verbose", "crypto": break
                default: ignored.append(item)
                }
                layers[l] = s
            }
        }
    }

    public subscript(_ l: LogLayer) -> Layer { layers[l] ?? Layer() }

    public func level(_ l: LogLayer) -> LogLevel { self[l].level }
    public func payload(_ l: LogLayer) -> Bool { self[l].payload }
    public func key(_ l: LogLayer) -> Bool { self[l].key }

    /// The levels, for `Logger(levels:)`.
    public var levels: [LogLayer: LogLevel] { layers.mapValues(\.level) }

    /// "10M", "512k", "1000000".
    public static func parseSize(_ s: String) -> Int? {
        guard let last = s.last else { return nil }
        let mult: Int
        switch last {
        case "k", "K": mult = 1 << 10
        case "m", "M": mult = 1 << 20
        case "g", "G": mult = 1 << 30
        default: return Int(s)
        }
        return Int(s.dropLast()).map { $0 * mult }
    }
}
