import Wire

/// RADIUS packet codes (RFC 2865 §3, RFC 2866, RFC 5997).
public enum RADIUSCode: UInt8, Sendable, Hashable, CustomStringConvertible {
    case accessRequest = 1, accessAccept = 2, accessReject = 3
    case accountingRequest = 4, accountingResponse = 5
    case accessChallenge = 11, statusServer = 12, statusClient = 13

    public var description: String {
        switch self {
        case .accessRequest: "Access-Request"; case .accessAccept: "Access-Accept"; case .accessReject: "Access-Reject"
        case .accountingRequest: "Accounting-Request"; case .accountingResponse: "Accounting-Response"
        case .accessChallenge: "Access-Challenge"; case .statusServer: "Status-Server"; case .statusClient: "Status-Client"
        }
    }
}

/// Attribute types used here (RFC 2865 §5, RFC 2869, RFC 3579, RFC 3162).
public enum RADIUSAttributeType {
    public static let userName: UInt8 = 1
    public static let userPassword: UInt8 = 2
    public static let nasIPAddress: UInt8 = 4
    public static let nasPort: UInt8 = 5
    public static let serviceType: UInt8 = 6
    public static let framedMTU: UInt8 = 12
    public static let replyMessage: UInt8 = 18
    public static let state: UInt8 = 24
    public static let `class`: UInt8 = 25
    public static let vendorSpecific: UInt8 = 26
    public static let sessionTimeout: UInt8 = 27
    public static let calledStationId: UInt8 = 30
    public static let callingStationId: UInt8 = 31
    public static let nasIdentifier: UInt8 = 32
    public static let proxyState: UInt8 = 33
    public static let acctSessionId: UInt8 = 44
    public static let nasPortType: UInt8 = 61
    public static let connectInfo: UInt8 = 77
    public static let eapMessage: UInt8 = 79
    public static let messageAuthenticator: UInt8 = 80
    public static let nasIPv6Address: UInt8 = 95
}

/// One attribute: Type, and a Value of at most 253 octets (Length is 2 + value).
public struct RADIUSAttribute: Hashable, Sendable, CustomStringConvertible {
    public var type: UInt8
    public var value: [UInt8]

    public init(type: UInt8, value: [UInt8]) { self.type = type; self.value = value }
    public init(type: UInt8, string: String) { self.type = type; value = Array(string.utf8) }
    public init(type: UInt8, integer: UInt32) {
        self.type = type
        value = [UInt8(integer >> 24), UInt8((integer >> 16) & 0xff), UInt8((integer >> 8) & 0xff), UInt8(integer & 0xff)]
    }

    /// Longest value an attribute can carry.
    public static let maxValueLength = 253

    public var integer: UInt32? {
        guard value.count == 4 else { return nil }
        return value.reduce(0) { $0 << 8 | UInt32($1) }
    }
    public var string: String { String(decoding: value, as: UTF8.self) }
    public var description: String { "attr \(type) (\(value.count) bytes)" }
}

/// A RADIUS packet (RFC 2865 §3): Code, Identifier, Length, Authenticator, Attributes.
/// `serialize` writes the authenticator as held; the signing in `RADIUSAuthenticator`
/// fills the Response Authenticator and Message-Authenticator.
public struct RADIUSPacket: Hashable, Sendable, CustomStringConvertible {
    public var code: RADIUSCode
    public var identifier: UInt8
    public var authenticator: [UInt8]
    public var attributes: [RADIUSAttribute]

    public static let headerLength = 20
    /// RFC 2865 §3: the maximum packet length.
    public static let maxLength = 4096

    public init(code: RADIUSCode, identifier: UInt8, authenticator: [UInt8] = [UInt8](repeating: 0, count: 16),
                attributes: [RADIUSAttribute] = []) {
        self.code = code; self.identifier = identifier; self.authenticator = authenticator; self.attributes = attributes
    }

    /// Parses a datagram. Octets past Length are padding and ignored (RFC 2865 §3); a
    /// datagram shorter than Length, or an attribute overrunning it, is an error.
    public init(parsing bytes: [UInt8]) throws(RADIUSError) {
        guard bytes.count >= Self.headerLength else { throw .truncated(bytes.count) }
        guard let code = RADIUSCode(rawValue: bytes[0]) else { throw .unknownCode(bytes[0]) }
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard length >= Self.headerLength, length <= Self.maxLength else { throw .badLength(length, datagram: bytes.count) }
        guard length <= bytes.count else { throw .badLength(length, datagram: bytes.count) }
        self.code = code
        identifier = bytes[1]
        authenticator = Array(bytes[4..<20])
        attributes = []
        var off = Self.headerLength
        while off < length {
            guard off + 2 <= length else { throw .badAttribute(offset: off, "header overruns the packet") }
            let t = bytes[off], l = Int(bytes[off + 1])
            guard l >= 2, off + l <= length else { throw .badAttribute(offset: off, "length \(l) for type \(t)") }
            attributes.append(RADIUSAttribute(type: t, value: Array(bytes[(off + 2)..<(off + l)])))
            off += l
        }
    }

