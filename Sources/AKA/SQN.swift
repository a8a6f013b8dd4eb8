import Crypto

/// A 48-bit sequence number (TS 33.102 §6.3.2, Annex C). It splits as SQN = SEQ || IND,
/// IND being the low `indBits` bits (5 by default) that index the USIM's SEQ array.
public struct SQN: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maxValue: UInt64 = (1 << 48) - 1
    public let value: UInt64

    /// Rejects values above 48 bits.
    public init(_ value: UInt64) throws {
        guard value <= SQN.maxValue else { throw AKAError.invalidParameter("SQN \(value) exceeds 48 bits") }
        self.value = value
    }

    /// From the 6-byte big-endian form carried in AUTN/AUTS and ue_db `sqn`.
    public init(bytes: [UInt8]) throws {
        try requireLength(bytes, 6, "SQN")
        value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// From 12 hex digits, as in the ue_db `sqn` field.
    public init(hex: String) throws {
        guard let b = Hex.decode(hex) else { throw AKAError.invalidEncoding("SQN hex '\(hex)'") }
        try self.init(bytes: b)
    }

    /// SEQ || IND.
    public init(seq: UInt64, ind: UInt64, indBits: Int = 5) throws {
        guard (0...16).contains(indBits), ind < (1 << UInt64(indBits)), seq < (1 << UInt64(48 - indBits)) else {
            throw AKAError.invalidParameter("SEQ \(seq) / IND \(ind) do not fit \(48 - indBits)+\(indBits) bits")
        }
        value = seq << UInt64(indBits) | ind
    }

    init(unchecked value: UInt64) { self.value = value & SQN.maxValue }

    public static let zero = SQN(unchecked: 0)

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (5 - $0))) } }
    public func seq(indBits: Int = 5) -> UInt64 { value >> UInt64(indBits) }
    public func ind(indBits: Int = 5) -> UInt64 { value & ((1 << UInt64(indBits)) - 1) }

    public static func < (a: SQN, b: SQN) -> Bool { a.value < b.value }
    public var description: String { Hex.encode(bytes) }
}

/// The Annex C parameters shared by network and USIM: IND length, the wrap-around
/// limit Δ (C.2.1) and the optional age limit L (C.2.2).
public struct SQNParameters: Sendable, Equatable {
    public let indBits: Int
    public let delta: UInt64
    public let ageLimit: UInt64?

    /// Δ defaults to 2^28 (Annex C.2.1 example); no L by default.
    public init(indBits: Int = 5, delta: UInt64 = 1 << 28, ageLimit: UInt64? = nil) throws {
        guard (0...16).contains(indBits) else { throw AKAError.invalidParameter("IND length \(indBits) outside 0..16 bits") }
        guard delta > 0 else { throw AKAError.invalidParameter("Δ must be positive") }
        self.init(checked: indBits, delta, ageLimit)
    }

    private init(checked indBits: Int, _ delta: UInt64, _ ageLimit: UInt64?) {
        self.indBits = indBits; self.delta = delta; self.ageLimit = ageLimit
    }

    public static let `default` = SQNParameters(checked: 5, 1 << 28, nil)
}

/// The HE/AuC side counter of Annex C.1.1/C.3.2: each vector gets SEQ_HE + 1, and IND is
/// allocated cyclically (IND = SEQ mod 2^indBits), so every SQN handed out is larger
/// than the one before.
public struct SQNGenerator: Sendable, Equatable {
    public let indBits: Int
    /// The SEQ of the last SQN handed out (SEQ_HE).
    public private(set) var seqHE: UInt64

    public init(seqHE: UInt64, indBits: Int = 5) {
        self.seqHE = seqHE; self.indBits = indBits
    }

    /// Starts after `last` (e.g. the ue_db initial `sqn`): the next SQN has SEQ(last) + 1.
    public init(last: SQN, indBits: Int = 5) {
        self.init(seqHE: last.seq(indBits: indBits), indBits: indBits)
    }

    /// Highest SEQ that fits the 48-bit SQN.
    public var maxSEQ: UInt64 { (1 << UInt64(48 - indBits)) - 1 }

    /// SQN to use for the next vector; throws when SEQ would wrap past 48 bits.
    public mutating func next() throws -> SQN {
        guard seqHE < maxSEQ else { throw AKAError.invalidParameter("SEQ_HE exhausted at \(seqHE)") }
        seqHE += 1
        return try SQN(seq: seqHE, ind: seqHE & ((1 << UInt64(indBits)) - 1), indBits: indBits)
    }

    /// After a verified AUTS (TS 33.102 §6.3.5): SEQ_HE = SEQ_MS, so the next vector uses
    /// SEQ_MS + 1, which the USIM accepts whatever IND slot it lands in.
    public mutating func resynchronize(sqnMS: SQN) {
        seqHE = sqnMS.seq(indBits: indBits)
    }
}

/// The USIM side of Annex C.2: the array SEQ_MS(0..a-1) indexed by IND, plus the highest
/// accepted SQN (SQN_MS, returned in AUTS).
public struct USIMSequenceState: Sendable, Equatable {
    public let parameters: SQNParameters
    public private(set) var seqArray: [UInt64]
    /// The highest SQN accepted so far (SQN_MS).
    public private(set) var sqnMS: SQN

    /// `last` is the highest SQN the USIM has already accepted (0 for a fresh card). Every
    /// slot starts at SEQ(last), as if the card had used all IND values up to there, so
    /// no SQN with SEQ <= SEQ(last) is fresh.
    public init(parameters: SQNParameters = .default, last: SQN = .zero) {
        self.parameters = parameters
        seqArray = [UInt64](repeating: last.seq(indBits: parameters.indBits), count: 1 << parameters.indBits)
        sqnMS = last
    }

    /// SEQ_MS: the highest SEQ in the array.
    public var seqMS: UInt64 { sqnMS.seq(indBits: parameters.indBits) }

    /// Annex C.2.1/C.2.2: fresh iff SEQ > SEQ_MS(IND), SEQ - SEQ_MS <= Δ, and, if L is
    /// set, SEQ_MS - SEQ <= L.
    public func isFresh(_ sqn: SQN) -> Bool {
        let seq = sqn.seq(indBits: parameters.indBits)
        let ind = Int(sqn.ind(indBits: parameters.indBits))
        guard seq > seqArray[ind] else { return false }
        if seq > seqMS, seq - seqMS > parameters.delta { return false }
        if let l = parameters.ageLimit, seqMS > seq, seqMS - seq > l { return false }
        return true
    }

    /// Records an accepted SQN: SEQ_MS(IND) := SEQ.
    public mutating func accept(_ sqn: SQN) {
        seqArray[Int(sqn.ind(indBits: parameters.indBits))] = sqn.seq(indBits: parameters.indBits)
        if sqn > sqnMS { sqnMS = sqn }
    }
}
