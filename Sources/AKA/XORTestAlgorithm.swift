import Crypto

/// The XOR test algorithm of 3GPP TS 34.108 §8.1.2, which test USIMs (and the callbox's
/// default `sim_algo: "xor"`) implement instead of MILENAGE. It has no secrecy; it only
/// lets a test network and a test USIM agree. With XDOUT = K xor RAND and
/// CDOUT = SQN || AMF:
/// - f1 = f1* = XDOUT[0..7] xor CDOUT (MAC-A, MAC-S)
/// - f2 = XDOUT[0..n) (RES, n = res_len, up to 16 bytes)
/// - f3 = XDOUT rotated left by 1 byte (CK), f4 = rotated left by 2 bytes (IK)
/// - f5 = f5* = XDOUT[3..8] (AK, AK*)
public struct XORTestAlgorithm: Sendable, Equatable {
    public let k: [UInt8]

    public init(k: [UInt8]) throws {
        try requireLength(k, 16, "K")
        self.k = k
    }

    /// XDOUT = K xor RAND.
    public func xdout(rand: [UInt8]) throws -> [UInt8] {
        try requireLength(rand, 16, "RAND")
        return xor(k, rand)
    }

    /// f1 / f1*: XDOUT[0..7] xor (SQN || AMF).
    public func f1(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> [UInt8] {
        try requireLength(sqn, 6, "SQN")
        try requireLength(amf, 2, "AMF")
        return xor(Array(try xdout(rand: rand)[0..<8]), sqn + amf)
    }

    /// RES (all 16 bytes of XDOUT; callers truncate to res_len), CK, IK, AK.
    public func f2345(rand: [UInt8]) throws -> (res: [UInt8], ck: [UInt8], ik: [UInt8], ak: [UInt8]) {
        let x = try xdout(rand: rand)
        return (x, Array(x[1..<16] + x[0..<1]), Array(x[2..<16] + x[0..<2]), Array(x[3..<9]))
    }
}
