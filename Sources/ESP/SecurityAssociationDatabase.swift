/// The SA database of one event loop (RFC 4301 §4.4.2): inbound SAs by SPI, outbound
/// SAs by the inner address they serve (the UE's IPv4 address or IPv6 prefix). During a
/// rekey both old and new inbound SAs are present, so no packet in flight is lost; the
/// outbound entry moves to the new SA at once.
public struct SecurityAssociationDatabase: Sendable {
    public private(set) var inbound: [UInt32: ESPSecurityAssociation] = [:]
    private var outboundByV4: [UInt32: ESPSecurityAssociation] = [:]
    private var outboundByV6Prefix: [UInt64: ESPSecurityAssociation] = [:]
    public private(set) var unknownSPIDrops: UInt64 = 0

    public init() {}

    public mutating func addInbound(_ sa: ESPSecurityAssociation) { inbound[sa.spi] = sa }

    /// Routes every inner address in the SA's traffic selectors (single addresses; an IPv6
    /// selector is keyed by its /64) to this outbound SA, replacing any older SA.
    public mutating func addOutbound(_ sa: ESPSecurityAssociation) {
        for ts in sa.trafficSelectors {
            if ts.isIPv6 { outboundByV6Prefix[Self.prefix64(ts.start)] = sa }
            else { outboundByV4[Self.v4(ts.start)] = sa }
        }
    }

    public mutating func removeInbound(spi: UInt32) { inbound[spi] = nil }

    /// Removes an outbound SA wherever it is still routed.
    public mutating func removeOutbound(spi: UInt32) {
        outboundByV4 = outboundByV4.filter { $0.value.spi != spi }
        outboundByV6Prefix = outboundByV6Prefix.filter { $0.value.spi != spi }
    }

    public func inbound(spi: UInt32) -> ESPSecurityAssociation? { inbound[spi] }

    /// The outbound SA with this SPI while it is routed (a scan: for reports, not the packet path).
    public func outbound(spi: UInt32) -> ESPSecurityAssociation? {
        outboundByV4.values.first { $0.spi == spi } ?? outboundByV6Prefix.values.first { $0.spi == spi }
    }

    public mutating func countUnknownSPI() { unknownSPIDrops += 1 }

    /// The outbound SA for an inner packet's destination address, or nil.
    public func outbound(forInner p: UnsafeRawBufferPointer) -> ESPSecurityAssociation? {
        guard let v = InnerPacket.version(p) else { return nil }
        let o = InnerPacket.destinationOffset(version: v)
        if v == 4 {
            let a = UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3])
            return outboundByV4[a]
        }
        var k: UInt64 = 0
        for i in 0..<8 { k = k << 8 | UInt64(p[o + i]) }
        return outboundByV6Prefix[k]
    }

    /// Per-UE accounting: the counters of every SA (in and out) owned by `owner` (the IMSI),
    /// summed, drops merged by reason.
    public func counters(owner: String) -> (inbound: ESPCounters, outbound: ESPCounters) {
        var i = ESPCounters(), o = ESPCounters()
        for sa in inbound.values where sa.owner == owner { i.add(sa.counters) }
        var seen = Set<UInt32>()
        for sa in Array(outboundByV4.values) + Array(outboundByV6Prefix.values) where sa.owner == owner && seen.insert(sa.spi).inserted {
            o.add(sa.counters)
        }
        return (i, o)
    }

    public var outboundCount: Int { Set(outboundByV4.values.map(\.spi)).union(outboundByV6Prefix.values.map(\.spi)).count }

    static func v4(_ a: [UInt8]) -> UInt32 { a.prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }
    static func prefix64(_ a: [UInt8]) -> UInt64 { a.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
}
