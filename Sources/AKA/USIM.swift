import Crypto

/// What the USIM answers to AUTHENTICATE (TS 33.102 §6.3.3).
public enum USIMResult: Sendable, Equatable {
    /// MAC and SQN accepted: RES (res_len bytes), CK, IK.
    case success(res: [UInt8], ck: [UInt8], ik: [UInt8])
    /// MAC good but SQN not fresh: the 14-byte AUTS for re-synchronisation.
    case syncFailure(auts: [UInt8])
    /// XMAC != MAC-A: the network is not authentic (authentication reject).
    case macFailure
}

/// The phone side of AKA: K/OPc (through the algorithm) and the Annex C SQN state.
/// A value type; the owner (UE simulator) keeps it and calls `authenticate` serially.
public struct USIM: Sendable, Equatable {
    public let algorithm: AuthenticationAlgorithm
    public let resLength: Int
    public private(set) var sequence: USIMSequenceState

    /// `lastSQN` is the highest SQN the card has already accepted.
    public init(algorithm: AuthenticationAlgorithm, resLength: Int = 8, lastSQN: SQN = .zero,
                parameters: SQNParameters = .default) throws {
        try algorithm.validateResLength(resLength)
        self.algorithm = algorithm
        self.resLength = resLength
        sequence = USIMSequenceState(parameters: parameters, last: lastSQN)
    }

    /// Checks MAC-A first, then SQN freshness; on success records the SQN.
    /// Throws only on malformed RAND/AUTN lengths.
    public mutating func authenticate(rand: [UInt8], autn: [UInt8]) throws -> USIMResult {
        try requireLength(rand, 16, "RAND")
        let fields = try AUTN(autn)
        let o = try algorithm.f2345(rand: rand)
        let sqn = try SQN(bytes: xor(fields.sqnXorAK, o.ak))
        let xmac = try algorithm.f1(rand: rand, sqn: sqn.bytes, amf: fields.amf)
        guard constantTimeEqual(xmac, fields.mac) else { return .macFailure }
        guard sequence.isFresh(sqn) else {
            return .syncFailure(auts: try AUTS.make(algorithm: algorithm, rand: rand, sqnMS: sequence.sqnMS))
        }
        sequence.accept(sqn)
        return .success(res: Array(o.res.prefix(resLength)), ck: o.ck, ik: o.ik)
    }
}
