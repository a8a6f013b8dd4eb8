/// Throughput of the ESP seal path, for `vowifi bench crypto`: each operation protects
/// one packet in place exactly as ESP would (no per-packet allocation).
public enum CryptoBench {
    public struct Result: Sendable, CustomStringConvertible {
        /// "AES-128-GCM-16" or "AES-128-CBC+HMAC-SHA1-96".
        public let name: String
        /// Payload bytes per operation.
        public let payloadSize: Int
        public let operations: Int
        public let seconds: Double
        public var opsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
        public var bytesPerSecond: Double { opsPerSecond * Double(payloadSize) }

        public var description: String {
            let mbps = bytesPerSecond * 8 / 1_000_000
            return "\(name) \(payloadSize) B: \(Int(opsPerSecond)) ops/s, \(Int(bytesPerSecond)) B/s (\(Int(mbps)) Mbit/s)"
        }
    }

    /// Seals packets of each size for `seconds` per (algorithm, size) pair with
    /// AES-128-GCM-16 (RFC 4106) and AES-128-CBC + HMAC-SHA1-96 (RFC 3602 + 2404).
    public static func run(seconds: Double = 1.0, sizes: [Int] = [100, 1400]) throws -> [Result] {
        var results: [Result] = []
        for size in sizes {
            results.append(try gcm(size: size, seconds: seconds))
            results.append(try cbcHMAC(size: size, seconds: seconds))
        }
        return results
    }

    static func gcm(size: Int, seconds: Double) throws -> Result {
        let ctx = try CipherContext(algorithm: .ENCR_AES_GCM_16(keyBits: 128), keyMaterial: SecureRandom.bytes(20))
        // SPI | SN (AAD, 8) | IV (8) | payload | ICV (16)
        var packet = SecureRandom.bytes(16 + size + 16)
        let (ops, elapsed) = try packet.withUnsafeMutableBytes { p in
            let aad = UnsafeRawBufferPointer(rebasing: p[0..<8])
            let iv = UnsafeRawBufferPointer(rebasing: p[8..<16])
            let body = UnsafeMutableRawBufferPointer(rebasing: p[16..<(16 + size)])
            let icv = UnsafeMutableRawBufferPointer(rebasing: p[(16 + size)...])
            return try measure(seconds) { n in
                p.storeBytes(of: UInt64(n).bigEndian, toByteOffset: 8, as: UInt64.self) // IV = counter
                try ctx.encrypt(iv: iv, aad: aad, inPlace: body, icv: icv)
            }
        }
        return Result(name: "AES-128-GCM-16", payloadSize: size, operations: ops, seconds: elapsed)
    }

    static func cbcHMAC(size: Int, seconds: Double) throws -> Result {
        let ctx = try CipherContext(algorithm: .ENCR_AES_CBC(keyBits: 128), keyMaterial: SecureRandom.bytes(16))
        let mac = try IntegrityContext(algorithm: .AUTH_HMAC_SHA1_96, key: SecureRandom.bytes(20))
        let padded = (size + 2 + 15) / 16 * 16 // payload + pad length + next header, block aligned
        // SPI | SN (8) | IV (16) | padded payload | ICV (12)
        var packet = SecureRandom.bytes(8 + 16 + padded + 12)
        let (ops, elapsed) = try packet.withUnsafeMutableBytes { p in
            let iv = UnsafeRawBufferPointer(rebasing: p[8..<24])
            let body = UnsafeMutableRawBufferPointer(rebasing: p[24..<(24 + padded)])
            let covered = UnsafeRawBufferPointer(rebasing: p[0..<(24 + padded)])
            let icv = UnsafeMutableRawBufferPointer(rebasing: p[(24 + padded)...])
            let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            return try measure(seconds) { _ in
                try ctx.encrypt(iv: iv, aad: UnsafeRawBufferPointer(none), inPlace: body, icv: none)
                try mac.mac(covered, into: icv)
            }
        }
        return Result(name: "AES-128-CBC+HMAC-SHA1-96", payloadSize: size, operations: ops, seconds: elapsed)
    }

    /// Runs `op` until `seconds` have passed (checking the clock every 64 operations).
    private static func measure(_ seconds: Double, _ op: (Int) throws -> Void) rethrows -> (Int, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        var ops = 0
        while true {
            for _ in 0..<64 { try op(ops); ops += 1 }
            let elapsed = clock.now - start
            if elapsed >= limit {
                let c = elapsed.components
                return (ops, Double(c.seconds) + Double(c.attoseconds) / 1e18)
            }
        }
    }
}
