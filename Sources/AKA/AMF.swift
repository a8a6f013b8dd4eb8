/// Authentication Management Field helpers (TS 33.102 Annex H, TS 33.401 §6.1.1).
public enum AMF {
    /// The dummy AMF used for MAC-S in re-synchronisation (TS 33.102 §6.3.3).
    public static let resynchronization: [UInt8] = [0x00, 0x00]

    /// The "separation bit" (bit 0, the most significant bit of AMF). TS 33.401 requires it
    /// for E-UTRAN vectors and TS 33.402 / RFC 5448 for EAP-AKA'; EAP-AKA ignores it.
    public static func separationBit(_ amf: [UInt8]) -> Bool {
        amf.count == 2 && amf[0] & 0x80 != 0
    }

    /// `amf` with the separation bit set.
    public static func settingSeparationBit(_ amf: [UInt8]) -> [UInt8] {
        guard amf.count == 2 else { return amf }
        return [amf[0] | 0x80, amf[1]]
    }

    /// The 16-bit ue_db integer form (e.g. 0x9001) as two bytes.
    public static func bytes(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
}
