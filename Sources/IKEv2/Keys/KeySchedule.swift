import Crypto

/// The seven IKE SA keys of RFC 7296 §2.14.
public struct IKEKeys: Sendable, Equatable {
    public var SK_d: [UInt8]
    public var SK_ai: [UInt8]
    public var SK_ar: [UInt8]
    public var SK_ei: [UInt8]
    public var SK_er: [UInt8]
    public var SK_pi: [UInt8]
    public var SK_pr: [UInt8]
}

/// Keys of one Child SA: for each direction an encryption key (with salt for CTR/GCM)
/// and an integrity key (empty for AEAD).
public struct ChildKeys: Sendable, Equatable {
    /// Initiator → responder.
    public var encryptionI: [UInt8]
    public var integrityI: [UInt8]
    /// Responder → initiator.
    public var encryptionR: [UInt8]
    public var integrityR: [UInt8]
}

/// RFC 7296 §2.13–2.18 key derivation.
public enum KeySchedule {
    /// SKEYSEED = prf(Ni | Nr, g^ir). For a PRF with a fixed key size (AES-XCBC-PRF-128)
    /// the key is the first half-key-size of Ni followed by that of Nr (§2.14).
    public static func skeyseed(prf: PseudoRandomFunction, ni: [UInt8], nr: [UInt8], sharedSecret: [UInt8]) -> [UInt8] {
        let key: [UInt8]
        if prf.hasFixedKeySize {
            let half = prf.keyLength / 2
            key = Array(ni.prefix(half)) + Array(nr.prefix(half))
        } else {
            key = ni + nr
        }
        return prf.prf(key: key, data: sharedSecret)
    }

    /// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
    public static func ikeKeys(suite: IKESuite, skeyseed: [UInt8], ni: [UInt8], nr: [UInt8], spiI: UInt64, spiR: UInt64) throws -> IKEKeys {
        let p = suite.prf.keyLength
        let a = suite.integrity?.keyLength ?? 0
        let e = suite.encryption.keyMaterialLength
        let seed = ni + nr + be64(spiI) + be64(spiR)
        let km = try suite.prf.prfPlus(key: skeyseed, seed: seed, length: 3 * p + 2 * a + 2 * e)
        var o = 0
        func take(_ n: Int) -> [UInt8] { defer { o += n }; return Array(km[o..<o + n]) }
        return IKEKeys(SK_d: take(p), SK_ai: take(a), SK_ar: take(a), SK_ei: take(e), SK_er: take(e), SK_pi: take(p), SK_pr: take(p))
    }

    /// Child SA KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr) (§2.17), split initiator→responder
    /// first, encryption before integrity.
    public static func childKeys(prf: PseudoRandomFunction, skD: [UInt8], newSharedSecret: [UInt8]? = nil, ni: [UInt8], nr: [UInt8],
                                 suite: ESPSuite) throws -> ChildKeys {
        let e = suite.encryption.keyMaterialLength
        let a = suite.integrity?.keyLength ?? 0
        let km = try prf.prfPlus(key: skD, seed: (newSharedSecret ?? []) + ni + nr, length: 2 * (e + a))
        return ChildKeys(encryptionI: Array(km[0..<e]), integrityI: Array(km[e..<e + a]),
                         encryptionR: Array(km[e + a..<2 * e + a]), integrityR: Array(km[2 * e + a..<2 * (e + a)]))
    }

    /// SKEYSEED for a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr) (§2.18).
    public static func rekeySkeyseed(prf: PseudoRandomFunction, oldSKd: [UInt8], newSharedSecret: [UInt8], ni: [UInt8], nr: [UInt8]) -> [UInt8] {
        prf.prf(key: oldSKd, data: newSharedSecret + ni + nr)
    }

    static func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * $0)) } }
}

/// AUTH payload computation (RFC 7296 §2.15, §2.16).
public enum AuthComputation {
    /// InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, IDi');
    /// ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, IDr').
    public static func signedOctets(prf: PseudoRandomFunction, message: [UInt8], peerNonce: [UInt8], skP: [UInt8], idPrime: [UInt8]) -> [UInt8] {
        message + peerNonce + prf.prf(key: skP, data: idPrime)
    }

    /// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>); with EAP the shared
    /// secret is the MSK (or SK_pi/SK_pr for methods without one).
    public static func sharedKeyAuth(prf: PseudoRandomFunction, sharedSecret: [UInt8], signedOctets: [UInt8]) -> [UInt8] {
        prf.prf(key: keyPad(prf: prf, sharedSecret: sharedSecret), data: signedOctets)
    }

    /// prf(Shared Secret, "Key Pad for IKEv2"): the key of both AUTH computations.
    public static func keyPad(prf: PseudoRandomFunction, sharedSecret: [UInt8]) -> [UInt8] {
        prf.prf(key: sharedSecret, data: keyPadLabel)
    }

    private static let keyPadLabel = Array("Key Pad for IKEv2".utf8)
}
