/// The reset a host answers a TCP segment with when nothing listens on its port (RFC 9293
/// §3.10.7.1, CLOSED state). The simulated phone has no TCP stack: resetting at once lets a
/// peer that tried TCP (the IMS sending a large request, RFC 3261 §18.1.1) fall back to UDP
/// instead of waiting for its connect to time out.
extension IPPacket {
    /// The RST for an IPv4/IPv6 packet carrying TCP (no extension headers); nil for anything
    /// else, for a truncated segment, or for a segment that is itself a RST.
    public static func tcpReset(for p: [UInt8]) -> [UInt8]? {
        guard let first = p.first else { return nil }
        let v6 = first >> 4 == 6
        guard v6 || first >> 4 == 4 else { return nil }
        let hl = v6 ? 40 : Int(first & 0x0F) * 4
        guard p.count >= hl + 20, (v6 ? p[6] : p[9]) == 6 else { return nil }
        let src = v6 ? Array(p[8..<24]) : Array(p[12..<16])
        let dst = v6 ? Array(p[24..<40]) : Array(p[16..<20])
        let t = hl
        let flags = p[t + 13]
        let (rst, syn, fin, ack): (UInt8, UInt8, UInt8, UInt8) = (0x04, 0x02, 0x01, 0x10)
        guard flags & rst == 0 else { return nil }
        let dataOffset = Int(p[t + 12] >> 4) * 4
        let total = v6 ? 40 + (Int(p[4]) << 8 | Int(p[5])) : Int(p[2]) << 8 | Int(p[3])
        let dataLength = max(0, min(total, p.count) - t - dataOffset)
        func u32(_ o: Int) -> UInt32 { UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3]) }
        var seg = [UInt8](repeating: 0, count: 20)
        seg[0] = p[t + 2]; seg[1] = p[t + 3]          // our port (their destination)
        seg[2] = p[t]; seg[3] = p[t + 1]              // their port
        let seq: UInt32, ackNumber: UInt32, outFlags: UInt8
        if flags & ack != 0 {
            seq = u32(t + 8); ackNumber = 0; outFlags = rst                       // <SEQ=SEG.ACK><CTL=RST>
        } else {
            let len = UInt32(dataLength) + (flags & syn != 0 ? 1 : 0) + (flags & fin != 0 ? 1 : 0)
            seq = 0; ackNumber = u32(t + 4) &+ len; outFlags = rst | ack          // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        }
        for i in 0..<4 { seg[4 + i] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * i)); seg[8 + i] = UInt8(truncatingIfNeeded: ackNumber >> (24 - 8 * i)) }
        seg[12] = 5 << 4
        seg[13] = outFlags
        let pseudo = v6 ? dst + src + [0, 0, 0, 20, 0, 0, 0, 6] : dst + src + [0, 6, 0, 20]
        let c = checksum(pseudo + seg)
        seg[16] = UInt8(c >> 8); seg[17] = UInt8(c & 0xFF)
        if v6 {
            var out = [UInt8](repeating: 0, count: 40)
            out[0] = 0x60; out[5] = 20; out[6] = 6; out[7] = 64
            out.replaceSubrange(8..<24, with: dst); out.replaceSubrange(24..<40, with: src)
            return out + seg
        }
        var out = [UInt8](repeating: 0, count: 20)
        out[0] = 0x45; out[3] = 40; out[6] = 0x40; out[8] = 64; out[9] = 6
        out.replaceSubrange(12..<16, with: dst); out.replaceSubrange(16..<20, with: src)
        let hc = checksum(out)
        out[10] = UInt8(hc >> 8); out[11] = UInt8(hc & 0xFF)
        return out + seg
    }
}
