import Wire

/// The deterministic generator of mutation tests, so a failure names a reproducible seed.
public typealias SeededRandom = SplitMix64
