/// Per-SA packet accounting, with drops counted by reason so a tester can see *why*
/// traffic is lost (RFC 4303 §3.4 auditable events).
public struct ESPCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var drops: [ESPDropReason: UInt64] = [:]

    public init() {}

    public mutating func drop(_ reason: ESPDropReason) { drops[reason, default: 0] += 1 }
    public var totalDrops: UInt64 { drops.values.reduce(0, +) }

    /// Adds another SA's counters (per-UE totals).
    public mutating func add(_ c: ESPCounters) {
        packets += c.packets; bytes += c.bytes
        for (r, n) in c.drops { drops[r, default: 0] += n }
    }
}

/// Why an ESP packet was discarded.
public enum ESPDropReason: String, Error, Sendable, CaseIterable, Hashable {
    case unknownSPI = "unknown SPI"
    case truncated = "truncated packet"
    case replayed = "replayed sequence number"
    case outsideWindow = "sequence number below the replay window"
    case icvMismatch = "ICV mismatch"
    case badPadding = "bad padding"
    case badLength = "ciphertext length not a multiple of the block size or of 4 octets (RFC 4303 §2.4)"
    case sourceNotAllowed = "inner source address outside the SA's traffic selector"
    case unsupportedInner = "inner packet is not IPv4 or IPv6"
    case sequenceExhausted = "sequence number space exhausted"
    case expired = "SA hard lifetime reached"
    case noOutboundSA = "no SA for the inner destination"
}
