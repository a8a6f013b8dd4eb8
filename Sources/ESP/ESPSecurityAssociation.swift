import Crypto

/// One direction of an ESP Child SA (RFC 4303 §3): its SPI, transforms and keys, the
/// sequence number state, lifetimes and counters. Owned by one event loop (the UE's
/// shard), so it needs no lock on the hot path.
public final class ESPSecurityAssociation: @unchecked Sendable {
    // @unchecked: confined to the event loop that owns the UE (see Runtime's sharding).
    public enum Direction: String, Sendable { case inbound = "in", outbound = "out" }

    public let spi: UInt32
    public let direction: Direction
    public let transform: ESPTransform
    /// Extended sequence numbers (RFC 4304) negotiated for this SA.
    public let esn: Bool
    /// Outer tunnel endpoints as text (for logs and the `ipsec` listing).
    public let tunnelSource: String, tunnelDestination: String
    /// Inner addresses allowed as source (inbound) or routed to this SA (outbound).
    public let trafficSelectors: [AddressRange]
    public var lifetime: ESPLifetime
    public internal(set) var counters = ESPCounters()
    /// An owner tag (the UE's IMSI or id) carried into log lines and captures.
    public let owner: String

    /// Outbound: the last sequence number sent. Inbound: unused.
    var sequence: UInt64 = 0
    var window: AntiReplayWindow
    let createdAt: Double
    /// Set once the soft lifetime was reported, so IKE is asked to rekey only once.
    var rekeyRequested = false

    public init(spi: UInt32, direction: Direction, transform: ESPTransform, esn: Bool = false,
                tunnelSource: String = "", tunnelDestination: String = "",
                trafficSelectors: [AddressRange] = [], lifetime: ESPLifetime = ESPLifetime(),
                replayWindow: Int = 1024, owner: String = "", now: Double = 0) {
        self.spi = spi
        self.direction = direction
        self.transform = transform
        self.esn = esn
        self.tunnelSource = tunnelSource
        self.tunnelDestination = tunnelDestination
        self.trafficSelectors = trafficSelectors
        self.lifetime = lifetime
        self.window = AntiReplayWindow(size: replayWindow)
        self.owner = owner
        self.createdAt = now
    }

    /// The last sequence number used (outbound) or the top of the window (inbound).
    public var lastSequence: UInt64 { direction == .outbound ? sequence : window.top }
}

/// Soft and hard limits (RFC 4301 §4.4.2.1). Reaching a soft limit asks IKE to rekey;
/// reaching a hard limit stops the SA.
public struct ESPLifetime: Sendable, Equatable {
    public var softSeconds: Double?, hardSeconds: Double?
    public var softBytes: UInt64?, hardBytes: UInt64?

    public init(softSeconds: Double? = nil, hardSeconds: Double? = nil, softBytes: UInt64? = nil, hardBytes: UInt64? = nil) {
        self.softSeconds = softSeconds; self.hardSeconds = hardSeconds
        self.softBytes = softBytes; self.hardBytes = hardBytes
    }
}
