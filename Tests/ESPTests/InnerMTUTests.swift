import Wire
import XCTest
@testable import ESP

/// Inner packets too big for the tunnel: ICMP errors per RFC 792/1191 and RFC 4443, and
/// RFC 791 fragments that reassemble to the original.
final class InnerMTUTests: XCTestCase {
    let gw4: [UInt8] = [198, 51, 100, 1]
    let gw6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]

    func testFitsIsUntouched() {
        let p = IPPacket.udp4(src: [198, 51, 100, 1], dst: [198, 51, 100, 7], sport: 1, dport: 2, payload: [UInt8](repeating: 1, count: 100))
        XCTAssertEqual(InnerMTU.check(p, maxInner: 1400, gatewayV4: gw4, gatewayV6: gw6), .fits)
    }

    func testIPv4WithDFGetsFragmentationNeeded() throws {
        let p = IPPacket.udp4(src: [198, 51, 100, 1], dst: [198, 51, 100, 7], sport: 5060, dport: 5060, payload: [UInt8](repeating: 7, count: 1500))
        XCTAssertEqual(p[6] & 0x40, 0x40)   // the builder sets DF
        guard case let .tooBig(icmp) = InnerMTU.check(p, maxInner: 1400, gatewayV4: gw4, gatewayV6: gw6) else { return XCTFail() }
        XCTAssertEqual(IPPacket.checksum(icmp[0..<20]), 0)          // IPv4 header checksum
        XCTAssertEqual(Array(icmp[12..<16]), gw4)                     // from the gateway
        XCTAssertEqual(Array(icmp[16..<20]), [198, 51, 100, 1])       // to the packet's source
        XCTAssertEqual(icmp[9], 1)                                    // ICMP
        XCTAssertEqual(Array(icmp[20..<22]), [3, 4])                  // type 3 code 4
        XCTAssertEqual(Int(icmp[26]) << 8 | Int(icmp[27]), 1400)      // next-hop MTU
        XCTAssertEqual(IPPacket.checksum(icmp[20...]), 0)             // ICMP checksum
        XCTAssertEqual(Array(icmp[28..<56]), Array(p[0..<28]))        // quotes header + 8 bytes
    }

    func testIPv4WithoutDFIsFragmentedAndReassembles() throws {
        var p = IPPacket.udp4(src: [198, 51, 100, 1], dst: [198, 51, 100, 7], sport: 1, dport: 2, payload: (0..<3000).map { UInt8($0 & 0xFF) })
        p[6] &= ~0x40
        p[10] = 0; p[11] = 0
        let c = IPPacket.checksum(p[0..<20]); p[10] = UInt8(c >> 8); p[11] = UInt8(c & 0xFF)
        guard case let .fragments(parts) = InnerMTU.check(p, maxInner: 1400, gatewayV4: gw4, gatewayV6: gw6) else { return XCTFail() }
        XCTAssertEqual(parts.count, 3)
        var payload: [UInt8] = []
        for (i, f) in parts.enumerated() {
            XCTAssertLessThanOrEqual(f.count, 1400)
            XCTAssertEqual(IPPacket.checksum(f[0..<20]), 0)
            let mf = f[6] & 0x20 != 0
            XCTAssertEqual(mf, i < parts.count - 1)
            XCTAssertEqual((Int(f[6] & 0x1F) << 8 | Int(f[7])) * 8, payload.count)
            payload += f[20...]
        }
        XCTAssertEqual(payload, Array(p[20...]))
    }

    func testIPv6GetsPacketTooBig() throws {
        let src = [0x20, 0x01, 0x0d, 0xb8, 0, 4] + [UInt8](repeating: 0, count: 9) + [1]
        let dst = [0x20, 0x01, 0x0d, 0xb8, 0, 4, 0, 1] + [UInt8](repeating: 0, count: 7) + [1]
        let p = IPPacket.udp6(src: src, dst: dst, sport: 1, dport: 2, payload: [UInt8](repeating: 0, count: 1500))
        guard case let .tooBig(icmp) = InnerMTU.check(p, maxInner: 1400, gatewayV4: gw4, gatewayV6: gw6) else { return XCTFail() }
        XCTAssertEqual(icmp[6], 58)                                   // ICMPv6
        XCTAssertEqual(Array(icmp[24..<40]), src)                     // back to the source
        XCTAssertEqual(icmp[40], 2)                                   // Packet Too Big
        XCTAssertEqual(Int(icmp[44]) << 24 | Int(icmp[45]) << 16 | Int(icmp[46]) << 8 | Int(icmp[47]), 1400)
        XCTAssertLessThanOrEqual(icmp.count, 1280)
        let len = icmp.count - 40
        let pseudo = gw6 + src + [0, 0, UInt8(len >> 8), UInt8(len & 0xFF), 0, 0, 0, 58]
        XCTAssertEqual(IPPacket.checksum(pseudo + icmp[40...]), 0)
    }
}
