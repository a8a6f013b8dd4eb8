/// The sans-I/O ESP data plane of one event loop: ESP-in-UDP packets in, inner IP
/// packets out (toward the TUN or the in-process IMS path), and back. The runtime owns
/// the sockets and the TUN; this owns the SAs and the decisions.
public struct ESPDataPlane: Sendable {
    public var sad = SecurityAssociationDatabase()
    /// Packets with an unknown SPI, and malformed datagrams on the NAT-T port.
    public private(set) var unknownSPI: UInt64 = 0

    public init() {}

    public enum Inbound: Equatable, Sendable {
        /// Deliver this inner packet (from `sa`, for logs and per-UE counters).
        case deliver(inner: [UInt8], spi: UInt32, owner: String)
        /// The datagram was an IKE message (after the non-ESP marker): hand it to IKE.
        case ike(message: [UInt8])
        case keepalive
        case dropped(spi: UInt32?, reason: ESPDropReason)
        /// The SA reached its soft lifetime: IKE should rekey it (delivered as well).
        case rekeyNeeded(spi: UInt32)
    }

    /// Handles one UDP payload received on the NAT-T port.
    public mutating func receive(udpPayload: [UInt8]) -> [Inbound] {
        switch UDPEncapsulation.classify(udpPayload) {
        case .keepalive: return [.keepalive]
        case let .ike(offset): return [.ike(message: Array(udpPayload[offset...]))]
        case .malformed: unknownSPI += 1; return [.dropped(spi: nil, reason: .truncated)]
        case let .esp(spi):
            guard let sa = sad.inbound(spi: spi) else {
                unknownSPI += 1; sad.countUnknownSPI()
                return [.dropped(spi: spi, reason: .unknownSPI)]
            }
            var buf = udpPayload
            let outcome = buf.withUnsafeMutableBytes { ESPPacket.open($0, sa: sa) }
            switch outcome {
            case let .dropped(reason): return [.dropped(spi: spi, reason: reason)]
            case let .inner(range, nextHeader, _):
                if nextHeader == 59 { return [] }
                var out: [Inbound] = [.deliver(inner: Array(buf[range]), spi: spi, owner: sa.owner)]
                if let soft = sa.lifetime.softBytes, sa.counters.bytes >= soft, !sa.rekeyRequested {
                    sa.rekeyRequested = true
                    out.append(.rekeyNeeded(spi: spi))
                }
                return out
            }
        }
    }

    /// Encrypts an inner packet read from the TUN (or the in-process path) toward the UE
    /// whose address it is sent to. Returns the UDP payload and the SA it used.
    public mutating func send(inner: [UInt8]) -> Result<(payload: [UInt8], sa: ESPSecurityAssociation), ESPDropReason> {
        inner.withUnsafeBytes { p in
            guard let v = InnerPacket.version(p) else { return .failure(.unsupportedInner) }
            guard let sa = sad.outbound(forInner: p) else { return .failure(.noOutboundSA) }
            return ESPPacket.seal(p, nextHeader: InnerPacket.nextHeader(version: v), sa: sa).map { ($0, sa) }
        }
    }
}
