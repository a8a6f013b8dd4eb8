import Crypto
import ESP

/// ESP decapsulation (RFC 4303, RFC 3948): the NAT-T port's datagrams through ESPDataPlane
/// with an inbound SA installed (first byte: suite, ESN, traffic selectors), and the
/// seal→open round trip, which must give back an inner IP packet (and drop anything else), while the same packet with
/// one bit flipped must never be delivered.
let espHarness = Harness(name: "esp", summary: "ESPDataPlane.receive on NAT-T datagrams; seal/open round trip and tamper check") { data in
    guard let flags = data.first else { return }
    let rest = Array(data.dropFirst())
    let suite = FuzzESP.suites[Int(flags & 0x07) % FuzzESP.suites.count]
    let esn = flags & 0x08 != 0
    let selectors = flags & 0x10 != 0 ? [AddressRange(start: [198, 51, 100, 0], end: [198, 51, 100, 255])] : []
    guard let inbound = FuzzESP.sa(suite, .inbound, esn: esn, selectors: selectors) else { fatalError("ESP SA setup failed") }
    if flags & 0x20 == 0 {
        var plane = ESPDataPlane()
        plane.sad.addInbound(inbound)
        for out in plane.receive(udpPayload: rest) {
            if case let .deliver(inner, _, _) = out { require(inner.count < rest.count, "delivered more than was received") }
        }
        return
    }
    guard let outbound = FuzzESP.sa(suite, .outbound, esn: esn, selectors: []) else { fatalError("ESP SA setup failed") }
    let nextHeader: UInt8 = rest.first.map { $0 >> 4 == 6 ? 41 : 4 } ?? 4
    guard case let .success(packet) = rest.withUnsafeBytes({ ESPPacket.seal($0, nextHeader: nextHeader, sa: outbound) }) else { return }
    var tampered = packet
    var good = packet
    let outcome = good.withUnsafeMutableBytes { ESPPacket.open($0, sa: inbound) }
    // Open checks that the inner packet is IP of the version the next header names (seal,
    // below the data plane's own check, does not): anything else must be that drop.
    let isIP = rest.withUnsafeBytes { InnerPacket.version($0) } == (nextHeader == 4 ? 4 : 6)
    if case let .inner(range, nh, _) = outcome {
        require(isIP && Array(good[range]) == rest && nh == nextHeader, "ESP open did not give back the sealed inner packet")
    } else if selectors.isEmpty {
        require(!isIP && outcome == .dropped(.unsupportedInner), "ESP open dropped our own packet: \(outcome)")
    }
    // One flipped bit anywhere after the SPI: never delivered (a fresh SA, so not a replay).
    guard let fresh = FuzzESP.sa(suite, .inbound, esn: esn, selectors: []), tampered.count > 4 else { return }
    let at = 4 + Int(rest.last ?? 0) * 7 % (tampered.count - 4)
    tampered[at] ^= 1 << ((rest.first ?? 0) & 7)
    if case .inner = tampered.withUnsafeMutableBytes({ ESPPacket.open($0, sa: fresh) }) {
        fatalError("a tampered ESP packet (bit flipped at \(at)) was delivered")
    }
}

enum FuzzESP {
    static let spi: UInt32 = 0x0000_1000
    static let suites: [(EncryptionAlgorithm, IntegrityAlgorithm?)] = [
        (.ENCR_NULL, .AUTH_HMAC_SHA1_96), (.ENCR_AES_CBC(keyBits: 128), .AUTH_HMAC_SHA2_256_128), (.ENCR_AES_GCM_16(keyBits: 128), nil),
        (.ENCR_AES_CTR(keyBits: 128), .AUTH_HMAC_SHA1_96), (.ENCR_NULL_AUTH_AES_GMAC(keyBits: 128), nil), (.ENCR_AES_CBC(keyBits: 256), .AUTH_AES_XCBC_96),
    ]

    static func sa(_ s: (EncryptionAlgorithm, IntegrityAlgorithm?), _ direction: ESPSecurityAssociation.Direction,
                   esn: Bool, selectors: [AddressRange]) -> ESPSecurityAssociation? {
        let ek = (0..<s.0.keyMaterialLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let ik = (0..<(s.1?.keyLength ?? 0)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        guard let t = try? ESPTransform(encryption: s.0, encryptionKey: ek, integrity: s.1, integrityKey: ik) else { return nil }
        return ESPSecurityAssociation(spi: spi, direction: direction, transform: t, esn: esn, trafficSelectors: selectors, replayWindow: 64)
    }
}
