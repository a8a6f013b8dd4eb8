/// An append-only big-endian writer. Length fields that precede their content are written as
/// placeholders and patched once the content is known (`beginLength`/`endLength`).
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff)) }
    public mutating func u24(_ v: UInt32) {
        bytes.append(UInt8((v >> 16) & 0xff)); bytes.append(UInt8((v >> 8) & 0xff)); bytes.append(UInt8(v & 0xff))
    }
    public mutating func u32(_ v: UInt32) {
        for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((v >> UInt32(s)) & 0xff)) }
    }
    public mutating func u64(_ v: UInt64) {
        for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(s)) & 0xff)) }
    }
    public mutating func append<S: Sequence>(_ s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }
    public mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    /// A marker for a length field written as zeros, to be filled by `endLength`.
    public struct LengthMark: Sendable {
        public let position: Int
        public let width: Int
        /// Where the counted region starts (the length counts bytes from here to the end).
        public let regionStart: Int
    }

    /// Writes a zero placeholder of `width` (1, 2 or 4) bytes. The length later patched in
    /// counts from `regionStart` (default: the start of the placeholder itself).
    public mutating func beginLength(width: Int = 2, regionStart: Int? = nil) -> LengthMark {
        let m = LengthMark(position: bytes.count, width: width, regionStart: regionStart ?? bytes.count)
        zeros(width)
        return m
    }

    /// Patches `mark` with the number of bytes from its region start to the current end,
    /// plus `adjust`, scaled by `divisor` (EAP-AKA attributes count in 4-byte words).
    public mutating func endLength(_ mark: LengthMark, adjust: Int = 0, divisor: Int = 1) {
        let value = (bytes.count - mark.regionStart + adjust) / divisor
        patch(at: mark.position, width: mark.width, value: UInt64(value))
    }

    /// Overwrites `width` bytes at `at` with `value`, big-endian.
    public mutating func patch(at: Int, width: Int, value: UInt64) {
        for i in 0..<width {
            bytes[at + i] = UInt8((value >> UInt64(8 * (width - 1 - i))) & 0xff)
        }
    }

    public mutating func patch(at: Int, with data: [UInt8]) {
        bytes.replaceSubrange(at..<at + data.count, with: data)
    }
}
