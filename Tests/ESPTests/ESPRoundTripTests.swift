import XCTest
import Crypto
import Wire
@testable import ESP

/// Every transform pair round-trips, and every kind of bad packet is dropped, counted,
/// and leaves the SA working for the next good packet.
final class ESPRoundTripTests: XCTestCase {
    static let ueAddress: [UInt8] = [198, 51, 100, 7]

    private func pair(_ enc: EncryptionAlgorithm, _ integ: IntegrityAlgorithm?, esn: Bool = false) throws -> (ESPSecurityAssociation, ESPSecurityAssociation) {
        let ek = SecureRandom.bytes(enc.keyMaterialLength), ik = SecureRandom.bytes(integ?.keyLength ?? 0)
        let t = try ESPTransform(encryption: enc, encryptionKey: ek, integrity: integ, integrityKey: ik)
        let ts = [AddressRange(address: Self.ueAddress)]
        return (ESPSecurityAssociation(spi: 0xC0FFEE01, direction: .outbound, transform: t, esn: esn, trafficSelectors: ts),
                ESPSecurityAssociation(spi: 0xC0FFEE01, direction: .inbound, transform: t, esn: esn, trafficSelectors: ts))
    }

    private func innerPacket(_ n: Int) -> [UInt8] {
        IPPacket.udp4(src: Self.ueAddress, dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: [UInt8](repeating: 0x41, count: n))
    }

