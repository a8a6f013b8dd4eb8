import ESP
import IKEv2

/// For hosts running many phones on one socket (`vowifi load`): which phone a datagram is for.
/// IKE messages are keyed by the initiator's SPI (which the phone chose), ESP packets by the
/// SPI of the phone's inbound SA.
public enum PhoneDemuxKey: Hashable, Sendable {
    case ike(spiI: UInt64)
    case esp(spi: UInt32)

    /// Classifies a UDP payload received on port 500 (`natT: false`) or 4500 (`natT: true`), or a raw
    /// ESP packet (`natT: true` as well: it starts with the SPI). Nil for keepalives and garbage.
    public init?(payload: [UInt8], natT: Bool) {
        var ikeBytes = payload
        if natT {
            switch UDPEncapsulation.classify(payload) {
            case let .esp(spi): self = .esp(spi: spi); return
            case let .ike(off): ikeBytes = Array(payload[off...])
            case .keepalive, .malformed: return nil
            }
        }
        guard let h = try? IKEMessage.peekHeader(ikeBytes) else { return nil }
        self = .ike(spiI: h.spiI)
    }
}

extension Phone {
    /// The keys under which the host should route datagrams to this phone (they change once:
    /// the ESP key appears when the Child SA is installed).
    public var demuxKeys: [PhoneDemuxKey] {
        var keys: [PhoneDemuxKey] = []
        if let ike { keys.append(.ike(spiI: ike.spiI)) }
        if let child { keys.append(.esp(spi: child.inboundSPI)) }
        return keys
    }
}
