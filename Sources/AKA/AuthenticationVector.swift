import Crypto

/// One UMTS authentication vector (TS 33.102 §6.3.2) as the HE/AuC hands it to the
/// ePDG/AAA (EAP-AKA) or the S-CSCF (IMS AKA). `xres` is already cut to res_len.
public struct AuthenticationVector: Sendable, Equatable {
    public let rand: [UInt8]
    public let xres: [UInt8]
    public let autn: [UInt8]
    public let ck: [UInt8]
    public let ik: [UInt8]
    public let ak: [UInt8]
    /// The SQN this vector consumed (not sent to the UE in clear).
    public let sqn: SQN

    public init(rand: [UInt8], xres: [UInt8], autn: [UInt8], ck: [UInt8], ik: [UInt8], ak: [UInt8], sqn: SQN) {
        self.rand = rand; self.xres = xres; self.autn = autn; self.ck = ck; self.ik = ik; self.ak = ak; self.sqn = sqn
    }

    /// AMF as carried in AUTN.
    public var amf: [UInt8] { Array(autn[6..<8]) }
    /// SQN xor AK: the first 6 bytes of AUTN (the P1 input of the EAP-AKA' CK'/IK' KDF).
    public var sqnXorAK: [UInt8] { Array(autn[0..<6]) }
}

/// AUTN = (SQN xor AK) || AMF || MAC-A (TS 33.102 §6.3.2).
public struct AUTN: Sendable, Equatable {
    public let sqnXorAK: [UInt8]
    public let amf: [UInt8]
    public let mac: [UInt8]

    /// Splits 16 AUTN bytes.
    public init(_ bytes: [UInt8]) throws {
        try requireLength(bytes, 16, "AUTN")
        sqnXorAK = Array(bytes[0..<6]); amf = Array(bytes[6..<8]); mac = Array(bytes[8..<16])
    }

    public static func make(sqn: SQN, ak: [UInt8], amf: [UInt8], macA: [UInt8]) -> [UInt8] {
        xor(sqn.bytes, ak) + amf + macA
    }
}

extension AuthenticationAlgorithm {
    /// HE/AuC side: the vector for `rand` and `sqn` (TS 33.102 §6.3.2). `resLength` cuts
    /// XRES (4..maxResLength bytes).
    public func vector(rand: [UInt8], sqn: SQN, amf: [UInt8], resLength: Int = 8) throws -> AuthenticationVector {
        try validateResLength(resLength)
        let macA: [UInt8], o: Milenage.Outputs
        if case let .milenage(m) = self {
            (macA, o) = try m.vectorOutputs(rand: rand, sqn: sqn.bytes, amf: amf)
        } else {
            macA = try f1(rand: rand, sqn: sqn.bytes, amf: amf)
            o = try f2345(rand: rand)
        }
        return AuthenticationVector(rand: rand, xres: Array(o.res.prefix(resLength)),
                                    autn: AUTN.make(sqn: sqn, ak: o.ak, amf: amf, macA: macA),
                                    ck: o.ck, ik: o.ik, ak: o.ak, sqn: sqn)
    }
}

/// AUTS = (SQN_MS xor AK*) || MAC-S, with MAC-S = f1*(SQN_MS || RAND || AMF = 0000) and
/// AK* = f5*(RAND) (TS 33.102 §6.3.3): the USIM's answer to a stale SQN.
public enum AUTS {
    /// USIM side: builds the 14-byte AUTS.
    public static func make(algorithm: AuthenticationAlgorithm, rand: [UInt8], sqnMS: SQN) throws -> [UInt8] {
        let akStar = try algorithm.f2345(rand: rand).akStar
        let macS = try algorithm.f1Star(rand: rand, sqn: sqnMS.bytes, amf: AMF.resynchronization)
        return xor(sqnMS.bytes, akStar) + macS
    }

    /// HE side (§6.3.5): recovers SQN_MS and verifies MAC-S; throws `.resyncMACFailure`.
    public static func recoverSQN(algorithm: AuthenticationAlgorithm, rand: [UInt8], auts: [UInt8]) throws -> SQN {
        try requireLength(auts, 14, "AUTS")
        let akStar = try algorithm.f2345(rand: rand).akStar
        let sqnMS = try SQN(bytes: xor(Array(auts[0..<6]), akStar))
        let macS = try algorithm.f1Star(rand: rand, sqn: sqnMS.bytes, amf: AMF.resynchronization)
        guard constantTimeEqual(macS, Array(auts[6..<14])) else { throw AKAError.resyncMACFailure }
        return sqnMS
    }
}

/// Comparison whose time does not depend on where the first difference is.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var d: UInt8 = 0
    for i in 0..<a.count { d |= a[i] ^ b[i] }
    return d == 0
}
