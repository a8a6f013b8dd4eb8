/// Why a read from network bytes failed: what was being read, where, and how much was missing.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes were left than the field needs.
    case truncated(what: String, offset: Int, needed: Int, available: Int)
    /// A length or value field holds something impossible (e.g. a length shorter than its own header).
    case invalidValue(what: String, offset: Int, detail: String)

    public var description: String {
        switch self {
        case let .truncated(what, offset, needed, available):
            return "truncated \(what) at offset \(offset): needed \(needed) bytes, \(available) left"
        case let .invalidValue(what, offset, detail):
            return "invalid \(what) at offset \(offset): \(detail)"
        }
    }
}

/// A bounds-checked big-endian reader over a byte array. Every read names what it reads so
/// that a malformed packet yields an error such as "truncated Notify SPI at offset 52";
/// it never traps on input.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Absolute offset of the next byte to read.
    public private(set) var offset: Int
    /// The end of the readable window (exclusive); a sub-reader may stop before `bytes.count`.
    public let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    init(bytes: [UInt8], offset: Int, end: Int) {
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    /// Bytes left before `end`.
    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    @inline(__always)
    private func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, remaining >= n else {
            throw WireError.truncated(what: what(), offset: offset, needed: n, available: remaining)
        }
    }

    public mutating func u8(_ what: @autoclosure () -> String = "u8") throws -> UInt8 {
        try need(1, what())
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func u16(_ what: @autoclosure () -> String = "u16") throws -> UInt16 {
        try need(2, what())
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func u24(_ what: @autoclosure () -> String = "u24") throws -> UInt32 {
        try need(3, what())
        defer { offset += 3 }
        return UInt32(bytes[offset]) << 16 | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2])
    }

    public mutating func u32(_ what: @autoclosure () -> String = "u32") throws -> UInt32 {
        try need(4, what())
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return v
    }

    public mutating func u64(_ what: @autoclosure () -> String = "u64") throws -> UInt64 {
        try need(8, what())
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    /// The next `count` bytes.
    public mutating func bytes(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws -> [UInt8] {
        try need(count, what())
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Everything up to `end`.
    public mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    public mutating func skip(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws {
        try need(count, what())
        offset += count
    }

    /// Looks at the byte `ahead` positions from the cursor without consuming.
    public func peek(_ ahead: Int = 0, _ what: @autoclosure () -> String = "u8") throws -> UInt8 {
        guard ahead >= 0, remaining > ahead else {
            throw WireError.truncated(what: what(), offset: offset + ahead, needed: 1, available: max(0, remaining - ahead))
        }
        return bytes[offset + ahead]
    }

    /// A reader limited to the next `count` bytes (offsets stay absolute, so errors point into
    /// the whole message); the cursor of `self` moves past them.
    public mutating func subReader(_ count: Int, _ what: @autoclosure () -> String) throws -> ByteReader {
        try need(count, what())
        let r = ByteReader(bytes: bytes, offset: offset, end: offset + count)
        offset += count
        return r
    }
}
