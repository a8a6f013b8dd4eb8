/// The DEVICE_IDENTITY notify data (TS 24.302 §8.2.9.2): length (2 octets) | identity type
/// (1 = IMEI, 2 = IMEISV) | TBCD digits, low nibble first, 0xF filler for an odd count.
public struct DeviceIdentity: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable { case imei = 1, imeisv = 2 }
    public var kind: Kind
    public var digits: String

    public init(kind: Kind, digits: String) { self.kind = kind; self.digits = digits }

    public init?(notifyData d: [UInt8]) {
        guard d.count >= 3 else { return nil }
        let len = Int(d[0]) << 8 | Int(d[1])
        guard len >= 1, d.count >= 2 + len, let k = Kind(rawValue: d[2]) else { return nil }
        var s = ""
        for b in d[3..<(2 + len)] {
            for nibble in [b & 0x0f, b >> 4] {
                if nibble == 0x0f { continue }
                guard nibble <= 9 else { return nil }
                s.append(Character(Unicode.Scalar(48 + nibble)))
            }
        }
        kind = k
        digits = s
    }

    /// The notify data; an empty identity (only the type) asks the phone for it.
    public var notifyData: [UInt8] {
        var tbcd: [UInt8] = []
        let ds = digits.utf8.map { $0 &- 48 }
        var i = 0
        while i < ds.count {
            let lo = ds[i], hi: UInt8 = i + 1 < ds.count ? ds[i + 1] : 0x0f
            tbcd.append(hi << 4 | lo)
            i += 2
        }
        let len = 1 + tbcd.count
        return [UInt8(len >> 8), UInt8(len & 0xff), kind.rawValue] + tbcd
    }

    public var description: String { (kind == .imei ? "IMEI " : "IMEISV ") + digits }
}
