import Crypto

/// The operator-customisable rotation and addition constants of MILENAGE (TS 35.206 §4.1):
/// r1..r5 are bit rotations (0..127) and c1..c5 are 128-bit constants.
public struct MilenageConstants: Sendable, Equatable {
    public let r: [Int]
    public let c: [[UInt8]]

    /// The TS 35.206 defaults: r = 64, 0, 32, 64, 96; c1 = 0, c2 = 1, c3 = 2, c4 = 4, c5 = 8.
    public static let standard: MilenageConstants = {
        func c(_ last: UInt8) -> [UInt8] { [UInt8](repeating: 0, count: 15) + [last] }
        return MilenageConstants(checked: [64, 0, 32, 64, 96], [c(0), c(1), c(2), c(4), c(8)])
    }()

    /// Validates five rotations in 0..127 and five 16-byte constants.
    public init(r: [Int], c: [[UInt8]]) throws {
        guard r.count == 5, c.count == 5 else {
            throw AKAError.invalidParameter("MILENAGE needs 5 r and 5 c constants, got \(r.count) and \(c.count)")
        }
        for (i, v) in r.enumerated() where !(0...127).contains(v) {
            throw AKAError.invalidParameter("MILENAGE r\(i + 1) = \(v) is outside 0..127")
        }
        for (i, v) in c.enumerated() where v.count != 16 {
            throw AKAError.invalidLength(field: "MILENAGE c\(i + 1)", expected: "16", got: v.count)
        }
        self.init(checked: r, c)
    }

    private init(checked r: [Int], _ c: [[UInt8]]) { self.r = r; self.c = c }
}

/// MILENAGE (3GPP TS 35.206): the AES-128-based example set of f1, f1*, f2, f3, f4, f5,
/// f5*. Holds K and OPc only; each call builds its own AES context so one value can be
/// shared across threads.
public struct Milenage: Sendable, Equatable {
    public let k: [UInt8]
    public let opc: [UInt8]
    public let constants: MilenageConstants

    /// From K and the operator's OPc.
    public init(k: [UInt8], opc: [UInt8], constants: MilenageConstants = .standard) throws {
        try requireLength(k, 16, "K")
        try requireLength(opc, 16, "OPc")
        self.k = k; self.opc = opc; self.constants = constants
    }

    /// From K and OP; OPc = E_K(OP) xor OP is computed once here.
    public init(k: [UInt8], op: [UInt8], constants: MilenageConstants = .standard) throws {
        try self.init(k: k, opc: Milenage.opc(k: k, op: op), constants: constants)
    }

    /// OPc = E_K(OP) xor OP (TS 35.206 §4.1).
    public static func opc(k: [UInt8], op: [UInt8]) throws -> [UInt8] {
        try requireLength(k, 16, "K")
        try requireLength(op, 16, "OP")
        let e = try AESBlockCipher(key: k)
        return xor(e.encrypt(op), op)
    }

    /// The outputs of f2, f3, f4, f5 and f5* for one RAND.
    public struct Outputs: Sendable, Equatable {
        public let res: [UInt8]   // f2, 8 bytes
        public let ck: [UInt8]    // f3, 16 bytes
        public let ik: [UInt8]    // f4, 16 bytes
        public let ak: [UInt8]    // f5, 6 bytes
        public let akStar: [UInt8] // f5*, 6 bytes
    }

    /// f1 (MAC-A, bytes 0..7 of OUT1) and f1* (MAC-S, bytes 8..15 of OUT1).
    public func f1Both(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> (macA: [UInt8], macS: [UInt8]) {
        try requireLength(rand, 16, "RAND")
        let e = try AESBlockCipher(key: k)
        return try f1Both(e, temp: e.encrypt(xor(rand, opc)), sqn: sqn, amf: amf)
    }

    /// f1 and f1* from TEMP = E_K(RAND xor OPc) under the cipher keyed with K.
    private func f1Both(_ e: AESBlockCipher, temp: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> (macA: [UInt8], macS: [UInt8]) {
        try requireLength(sqn, 6, "SQN")
        try requireLength(amf, 2, "AMF")
        let in1 = sqn + amf + sqn + amf
        let x = xor(xor(temp, Milenage.rotate(xor(in1, opc), constants.r[0])), constants.c[0])
        let out1 = xor(e.encrypt(x), opc)
        return (Array(out1[0..<8]), Array(out1[8..<16]))
    }

    /// f1: MAC-A (or XMAC-A) over SQN, RAND, AMF.
    public func f1(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> [UInt8] {
        try f1Both(rand: rand, sqn: sqn, amf: amf).macA
    }

    /// f1*: MAC-S for re-synchronisation.
    public func f1Star(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> [UInt8] {
        try f1Both(rand: rand, sqn: sqn, amf: amf).macS
    }

    /// f2..f5* in one pass (one TEMP, four more AES blocks).
    public func f2345(rand: [UInt8]) throws -> Outputs {
        try requireLength(rand, 16, "RAND")
        let e = try AESBlockCipher(key: k)
        return f2345(e, temp: e.encrypt(xor(rand, opc)))
    }

    /// The HE/AuC's whole computation for one vector: f1 (MAC-A) and f2..f5* under one AES
    /// key schedule and one TEMP (six AES blocks instead of two contexts and eight blocks).
    public func vectorOutputs(rand: [UInt8], sqn: [UInt8], amf: [UInt8]) throws -> (macA: [UInt8], outputs: Outputs) {
        try requireLength(rand, 16, "RAND")
        let e = try AESBlockCipher(key: k)
        let temp = e.encrypt(xor(rand, opc))
        return (try f1Both(e, temp: temp, sqn: sqn, amf: amf).macA, f2345(e, temp: temp))
    }

    private func f2345(_ e: AESBlockCipher, temp: [UInt8]) -> Outputs {
        let base = xor(temp, opc)
        func out(_ i: Int) -> [UInt8] {
            xor(e.encrypt(xor(Milenage.rotate(base, constants.r[i]), constants.c[i])), opc)
        }
        let out2 = out(1), out3 = out(2), out4 = out(3), out5 = out(4)
        return Outputs(res: Array(out2[8..<16]), ck: out3, ik: out4, ak: Array(out2[0..<6]), akStar: Array(out5[0..<6]))
    }

    /// Cyclic rotation of a 128-bit value by `r` bits towards the most significant bit.
    static func rotate(_ x: [UInt8], _ r: Int) -> [UInt8] {
        let byteShift = (r / 8) % 16, bitShift = r % 8
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 {
            let a = x[(i + byteShift) % 16]
            if bitShift == 0 {
                out[i] = a
            } else {
                let b = x[(i + byteShift + 1) % 16]
                out[i] = (a << UInt8(bitShift)) | (b >> UInt8(8 - bitShift))
            }
        }
        return out
    }
}
