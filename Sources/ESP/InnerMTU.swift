import Wire

/// What to do with an inner packet too big for the tunnel (RFC 4459): ESP adds its
/// overhead and the outer IP/UDP headers, and with `dont_fragment` the outer packet may
/// not be fragmented. IPv4 packets with DF and all IPv6 packets get an ICMP "fragmentation
/// needed" / ICMPv6 "packet too big" back to their sender (RFC 792, RFC 1191, RFC 4443);
/// IPv4 packets without DF are fragmented before encryption (RFC 791).
public enum InnerMTU {
    public enum Decision: Equatable, Sendable {
        case fits
        /// Send these fragments instead (each fits).
        case fragments([[UInt8]])
        /// Drop it and send this ICMP/ICMPv6 error back toward the packet's source.
        case tooBig(icmp: [UInt8])
        case malformed
    }

    /// `maxInner` is the largest inner packet that fits the path; `gateway` is the address
    /// the ICMP error comes from (the ePDG's address on the PDN, e.g. the P-CSCF/gateway).
    public static func check(_ p: [UInt8], maxInner: Int, gatewayV4: [UInt8], gatewayV6: [UInt8]) -> Decision {
        guard p.count > maxInner else { return .fits }
        guard let first = p.first else { return .malformed }
        switch first >> 4 {
        case 4:
            guard p.count >= 20 else { return .malformed }
            let df = p[6] & 0x40 != 0
            if df { return .tooBig(icmp: fragmentationNeeded(p, mtu: maxInner, from: gatewayV4)) }
            return fragment(p, mtu: maxInner).map { .fragments($0) } ?? .malformed
        case 6:
            guard p.count >= 40 else { return .malformed }
            return .tooBig(icmp: packetTooBig(p, mtu: max(1280, maxInner), from: gatewayV6))
        default:
            return .malformed
        }
    }

    /// ICMP type 3 code 4 with the next-hop MTU (RFC 1191 §4), quoting the header and 8 bytes.
    public static func fragmentationNeeded(_ p: [UInt8], mtu: Int, from src: [UInt8]) -> [UInt8] {
        let hl = Int(p[0] & 0x0F) * 4
        let quote = Array(p.prefix(min(p.count, hl + 8)))
        var icmp: [UInt8] = [3, 4, 0, 0, 0, 0, UInt8(mtu >> 8 & 0xFF), UInt8(mtu & 0xFF)] + quote
        let c = IPPacket.checksum(icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let dst = Array(p[12..<16])
        let total = 20 + icmp.count
        var ip: [UInt8] = [0x45, 0xC0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0x40, 0, 64, 1, 0, 0] + src + dst
        let hc = IPPacket.checksum(ip)
        ip[10] = UInt8(hc >> 8); ip[11] = UInt8(hc & 0xFF)
        return ip + icmp
    }

    /// ICMPv6 type 2 "Packet Too Big" with the MTU (RFC 4443 §3.2), quoting as much of the
    /// packet as fits in 1280 bytes.
    public static func packetTooBig(_ p: [UInt8], mtu: Int, from src: [UInt8]) -> [UInt8] {
        let dst = Array(p[8..<24])
        let quote = Array(p.prefix(1280 - 40 - 8))
        var icmp: [UInt8] = [2, 0, 0, 0, UInt8(mtu >> 24 & 0xFF), UInt8(mtu >> 16 & 0xFF), UInt8(mtu >> 8 & 0xFF), UInt8(mtu & 0xFF)] + quote
        let len = icmp.count
        let pseudo = src + dst + [UInt8(len >> 24 & 0xFF), UInt8(len >> 16 & 0xFF), UInt8(len >> 8 & 0xFF), UInt8(len & 0xFF), 0, 0, 0, 58]
        let c = IPPacket.checksum(pseudo + icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(len >> 8), UInt8(len & 0xFF), 58, 64] + src + dst
        return ip + icmp
    }

    /// RFC 791 fragmentation of an IPv4 packet into pieces of at most `mtu` bytes.
    public static func fragment(_ p: [UInt8], mtu: Int) -> [[UInt8]]? {
        let hl = Int(p[0] & 0x0F) * 4
        let total = Int(p[2]) << 8 | Int(p[3])
        guard hl >= 20, total <= p.count, total > hl, mtu >= hl + 8 else { return nil }
        let payload = Array(p[hl..<total])
        let step = (mtu - hl) / 8 * 8
        let baseOffset = (Int(p[6] & 0x1F) << 8 | Int(p[7])) * 8
        let moreAfter = p[6] & 0x20 != 0
        var out: [[UInt8]] = []
        var off = 0
        while off < payload.count {
            let chunk = Array(payload[off..<min(payload.count, off + step)])
            var h = Array(p[0..<hl])
            let len = hl + chunk.count
            h[2] = UInt8(len >> 8); h[3] = UInt8(len & 0xFF)
            let last = off + chunk.count >= payload.count
            let fo = (baseOffset + off) / 8
            h[6] = UInt8((fo >> 8) & 0x1F) | (last && !moreAfter ? 0 : 0x20)
            h[7] = UInt8(fo & 0xFF)
            h[10] = 0; h[11] = 0
            let c = IPPacket.checksum(h)
            h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xFF)
            out.append(h + chunk)
            off += chunk.count
        }
        return out
    }
}
