/// splitmix64 (Steele, Lea, Flood 2014): a deterministic generator with one 64-bit state
/// word and good spread. Not for secrets: SIP tags/branches (which need only be unique) and
/// reproducible mutation tests, where a failure names its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
