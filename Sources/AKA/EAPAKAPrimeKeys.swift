import Crypto

/// EAP-AKA' keys (RFC 5448 §3.3-3.4, RFC 9048; CK'/IK' from TS 33.402 Annex A.2).
/// MK = PRF'(IK' || CK', "EAP-AKA'" || Identity), 208 bytes split as
/// K_encr(16) | K_aut(32) | K_re(32) | MSK(64) | EMSK(64).
public struct EAPAKAPrimeKeys: Sendable, Equatable {
    public let mk: [UInt8]
    public let kEncr: [UInt8]
    public let kAut: [UInt8]
    public let kRe: [UInt8]
    public let msk: [UInt8]
    public let emsk: [UInt8]

    /// CK' || IK' = HMAC-SHA-256(CK || IK, S), S = FC(0x20) || P0 || L0 || P1 || L1 with
    /// P0 = access network name (e.g. "WLAN"), P1 = SQN xor AK (AUTN[0..5]).
    public static func ckIKPrime(ck: [UInt8], ik: [UInt8], accessNetworkName: String,
                                 sqnXorAK: [UInt8]) throws -> (ckPrime: [UInt8], ikPrime: [UInt8]) {
        try requireLength(ck, 16, "CK")
        try requireLength(ik, 16, "IK")
        try requireLength(sqnXorAK, 6, "SQN xor AK")
        let p0 = Array(accessNetworkName.utf8)
        guard p0.count <= 0xFFFF else { throw AKAError.invalidParameter("access network name longer than 65535 bytes") }
        let s: [UInt8] = [0x20] + p0 + [UInt8(p0.count >> 8), UInt8(p0.count & 0xFF)] + sqnXorAK + [0x00, 0x06]
        let out = HMAC.mac(.sha256, key: ck + ik, data: s)
        return (Array(out[0..<16]), Array(out[16..<32]))
    }

    /// Keys from CK'/IK' (the HSS hands these to the AAA, not CK/IK).
    public static func derive(identity: [UInt8], ckPrime: [UInt8], ikPrime: [UInt8]) throws -> EAPAKAPrimeKeys {
        try requireLength(ckPrime, 16, "CK'")
        try requireLength(ikPrime, 16, "IK'")
        let mk = prfPlus(key: ikPrime + ckPrime, seed: Array("EAP-AKA'".utf8) + identity, length: 208)
        return EAPAKAPrimeKeys(mk: mk, kEncr: Array(mk[0..<16]), kAut: Array(mk[16..<48]), kRe: Array(mk[48..<80]),
                               msk: Array(mk[80..<144]), emsk: Array(mk[144..<208]))
    }

    public static func derive(identity: String, ckPrime: [UInt8], ikPrime: [UInt8]) throws -> EAPAKAPrimeKeys {
        try derive(identity: Array(identity.utf8), ckPrime: ckPrime, ikPrime: ikPrime)
    }

    /// Peer-side convenience: from CK, IK, the network name and AUTN.
    public static func derive(identity: String, ck: [UInt8], ik: [UInt8], accessNetworkName: String,
                              autn: [UInt8]) throws -> EAPAKAPrimeKeys {
        try requireLength(autn, 16, "AUTN")
        let p = try ckIKPrime(ck: ck, ik: ik, accessNetworkName: accessNetworkName, sqnXorAK: Array(autn[0..<6]))
        return try derive(identity: Array(identity.utf8), ckPrime: p.ckPrime, ikPrime: p.ikPrime)
    }

    /// PRF' = prf+ with HMAC-SHA-256 (RFC 5448 §3.4, the IKEv2 prf+ of RFC 7296 §2.13):
    /// T1 = HMAC(K, S | 0x01), Tn = HMAC(K, Tn-1 | S | n).
    public static func prfPlus(key: [UInt8], seed: [UInt8], length: Int) -> [UInt8] {
        var out: [UInt8] = []
        var t: [UInt8] = []
        var n: UInt8 = 1
        while out.count < length {
            t = HMAC.mac(.sha256, key: key, data: t + seed + [n])
            out += t
            if n == 255 { break } // prf+ is defined for at most 255 blocks
            n += 1
        }
        return Array(out.prefix(length))
    }

    /// AT_MAC value for EAP-AKA' (RFC 5448 §3.4.1): HMAC-SHA-256-128 with K_aut.
    public static func atMAC(kAut: [UInt8], packet: [UInt8], extra: [UInt8] = []) -> [UInt8] {
        Array(HMAC.mac(.sha256, key: kAut, data: packet + extra).prefix(16))
    }

    public static func verifyATMAC(kAut: [UInt8], packet: [UInt8], macOffset: Int, extra: [UInt8] = []) -> Bool {
        verifyMAC(packet: packet, macOffset: macOffset) { atMAC(kAut: kAut, packet: $0, extra: extra) }
    }
}
