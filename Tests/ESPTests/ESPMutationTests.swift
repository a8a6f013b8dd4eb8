import TestSupport
import XCTest
import Crypto
import Wire
@testable import ESP

/// Packets from a phone that holds the SA keys pass the ICV, so what is inside is the
/// attacker's choice: mutated, truncated and random inner packets (IPv4 and IPv6 headers with
/// lengths, versions and next headers at their edges), sealed with the real outbound SA,
/// and mutated ESP packets, all through the ePDG's data plane. Each must be delivered or
/// dropped with a reason, never trap, and the SA must deliver the next good packet.
final class ESPMutationTests: XCTestCase {
    static let ue: [UInt8] = [198, 51, 100, 7]

    func testAuthenticatedGarbageAndMutatedESPNeverTrap() throws {
        var rng = SeededRandom(seed: 0xE5B_0001)
        let t = try ESPTransform(encryption: .ENCR_AES_GCM_16(keyBits: 128), encryptionKey: SecureRandom.bytes(20), integrity: nil, integrityKey: [])
        var plane = ESPDataPlane()
        plane.sad.addInbound(ESPSecurityAssociation(spi: 0x1234, direction: .inbound, transform: t,
                                                    trafficSelectors: [AddressRange(address: Self.ue)], owner: "001010000000001"))
        let sender = ESPSecurityAssociation(spi: 0x1234, direction: .outbound, transform: t)
        let seeds: [[UInt8]] = [
            IPPacket.udp4(src: Self.ue, dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: Array("REGISTER sip:x SIP/2.0\r\n".utf8)),
            IPPacket.udp4(src: Self.ue, dst: [198, 51, 100, 1], sport: 40000, dport: 10000, payload: [0x80, 97] + [UInt8](repeating: 1, count: 160)),
            [0x60, 0, 0, 0, 0, 8, 17, 64] + [UInt8](repeating: 0x20, count: 32) + [0, 1, 0, 2, 0, 8, 0, 0],
        ]
        var delivered = 0, dropped = 0
        for n in 0..<20_000 {
            var inner = seeds[n % seeds.count]
            switch rng.next() % 4 {
            case 0: inner = Array(inner.prefix(Int(rng.next() % UInt64(inner.count + 1))))
            case 1: for _ in 0..<(1 + Int(rng.next() % 3)) { inner[Int(rng.next() % UInt64(inner.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2: inner = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default: // IPv4 total length / IPv6 payload length / IHL set to an edge value
                if inner.count > 5 { let v: UInt16 = [0, 1, 19, 20, 0xFFFF][Int(rng.next() % 5)]; inner[2] = UInt8(v >> 8); inner[3] = UInt8(v & 0xFF) }
                if !inner.isEmpty { inner[0] = [0x40, 0x41, 0x4F, 0x60, 0x00, 0xFF][Int(rng.next() % 6)] }
            }
            var esp = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: UInt8(truncatingIfNeeded: rng.next() % 3 == 0 ? rng.next() : 4), sa: sender) }.get()
            if rng.next() % 4 == 0 { // the ESP packet itself mutated or cut
                if rng.next() % 2 == 0 { esp = Array(esp.prefix(Int(rng.next() % UInt64(esp.count)))) }
                else { esp[Int(rng.next() % UInt64(esp.count))] ^= UInt8(1 << (rng.next() % 8)) }
            }
            for r in plane.receive(udpPayload: esp) {
                if case .deliver = r { delivered += 1 } else { dropped += 1 }
            }
        }
        XCTAssertGreaterThan(dropped, 1000, "the mutations reach the checks behind the ICV")
        // The SA still delivers a good packet after all of it.
        let good = IPPacket.udp4(src: Self.ue, dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: [1, 2, 3])
        let esp = try good.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: sender) }.get()
        XCTAssertEqual(plane.receive(udpPayload: esp), [.deliver(inner: good, spi: 0x1234, owner: "001010000000001")])
        XCTAssertGreaterThan(delivered, 0)
    }
}
