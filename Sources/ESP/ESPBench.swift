import Crypto
import Foundation

/// In-process ESP throughput, the figures `vowifi bench esp` prints beside `openssl speed`.
public enum ESPBench {
    public struct Result: Sendable {
        public var name: String
        public var innerSize: Int
        public var sealPerSecond: Double
        public var openPerSecond: Double
        /// Inner bytes per second through seal alone (comparable to `openssl speed`'s encrypt figure).
        public var sealBytesPerSecond: Double { sealPerSecond * Double(innerSize) }
    }

    /// Seals then opens packets of `innerSize` bytes for about `seconds` each phase.
    public static func run(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?, innerSize: Int, seconds: Double) throws -> Result {
        let t = try ESPTransform(encryption: encryption, encryptionKey: SecureRandom.bytes(encryption.keyMaterialLength),
                                 integrity: integrity, integrityKey: SecureRandom.bytes(integrity?.keyLength ?? 0))
        let out = ESPSecurityAssociation(spi: 0x1000, direction: .outbound, transform: t, esn: true)
        let inb = ESPSecurityAssociation(spi: 0x1000, direction: .inbound, transform: t, esn: true, replayWindow: 4096)
        var inner = [UInt8](repeating: 0x5A, count: max(20, innerSize))
        inner[0] = 0x45
        // Phase 1: seal, keeping a ring of packets to open in phase 2.
        var ring: [[UInt8]] = []
        ring.reserveCapacity(4096)
        var sealed = 0
        var start = Date()
        while true {
            for _ in 0..<256 {
                let p = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
                if ring.count < 4096 { ring.append(p) }
                sealed += 1
            }
            if Date().timeIntervalSince(start) >= seconds { break }
        }
        let sealRate = Double(sealed) / Date().timeIntervalSince(start)
        // Phase 2: open fresh copies of sealed packets in order (a new SA per pass so the
        // replay window accepts them again).
        var opened = 0
        start = Date()
        var sa = inb
        while Date().timeIntervalSince(start) < seconds {
            for p in ring {
                var b = p
                if case .inner = b.withUnsafeMutableBytes({ ESPPacket.open($0, sa: sa) }) { opened += 1 }
            }
            sa = ESPSecurityAssociation(spi: 0x1000, direction: .inbound, transform: t, esn: true, replayWindow: 4096)
        }
        let openRate = Double(opened) / Date().timeIntervalSince(start)
        let name = integrity.map { "\(encryption) + \($0)" } ?? "\(encryption)"
        return Result(name: name, innerSize: innerSize, sealPerSecond: sealRate, openPerSecond: openRate)
    }
}
