/// Demultiplexing of datagrams on the NAT-T port (RFC 3948 §2): IKE messages carry a
/// four-byte zero non-ESP marker, ESP packets start with a non-zero SPI, and a single
/// 0xFF byte is a NAT-keepalive.
public enum UDPEncapsulation {
    public enum Kind: Equatable, Sendable {
        /// An IKE message; `offset` is where it starts (after the non-ESP marker).
        case ike(offset: Int)
        /// An ESP packet (starts at offset 0 of the UDP payload).
        case esp(spi: UInt32)
        /// RFC 3948 §2.3 NAT-keepalive: ignored.
        case keepalive
        /// Too short to be either (RFC 3948 §2.2 requires at least 8 bytes for ESP).
        case malformed(String)
    }

    public static let nonESPMarker: [UInt8] = [0, 0, 0, 0]

    public static func classify(_ d: UnsafeRawBufferPointer) -> Kind {
        if d.count == 1 && d[0] == 0xFF { return .keepalive }
        if d.count < 4 { return .malformed("\(d.count)-byte datagram on the NAT-T port") }
        let spi = UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])
        if spi == 0 {
            return d.count > 4 ? .ike(offset: 4) : .malformed("non-ESP marker without an IKE message")
        }
        if d.count < 8 { return .malformed("\(d.count)-byte ESP packet (SPI and sequence need 8)") }
        return .esp(spi: spi)
    }

    public static func classify(_ d: [UInt8]) -> Kind {
        d.withUnsafeBytes { classify($0) }
    }
}
