import Crypto

/// Micro-benchmarks of the AKA hot paths, wired to the `vowifi bench` CLI.
public enum AKABench {
    public struct Result: Sendable, CustomStringConvertible {
        public let name: String
        public let operations: Int
        public let seconds: Double
        public var perSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
        public var description: String {
            "\(name): \(operations) in \(String(format3(seconds))) s = \(Int(perSecond.rounded()))/s"
        }
    }

    /// Full MILENAGE vectors (f1 + f2..f5*, fresh RAND) per second.
    public static func milenageVectors(count: Int = 20_000) throws -> Result {
        let alg = AuthenticationAlgorithm.milenage(try Milenage(k: SecureRandom.bytes(16), opc: SecureRandom.bytes(16)))
        let amf = AMF.bytes(0x9001)
        var gen = SQNGenerator(seqHE: 0)
        return try measure("milenage vectors", count) {
            _ = try alg.vector(rand: SecureRandom.bytes(16), sqn: try gen.next(), amf: amf)
        }
    }

    /// EAP-AKA key derivations (SHA-1 MK + FIPS 186-2 PRF, 160 bytes) per second.
    public static func eapAKAKeyDerivations(count: Int = 20_000) throws -> Result {
        let ik = SecureRandom.bytes(16), ck = SecureRandom.bytes(16)
        let identity = Array("0001010123456789@wlan.mnc001.mcc001.3gppnetwork.org".utf8)
        return try measure("EAP-AKA key derivations", count) {
            _ = try EAPAKAKeys.derive(identity: identity, ik: ik, ck: ck)
        }
    }

    /// EAP-AKA' key derivations (CK'/IK' KDF + PRF', 208 bytes) per second.
    public static func eapAKAPrimeKeyDerivations(count: Int = 20_000) throws -> Result {
        let ik = SecureRandom.bytes(16), ck = SecureRandom.bytes(16), autn = SecureRandom.bytes(16)
        return try measure("EAP-AKA' key derivations", count) {
            _ = try EAPAKAPrimeKeys.derive(identity: "6001010123456789@nai.epc", ck: ck, ik: ik,
                                           accessNetworkName: "WLAN", autn: autn)
        }
    }

    /// All of the above.
    public static func run(count: Int = 20_000) throws -> [Result] {
        [try milenageVectors(count: count), try eapAKAKeyDerivations(count: count), try eapAKAPrimeKeyDerivations(count: count)]
    }

    static func measure(_ name: String, _ count: Int, _ body: () throws -> Void) throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<max(count, 1) { try body() }
        let d = clock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return Result(name: name, operations: max(count, 1), seconds: seconds)
    }

    private static func format3(_ x: Double) -> String {
        let ms = Int((x * 1000).rounded())
        let frac = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