    func testAllTransformsRoundTrip() throws {
        let combos: [(EncryptionAlgorithm, IntegrityAlgorithm?)] = [
            (.ENCR_NULL, .AUTH_HMAC_SHA1_96),
            (.ENCR_AES_CBC(keyBits: 128), .AUTH_HMAC_SHA1_96), (.ENCR_AES_CBC(keyBits: 192), .AUTH_HMAC_SHA2_256_128),
            (.ENCR_AES_CBC(keyBits: 256), .AUTH_HMAC_SHA2_384_192), (.ENCR_AES_CBC(keyBits: 256), .AUTH_HMAC_SHA2_512_256),
            (.ENCR_AES_CBC(keyBits: 128), .AUTH_HMAC_MD5_96), (.ENCR_AES_CBC(keyBits: 128), .AUTH_AES_XCBC_96),
            (.ENCR_AES_CBC(keyBits: 128), .AUTH_AES_CMAC_96), (.ENCR_3DES, .AUTH_HMAC_SHA1_96),
            (.ENCR_AES_CTR(keyBits: 128), .AUTH_HMAC_SHA1_96), (.ENCR_AES_CTR(keyBits: 256), .AUTH_HMAC_SHA2_256_128),
            (.ENCR_AES_GCM_8(keyBits: 128), nil), (.ENCR_AES_GCM_12(keyBits: 192), nil), (.ENCR_AES_GCM_16(keyBits: 256), nil),
            (.ENCR_NULL_AUTH_AES_GMAC(keyBits: 128), nil),
        ]
        for (enc, integ) in combos {
            for esn in [false, true] {
                let (out, inb) = try pair(enc, integ, esn: esn)
                for size in [0, 1, 13, 100, 1400] {
                    let inner = innerPacket(size)
                    var sealed = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
                    XCTAssertEqual(sealed.count - inner.count, out.transform.overhead(forInner: inner.count), "\(enc)")
                    let r = sealed.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }
                    guard case let .inner(range, nh, _) = r else { XCTFail("\(enc) \(String(describing: integ)) esn=\(esn): \(r)"); continue }
                    XCTAssertEqual(Array(sealed[range]), inner)
                    XCTAssertEqual(nh, 4)
                }
            }
        }
    }

    func testBadPacketsAreDroppedAndCounted() throws {
        let (out, inb) = try pair(.ENCR_AES_CBC(keyBits: 128), .AUTH_HMAC_SHA2_256_128)
        let good = try innerPacket(50).withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()

        var tampered = good; tampered[30] ^= 0x01
        XCTAssertEqual(tampered.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }, .dropped(.icvMismatch))
        var truncated = Array(good.prefix(20))
        XCTAssertEqual(truncated.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }, .dropped(.truncated))
        // The SA still accepts the genuine packet after the forgeries (window did not move).
        var first = good
        guard case .inner = first.withUnsafeMutableBytes({ ESPPacket.open($0, sa: inb) }) else { return XCTFail("good packet lost") }
        var replay = good
        XCTAssertEqual(replay.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }, .dropped(.replayed))
        XCTAssertEqual(inb.counters.drops[.icvMismatch], 1)
        XCTAssertEqual(inb.counters.drops[.truncated], 1)
        XCTAssertEqual(inb.counters.drops[.replayed], 1)
        XCTAssertEqual(inb.counters.packets, 1)
    }

    func testBadPaddingIsDropped() throws {
        // NULL encryption lets the test write a wrong padding byte and a valid ICV.
        let ik = SecureRandom.bytes(20)
        let t = try ESPTransform(encryption: .ENCR_NULL, encryptionKey: [], integrity: .AUTH_HMAC_SHA1_96, integrityKey: ik)
        let out = ESPSecurityAssociation(spi: 9, direction: .outbound, transform: t)
        let inb = ESPSecurityAssociation(spi: 9, direction: .inbound, transform: t)
        var p = try innerPacket(3).withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
        // inner 31 bytes + 2 → 3 bytes of padding 1,2,3 at offset 8+31.
        XCTAssertEqual(Array(p[39..<42]), [1, 2, 3])
        p[40] = 9
        let icv = try IntegrityContext(algorithm: .AUTH_HMAC_SHA1_96, key: ik).mac(Array(p[0..<(p.count - 12)]))
        p.replaceSubrange((p.count - 12)..., with: icv)
        XCTAssertEqual(p.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }, .dropped(.badPadding))
    }

    /// RFC 4303 §2.4: Pad Length and Next Header end on a 4-octet boundary, with NULL encryption
    /// too. The SWu-IKEv2 emulator sends NULL-encrypted ESP without padding (SPI, sequence,
    /// inner packet, pad length 0, next header, ICV); it is dropped with that reason, counted,
    /// and the SA still takes the next well-formed packet.
    func testNullESPWithoutFourOctetAlignmentIsDropped() throws {
        let ik = SecureRandom.bytes(20)
        let t = try ESPTransform(encryption: .ENCR_NULL, encryptionKey: [], integrity: .AUTH_HMAC_SHA1_96, integrityKey: ik)
        let out = ESPSecurityAssociation(spi: 9, direction: .outbound, transform: t)
        let inb = ESPSecurityAssociation(spi: 9, direction: .inbound, transform: t)
        let inner = innerPacket(3) // 31 octets: with the 2-octet trailer, 33 is not a multiple of 4
        var p: [UInt8] = [0, 0, 0, 9, 0, 0, 0, 1] + inner + [0, 4]
        p += try IntegrityContext(algorithm: .AUTH_HMAC_SHA1_96, key: ik).mac(p)
        XCTAssertEqual(p.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }, .dropped(.badLength))
        XCTAssertTrue(ESPDropReason.badLength.rawValue.contains("4 octets"))
        XCTAssertEqual(inb.counters.drops[.badLength], 1)
        var good = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
        guard case let .inner(range, _, seq) = good.withUnsafeMutableBytes({ ESPPacket.open($0, sa: inb) }) else { return XCTFail("good packet lost") }
        XCTAssertEqual(Array(good[range]), inner)
        XCTAssertEqual(seq, 1)
    }

    func testSpoofedInnerSourceIsDropped() throws {
        let (out, inb) = try pair(.ENCR_AES_GCM_16(keyBits: 128), nil)
        let spoofed = IPPacket.udp4(src: [198, 51, 100, 8], dst: [198, 51, 100, 1], sport: 1, dport: 2, payload: [1])
        var p = try spoofed.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
        XCTAssertEqual(p.withUnsafeMutableBytes { ESPPacket.open($0, sa: inb) }, .dropped(.sourceNotAllowed))
    }

    func testSequenceExhaustionWithoutESN() throws {
        let (out, _) = try pair(.ENCR_AES_GCM_16(keyBits: 128), nil)
        out.sequence = 0xFFFF_FFFF
        let r = innerPacket(1).withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }
        XCTAssertEqual(r.map { _ in 0 }, .failure(.sequenceExhausted))
    }

    func testPerUECountersSumTheUEsSAs() throws {
        let (out, _) = try pair(.ENCR_AES_GCM_16(keyBits: 128), nil)
        var plane = ESPDataPlane()
        let t = out.transform
        let a = ESPSecurityAssociation(spi: 0x11, direction: .inbound, transform: t, trafficSelectors: [AddressRange(address: Self.ueAddress)], owner: "001010000000001")
        let b = ESPSecurityAssociation(spi: 0x12, direction: .inbound, transform: t, trafficSelectors: [AddressRange(address: Self.ueAddress)], owner: "001010000000001")
        let other = ESPSecurityAssociation(spi: 0x13, direction: .inbound, transform: t, owner: "001010000000009")
        plane.sad.addInbound(a); plane.sad.addInbound(b); plane.sad.addInbound(other)
        let sender = ESPSecurityAssociation(spi: 0x11, direction: .outbound, transform: t)
        let sender2 = ESPSecurityAssociation(spi: 0x12, direction: .outbound, transform: t)
        let p1 = try innerPacket(10).withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: sender) }.get()
        let p2 = try innerPacket(20).withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: sender2) }.get()
        _ = plane.receive(udpPayload: p1); _ = plane.receive(udpPayload: p2); _ = plane.receive(udpPayload: p2)   // the last is a replay
        let c = plane.sad.counters(owner: "001010000000001").inbound
        XCTAssertEqual(c.packets, 2)
        XCTAssertEqual(c.bytes, UInt64(innerPacket(10).count + innerPacket(20).count))
        XCTAssertEqual(c.drops[.replayed], 1)
        XCTAssertEqual(plane.sad.counters(owner: "001010000000009").inbound.packets, 0)
    }

    func testDataPlaneDemuxAndUnknownSPI() throws {
        let (out, inb) = try pair(.ENCR_AES_GCM_16(keyBits: 128), nil)
        var ue = ESPDataPlane(), epdg = ESPDataPlane()
        ue.sad.addOutbound(ESPSecurityAssociation(spi: out.spi, direction: .outbound, transform: out.transform,
                                                   trafficSelectors: [AddressRange(address: [198, 51, 100, 1])]))
        epdg.sad.addInbound(inb)
        let inner = innerPacket(10)
        // The UE sends toward the P-CSCF (198.51.100.1): routed by destination.
        let toPCSCF = IPPacket.udp4(src: Self.ueAddress, dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: [7])
        let sent = try ue.send(inner: toPCSCF).get()
        XCTAssertEqual(epdg.receive(udpPayload: sent.payload), [.deliver(inner: toPCSCF, spi: inb.spi, owner: "")])
        XCTAssertEqual(epdg.receive(udpPayload: [0xFF]), [.keepalive])
        XCTAssertEqual(epdg.receive(udpPayload: [0, 0, 0, 0, 1, 2, 3]), [.ike(message: [1, 2, 3])])
        XCTAssertEqual(epdg.receive(udpPayload: [0, 0, 0, 9, 0, 0, 0, 1, 5, 5, 5, 5]), [.dropped(spi: 9, reason: .unknownSPI)])
        XCTAssertEqual(epdg.unknownSPI, 1)
        if case .failure(.noOutboundSA) = epdg.send(inner: inner) {} else { XCTFail("sent without an SA") }
    }
}
