import Wire

/// The parts of an IPv4/IPv6 packet the analyzer needs: protocol, addresses and payload
/// (IPv6 hop-by-hop, routing and destination options headers skipped).
struct IPView {
    var version: Int
    var proto: UInt8
    var src: IPAddress
    var dst: IPAddress
    var payload: [UInt8]

    init?(_ p: [UInt8]) {
        guard let first = p.first else { return nil }
        version = Int(first >> 4)
        if version == 4 {
            let hl = Int(first & 0x0F) * 4
            guard hl >= 20, p.count >= hl else { return nil }
            let total = min(p.count, Int(p[2]) << 8 | Int(p[3]))
            guard total >= hl, let s = IPAddress(bytes: Array(p[12..<16])), let d = IPAddress(bytes: Array(p[16..<20])) else { return nil }
            proto = p[9]; src = s; dst = d
            payload = Array(p[hl..<total])
        } else if version == 6 {
            guard p.count >= 40, let s = IPAddress(bytes: Array(p[8..<24])), let d = IPAddress(bytes: Array(p[24..<40])) else { return nil }
            src = s; dst = d
            let end = min(p.count, 40 + (Int(p[4]) << 8 | Int(p[5])))
            var next = p[6], off = 40
            while [0, 43, 60].contains(next) {
                guard off + 8 <= end else { return nil }
                next = p[off]
                off += (Int(p[off + 1]) + 1) * 8
            }
            guard off <= end else { return nil }
            proto = next
            payload = Array(p[off..<end])
        } else { return nil }
    }

    /// UDP ports and payload.
    var udp: (sport: UInt16, dport: UInt16, payload: [UInt8])? {
        guard proto == 17, payload.count >= 8 else { return nil }
        let len = min(payload.count, max(8, Int(payload[4]) << 8 | Int(payload[5])))
        return (UInt16(payload[0]) << 8 | UInt16(payload[1]), UInt16(payload[2]) << 8 | UInt16(payload[3]), Array(payload[8..<len]))
    }

    /// TCP ports and segment data.
    var tcp: (sport: UInt16, dport: UInt16, payload: [UInt8])? {
        guard proto == 6, payload.count >= 20 else { return nil }
        let off = Int(payload[12] >> 4) * 4
        guard off >= 20, off <= payload.count else { return nil }
        return (UInt16(payload[0]) << 8 | UInt16(payload[1]), UInt16(payload[2]) << 8 | UInt16(payload[3]), Array(payload[off...]))
    }
}
