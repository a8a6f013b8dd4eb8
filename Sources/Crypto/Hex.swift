/// Hex encoding and decoding for byte arrays: keys in configs, logs and vectors are hex.
public enum Hex {
    /// Decodes hex digits, ignoring an optional `0x` prefix, spaces and colons.
    /// Returns nil on an odd digit count or a non-hex character.
    public static func decode(_ s: String) -> [UInt8]? {
        var digits: [UInt8] = []
        digits.reserveCapacity(s.utf8.count)
        var body = Substring(s)
        if body.hasPrefix("0x") || body.hasPrefix("0X") { body = body.dropFirst(2) }
        for c in body.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digits.append(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digits.append(c - 55)
            case UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "\n"), UInt8(ascii: "\t"): continue
            default: return nil
            }
        }
        guard digits.count % 2 == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: digits.count / 2)
        for i in 0..<out.count { out[i] = digits[2 * i] << 4 | digits[2 * i + 1] }
        return out
    }

    /// An SPI with all its digits (16 for IKE, 8 for ESP), as captures and peers print it:
    /// `String(_:radix:)` drops leading zeros, so one SPI in sixteen would not match its capture.
    public static func spi<T: FixedWidthInteger & UnsignedInteger>(_ v: T) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, T.bitWidth / 4 - s.count)) + s
    }

    /// Lower-case hex without separators.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(table[Int(b >> 4)]); out.append(table[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// `[UInt8](hex: "00ff")`; traps on bad hex, so use only for literals and tests.
    public init(hex: String) {
        guard let b = Hex.decode(hex) else { preconditionFailure("bad hex literal: \(hex)") }
        self = b
    }
    public var hex: String { Hex.encode(self) }
}

/// XOR of two equal-length byte sequences (used by Milenage, AUTN, AUTS, IKE PRFs).
public func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    precondition(a.count == b.count, "xor of unequal lengths \(a.count) and \(b.count)")
    var out = a
    for i in 0..<out.count { out[i] ^= b[i] }
    return out
}
