import Crypto

/// EAP-AKA full-authentication keys (RFC 4187 §7): MK = SHA1(Identity || IK || CK), then
/// the FIPS 186-2 PRF gives 160 bytes split as K_encr(16) | K_aut(16) | MSK(64) | EMSK(64).
public struct EAPAKAKeys: Sendable, Equatable {
    public let mk: [UInt8]
    public let kEncr: [UInt8]
    public let kAut: [UInt8]
    public let msk: [UInt8]
    public let emsk: [UInt8]

    /// `identity` is the identity octets of the last AT_IDENTITY (or EAP-Response/Identity),
    /// without a NUL terminator.
    public static func derive(identity: [UInt8], ik: [UInt8], ck: [UInt8]) throws -> EAPAKAKeys {
        try requireLength(ik, 16, "IK")
        try requireLength(ck, 16, "CK")
        let mk = Digest.hash(.sha1, identity + ik + ck)
        return try fromMK(mk)
    }

    public static func derive(identity: String, ik: [UInt8], ck: [UInt8]) throws -> EAPAKAKeys {
        try derive(identity: Array(identity.utf8), ik: ik, ck: ck)
    }

    /// The PRF expansion and split from a 20-byte MK (also the EAP-SIM split of RFC 4186).
    public static func fromMK(_ mk: [UInt8]) throws -> EAPAKAKeys {
        let x = try FIPS186PRF.generate(xkey: mk, length: 160)
        return EAPAKAKeys(mk: mk, kEncr: Array(x[0..<16]), kAut: Array(x[16..<32]),
                          msk: Array(x[32..<96]), emsk: Array(x[96..<160]))
    }

    /// AT_MAC value (RFC 4187 §10.15): HMAC-SHA1-128 with K_aut over the whole EAP packet
    /// (AT_MAC value zeroed) followed by `extra` (empty for EAP-AKA challenges).
    public static func atMAC(kAut: [UInt8], packet: [UInt8], extra: [UInt8] = []) -> [UInt8] {
        Array(HMAC.mac(.sha1, key: kAut, data: packet + extra).prefix(16))
    }

    /// Verifies the 16-byte AT_MAC value found at `macOffset` in `packet`: zeroes it,
    /// recomputes, compares in constant time. False if the offset is out of range.
    public static func verifyATMAC(kAut: [UInt8], packet: [UInt8], macOffset: Int, extra: [UInt8] = []) -> Bool {
        verifyMAC(packet: packet, macOffset: macOffset) { atMAC(kAut: kAut, packet: $0, extra: extra) }
    }
}

/// Shared AT_MAC check: copy out the MAC, zero it in the packet, recompute, compare.
func verifyMAC(packet: [UInt8], macOffset: Int, compute: ([UInt8]) -> [UInt8]) -> Bool {
    guard macOffset >= 0, macOffset + 16 <= packet.count else { return false }
    let received = Array(packet[macOffset..<macOffset + 16])
    var zeroed = packet
    for i in macOffset..<macOffset + 16 { zeroed[i] = 0 }
    return constantTimeEqual(compute(zeroed), received)
}