    /// Encodes the packet; values longer than 253 octets or a total over 4096 are errors.
    public func serialize() throws(RADIUSError) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.u8(code.rawValue); w.u8(identifier)
        let m = w.beginLength(width: 2, regionStart: 0)
        guard authenticator.count == 16 else { throw .badAuthenticatorLength(authenticator.count) }
        w.append(authenticator)
        for a in attributes {
            guard a.value.count <= RADIUSAttribute.maxValueLength else { throw .attributeTooLong(type: a.type, a.value.count) }
            w.u8(a.type); w.u8(UInt8(a.value.count + 2)); w.append(a.value)
        }
        w.endLength(m)
        guard w.count <= Self.maxLength else { throw .packetTooLong(w.count) }
        return w.bytes
    }

    public func first(_ type: UInt8) -> RADIUSAttribute? { attributes.first { $0.type == type } }
    public func all(_ type: UInt8) -> [RADIUSAttribute] { attributes.filter { $0.type == type } }

    /// The EAP packet carried in EAP-Message attributes, concatenated in order (RFC 3579
    /// §3.1); nil when there is none. An empty result means EAP-Start (§2.1).
    public var eapMessage: [UInt8]? {
        let parts = all(RADIUSAttributeType.eapMessage)
        return parts.isEmpty ? nil : parts.flatMap(\.value)
    }

    /// Splits an EAP packet into EAP-Message attributes of at most 253 octets each.
    public static func eapMessageAttributes(_ eap: [UInt8]) -> [RADIUSAttribute] {
        if eap.isEmpty { return [RADIUSAttribute(type: RADIUSAttributeType.eapMessage, value: [])] }
        return stride(from: 0, to: eap.count, by: RADIUSAttribute.maxValueLength).map {
            RADIUSAttribute(type: RADIUSAttributeType.eapMessage,
                            value: Array(eap[$0..<min($0 + RADIUSAttribute.maxValueLength, eap.count)]))
        }
    }

    public var userName: String? { first(RADIUSAttributeType.userName)?.string }
    public var nasIdentifier: String? { first(RADIUSAttributeType.nasIdentifier)?.string }
    public var callingStationId: String? { first(RADIUSAttributeType.callingStationId)?.string }
    public var calledStationId: String? { first(RADIUSAttributeType.calledStationId)?.string }
    public var framedMTU: UInt32? { first(RADIUSAttributeType.framedMTU)?.integer }
    public var state: [UInt8]? { first(RADIUSAttributeType.state)?.value }
    public var nasIPAddress: IPAddress? { first(RADIUSAttributeType.nasIPAddress).flatMap { IPAddress(bytes: $0.value) } }

    public var description: String { "\(code) id=\(identifier) (\(attributes.count) attributes)" }
}

/// Why a RADIUS datagram or attribute was refused.
public enum RADIUSError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(Int)
    case unknownCode(UInt8)
    case badLength(Int, datagram: Int)
    case badAttribute(offset: Int, String)
    case badAuthenticatorLength(Int)
    case attributeTooLong(type: UInt8, Int)
    case packetTooLong(Int)
    case badVendorAttribute(String)

    public var description: String {
        switch self {
        case let .truncated(n): "datagram of \(n) bytes is shorter than the 20-byte RADIUS header"
        case let .unknownCode(c): "unknown RADIUS code \(c)"
        case let .badLength(l, d): "RADIUS Length \(l) invalid for a \(d)-byte datagram"
        case let .badAttribute(o, s): "bad attribute at offset \(o): \(s)"
        case let .badAuthenticatorLength(n): "authenticator of \(n) bytes (must be 16)"
        case let .attributeTooLong(t, n): "attribute \(t) value of \(n) bytes exceeds 253"
        case let .packetTooLong(n): "packet of \(n) bytes exceeds 4096"
        case let .badVendorAttribute(s): "bad Vendor-Specific attribute: \(s)"
        }
    }
}
