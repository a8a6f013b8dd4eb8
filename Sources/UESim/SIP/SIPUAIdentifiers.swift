import Wire

/// Tags, branches, Call-IDs and cnonces for one user agent (RFC 3261 §19.3 asks only that they
/// be unique, not secret). A seeded SplitMix64 keeps tests byte-for-byte reproducible; the
/// Phone seeds it from the CSPRNG so simulated UEs never collide.
public struct SIPUAIdentifiers: Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    /// 16 lowercase hex digits.
    public mutating func hex() -> String {
        let s = String(next(), radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// A Via branch with the RFC 3261 §8.1.1.7 magic cookie.
    public mutating func branch() -> String { "z9hG4bK" + hex() }
    public mutating func tag() -> String { String(hex().prefix(10)) }
    public mutating func callID(host: String) -> String { hex() + hex().prefix(8) + "@" + host }
    public mutating func cnonce() -> String { hex() }
}
