import Crypto

/// The authentication function set a subscriber's USIM runs, chosen per subscriber
/// (`sim_algo` in the callbox ue_db: "milenage" or the default "xor").
public enum AuthenticationAlgorithm: Sendable, Equatable {
    case milenage(Milenage)
    case xor(XORTestAlgorithm)

    /// The ue_db spelling of the algorithm.
    public var name: String {
        switch self { case .milenage: "milenage"; case .xor: "xor" }
    }

    /// Longest RES the algorithm produces: MILENAGE f2 is 64 bits, XOR gives all of XDOUT.
    public var maxResLength: Int {
        switch self { case .milenage: 8; case .xor: 16 }
    }

    /// Accepts res_len in 4..maxResLength (TS 33.102 allows 32..128 bits).
    public func validateResLength(_ n: Int) throws {
        guard (4...maxResLength).contains(n) else {
            throw AKAError.invalidParameter("res_len \(n) outside 4..\(maxResLength) for \(name)")
        }
    }

    /// f1: MAC-A over SQN || RAND || AMF.
    public func f1(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> [UInt8] {
        switch self {
        case let .milenage(m): try m.f1(rand: rand, sqn: sqn, amf: amf)
        case let .xor(x): try x.f1(rand: rand, sqn: sqn, amf: amf)
        }
    }

    /// f1*: MAC-S (re-synchronisation); for XOR identical to f1.
    public func f1Star(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> [UInt8] {
        switch self {
        case let .milenage(m): try m.f1Star(rand: rand, sqn: sqn, amf: amf)
        case let .xor(x): try x.f1(rand: rand, sqn: sqn, amf: amf)
        }
    }

    /// f2..f5*: full RES (before res_len truncation), CK, IK, AK, AK*.
    public func f2345(rand: [UInt8]) throws -> Milenage.Outputs {
        switch self {
        case let .milenage(m): return try m.f2345(rand: rand)
        case let .xor(x):
            let o = try x.f2345(rand: rand)
            return Milenage.Outputs(res: o.res, ck: o.ck, ik: o.ik, ak: o.ak, akStar: o.ak)
        }
    }
}
