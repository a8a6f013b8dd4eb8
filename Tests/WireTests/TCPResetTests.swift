import XCTest
@testable import Wire

/// The RST a port without a listener answers (RFC 9293 §3.10.7.1), for IPv4 and IPv6.
final class TCPResetTests: XCTestCase {
    /// A TCP segment (20-byte header) in IPv4 or IPv6, with a correct checksum.
    func segment(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, data: [UInt8] = []) -> [UInt8] {
        var t = [UInt8](repeating: 0, count: 20) + data
        t[0] = UInt8(sport >> 8); t[1] = UInt8(sport & 0xFF); t[2] = UInt8(dport >> 8); t[3] = UInt8(dport & 0xFF)
        for i in 0..<4 { t[4 + i] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * i)); t[8 + i] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * i)) }
        t[12] = 5 << 4; t[13] = flags; t[14] = 0xFF; t[15] = 0xFF
        let v6 = src.count == 16
        let len = t.count
        let pseudo = v6 ? src + dst + [0, 0, UInt8(len >> 8), UInt8(len & 0xFF), 0, 0, 0, 6] : src + dst + [0, 6, UInt8(len >> 8), UInt8(len & 0xFF)]
        let c = IPPacket.checksum(pseudo + t)
        t[16] = UInt8(c >> 8); t[17] = UInt8(c & 0xFF)
        if v6 {
            var h = [UInt8](repeating: 0, count: 40)
            h[0] = 0x60; h[4] = UInt8(len >> 8); h[5] = UInt8(len & 0xFF); h[6] = 6; h[7] = 64
            h.replaceSubrange(8..<24, with: src); h.replaceSubrange(24..<40, with: dst)
            return h + t
        }
        var h = [UInt8](repeating: 0, count: 20)
        h[0] = 0x45; h[2] = UInt8((20 + len) >> 8); h[3] = UInt8((20 + len) & 0xFF); h[8] = 64; h[9] = 6
        h.replaceSubrange(12..<16, with: src); h.replaceSubrange(16..<20, with: dst)
        let hc = IPPacket.checksum(h)
        h[10] = UInt8(hc >> 8); h[11] = UInt8(hc & 0xFF)
        return h + t
    }

    func u32(_ p: [UInt8], _ o: Int) -> UInt32 { UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3]) }

    func testSynGetsRstAckIPv4() throws {
        let pcscf: [UInt8] = [192, 168, 4, 1], ue: [UInt8] = [192, 168, 4, 10]
        let syn = segment(src: pcscf, dst: ue, sport: 40001, dport: 5060, seq: 0xFFFF_FFFF, ack: 0, flags: 0x02)
        let r = try XCTUnwrap(IPPacket.tcpReset(for: syn))
        XCTAssertEqual(r.count, 40)
        XCTAssertEqual(IPPacket.checksum(r[0..<20]), 0, "IPv4 header checksum")
        XCTAssertEqual(Array(r[12..<16]), ue); XCTAssertEqual(Array(r[16..<20]), pcscf)
        XCTAssertEqual(r[9], 6)
        let t = Array(r[20...])
        XCTAssertEqual(UInt16(t[0]) << 8 | UInt16(t[1]), 5060)
        XCTAssertEqual(UInt16(t[2]) << 8 | UInt16(t[3]), 40001)
        XCTAssertEqual(u32(t, 4), 0)
        XCTAssertEqual(u32(t, 8), 0, "ACK = SEQ + 1 (SYN counts one), wrapping")
        XCTAssertEqual(t[13], 0x14, "RST, ACK")
        XCTAssertEqual(IPPacket.checksum(ue + pcscf + [0, 6, 0, 20] + t), 0, "TCP checksum")
    }

    func testSegmentWithAckGetsRstAtItsAckIPv6AndRstGetsNothing() throws {
        let a = [UInt8](repeating: 0x20, count: 16), b = [UInt8](repeating: 0x30, count: 16)
        let data = segment(src: a, dst: b, sport: 1, dport: 2, seq: 100, ack: 777, flags: 0x18, data: [1, 2, 3])
        let r = try XCTUnwrap(IPPacket.tcpReset(for: data))
        XCTAssertEqual(r.count, 60)
        XCTAssertEqual(Array(r[8..<24]), b)
        let t = Array(r[40...])
        XCTAssertEqual(u32(t, 4), 777)
        XCTAssertEqual(t[13], 0x04)
        XCTAssertEqual(IPPacket.checksum(b + a + [0, 0, 0, 20, 0, 0, 0, 6] + t), 0)
        XCTAssertNil(IPPacket.tcpReset(for: r), "never answer a RST")
        XCTAssertNil(IPPacket.tcpReset(for: IPPacket.udp4(src: [1, 1, 1, 1], dst: [2, 2, 2, 2], sport: 1, dport: 2, payload: [])))
        XCTAssertNil(IPPacket.tcpReset(for: Array(data.prefix(50))), "truncated")
    }
}
