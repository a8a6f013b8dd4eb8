/// Builders for the IPv4/IPv6 + UDP headers the in-process inner path and the capture
/// writer need (RFC 791, RFC 8200, RFC 768), with checksums.
public enum IPPacket {
    /// An IPv4/UDP packet from `src` to `dst` (4-byte addresses) carrying `payload`.
    public static func udp4(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, payload: [UInt8], ttl: UInt8 = 64, id: UInt16 = 0) -> [UInt8] {
        let total = 20 + 8 + payload.count
        var p = [UInt8](repeating: 0, count: total)
        p[0] = 0x45
        p[2] = UInt8(total >> 8); p[3] = UInt8(total & 0xFF)
        p[4] = UInt8(id >> 8); p[5] = UInt8(id & 0xFF)
        p[6] = 0x40                     // DF
        p[8] = ttl; p[9] = 17
        p.replaceSubrange(12..<16, with: src); p.replaceSubrange(16..<20, with: dst)
        let hc = checksum(p[0..<20])
        p[10] = UInt8(hc >> 8); p[11] = UInt8(hc & 0xFF)
        writeUDP(&p, at: 20, sport: sport, dport: dport, payload: payload)
        let pseudo = src + dst + [0, 17, UInt8((8 + payload.count) >> 8), UInt8((8 + payload.count) & 0xFF)]
        setUDPChecksum(&p, at: 20, pseudo: pseudo)
        return p
    }

    /// An IPv6/UDP packet from `src` to `dst` (16-byte addresses) carrying `payload`.
    public static func udp6(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, payload: [UInt8], hopLimit: UInt8 = 64) -> [UInt8] {
        let ulen = 8 + payload.count
        var p = [UInt8](repeating: 0, count: 40 + ulen)
        p[0] = 0x60
        p[4] = UInt8(ulen >> 8); p[5] = UInt8(ulen & 0xFF)
        p[6] = 17; p[7] = hopLimit
        p.replaceSubrange(8..<24, with: src); p.replaceSubrange(24..<40, with: dst)
        writeUDP(&p, at: 40, sport: sport, dport: dport, payload: payload)
        let pseudo = src + dst + [0, 0, UInt8(ulen >> 8), UInt8(ulen & 0xFF), 0, 0, 0, 17]
        setUDPChecksum(&p, at: 40, pseudo: pseudo)
        return p
    }

    /// A parsed UDP datagram inside an IPv4 or IPv6 packet (no extension headers).
    public struct UDPView: Equatable, Sendable {
        public var version: Int
        public var src: [UInt8], dst: [UInt8]
        public var sport: UInt16, dport: UInt16
        public var payload: [UInt8]
    }

    /// Parses an IPv4/IPv6 packet carrying UDP; nil for anything else or a truncated packet.
    public static func parseUDP(_ p: [UInt8]) -> UDPView? {
        guard let first = p.first else { return nil }
        let version = Int(first >> 4)
        let hl: Int, proto: UInt8, src: [UInt8], dst: [UInt8]
        if version == 4 {
            guard p.count >= 20 else { return nil }
            hl = Int(first & 0x0F) * 4
            proto = p[9]; src = Array(p[12..<16]); dst = Array(p[16..<20])
        } else if version == 6 {
            guard p.count >= 40 else { return nil }
            hl = 40; proto = p[6]; src = Array(p[8..<24]); dst = Array(p[24..<40])
        } else { return nil }
        guard proto == 17, p.count >= hl + 8 else { return nil }
        let ulen = Int(p[hl + 4]) << 8 | Int(p[hl + 5])
        guard ulen >= 8, hl + ulen <= p.count else { return nil }
        return UDPView(version: version, src: src, dst: dst,
                       sport: UInt16(p[hl]) << 8 | UInt16(p[hl + 1]),
                       dport: UInt16(p[hl + 2]) << 8 | UInt16(p[hl + 3]),
                       payload: Array(p[(hl + 8)..<(hl + ulen)]))
    }

    private static func writeUDP(_ p: inout [UInt8], at o: Int, sport: UInt16, dport: UInt16, payload: [UInt8]) {
        let len = 8 + payload.count
        p[o] = UInt8(sport >> 8); p[o + 1] = UInt8(sport & 0xFF)
        p[o + 2] = UInt8(dport >> 8); p[o + 3] = UInt8(dport & 0xFF)
        p[o + 4] = UInt8(len >> 8); p[o + 5] = UInt8(len & 0xFF)
        p.replaceSubrange((o + 8)..<(o + 8 + payload.count), with: payload)
    }

    private static func setUDPChecksum(_ p: inout [UInt8], at o: Int, pseudo: [UInt8]) {
        var c = checksum(pseudo + p[o...])
        if c == 0 { c = 0xFFFF }
        p[o + 6] = UInt8(c >> 8); p[o + 7] = UInt8(c & 0xFF)
    }

    /// The Internet checksum (RFC 1071).
    public static func checksum<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var sum: UInt32 = 0
        var hi = true
        for b in bytes {
            sum &+= hi ? UInt32(b) << 8 : UInt32(b)
            hi.toggle()
        }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
