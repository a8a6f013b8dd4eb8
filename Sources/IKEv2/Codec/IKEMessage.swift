import Wire

/// Errors in an IKE message that are not plain truncation.
public enum IKEMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedMajorVersion(UInt8)
    case lengthMismatch(header: UInt32, datagram: Int)

    public var description: String {
        switch self {
        case let .unsupportedMajorVersion(v): "IKE major version \(v) (only 2 is supported)"
        case let .lengthMismatch(h, d): "IKE header length \(h) but datagram has \(d) bytes"
        }
    }
}

/// A whole IKE message: header and payload chain (with SK still opaque).
public struct IKEMessage: Hashable, Sendable {
    public var header: IKEHeader
    public var payloads: [Payload]

    public init(header: IKEHeader, payloads: [Payload]) { self.header = header; self.payloads = payloads }

    /// Parses one datagram (without the 4-byte non-ESP marker of port 4500).
    public init(parsing bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        header = try IKEHeader(parsing: &r)
        guard header.majorVersion == 2 else { throw IKEMessageError.unsupportedMajorVersion(header.majorVersion) }
        guard Int(header.length) == bytes.count else {
            throw IKEMessageError.lengthMismatch(header: header.length, datagram: bytes.count)
        }
        payloads = try Payload.parseChain(first: header.nextPayload, &r)
    }

    /// Parses just the header, for dispatch by SPI before any other work.
    public static func peekHeader(_ bytes: [UInt8]) throws -> IKEHeader {
        var r = ByteReader(bytes)
        return try IKEHeader(parsing: &r)
    }

    /// Serializes with Next Payload and Length fields computed.
    public func serialize() -> [UInt8] {
        var w = ByteWriter(capacity: 512)
        var h = header
        h.nextPayload = payloads.first?.type ?? .none
        h.serialize(into: &w)
        Payload.serializeChain(payloads, into: &w)
        w.patch(at: 24, width: 4, value: UInt64(w.count))
        return w.bytes
    }
}
