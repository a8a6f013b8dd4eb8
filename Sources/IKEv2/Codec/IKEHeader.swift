import Wire

/// IKEv2 exchange types (RFC 7296 §3.1); unknown values are kept.
public struct ExchangeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let IKE_SA_INIT = ExchangeType(rawValue: 34)
    public static let IKE_AUTH = ExchangeType(rawValue: 35)
    public static let CREATE_CHILD_SA = ExchangeType(rawValue: 36)
    public static let INFORMATIONAL = ExchangeType(rawValue: 37)
    public var description: String {
        switch rawValue {
        case 34: "IKE_SA_INIT"; case 35: "IKE_AUTH"; case 36: "CREATE_CHILD_SA"; case 37: "INFORMATIONAL"
        default: "EXCHANGE(\(rawValue))"
        }
    }
}

/// Payload type numbers (RFC 7296 §3.2, RFC 7383 for SKF).
public struct PayloadType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let none = PayloadType(rawValue: 0)
    public static let SA = PayloadType(rawValue: 33)
    public static let KE = PayloadType(rawValue: 34)
    public static let IDi = PayloadType(rawValue: 35)
    public static let IDr = PayloadType(rawValue: 36)
    public static let CERT = PayloadType(rawValue: 37)
    public static let CERTREQ = PayloadType(rawValue: 38)
    public static let AUTH = PayloadType(rawValue: 39)
    public static let Nonce = PayloadType(rawValue: 40)
    public static let N = PayloadType(rawValue: 41)
    public static let D = PayloadType(rawValue: 42)
    public static let V = PayloadType(rawValue: 43)
    public static let TSi = PayloadType(rawValue: 44)
    public static let TSr = PayloadType(rawValue: 45)
    public static let SK = PayloadType(rawValue: 46)
    public static let CP = PayloadType(rawValue: 47)
    public static let EAP = PayloadType(rawValue: 48)
    public static let SKF = PayloadType(rawValue: 53)
    public var description: String {
        switch rawValue {
        case 0: "NONE"; case 33: "SA"; case 34: "KE"; case 35: "IDi"; case 36: "IDr"; case 37: "CERT"; case 38: "CERTREQ"
        case 39: "AUTH"; case 40: "Ni/Nr"; case 41: "N"; case 42: "D"; case 43: "V"; case 44: "TSi"; case 45: "TSr"
        case 46: "SK"; case 47: "CP"; case 48: "EAP"; case 53: "SKF"
        default: "PAYLOAD(\(rawValue))"
        }
    }
}

/// The fixed 28-octet IKE header (RFC 7296 §3.1).
public struct IKEHeader: Hashable, Sendable {
    public var spiI: UInt64
    public var spiR: UInt64
    public var nextPayload: PayloadType
    public var majorVersion: UInt8
    public var minorVersion: UInt8
    public var exchangeType: ExchangeType
    /// I: the sender is the original initiator of the IKE SA.
    public var isInitiator: Bool
    /// R: this message is a response.
    public var isResponse: Bool
    /// V: the sender can speak a higher major version.
    public var higherVersion: Bool
    public var messageID: UInt32
    /// Total message length including the header (filled in by serialization).
    public var length: UInt32

    public static let size = 28

    public init(spiI: UInt64, spiR: UInt64, nextPayload: PayloadType = .none, exchangeType: ExchangeType,
                isInitiator: Bool, isResponse: Bool, messageID: UInt32, majorVersion: UInt8 = 2, minorVersion: UInt8 = 0,
                higherVersion: Bool = false, length: UInt32 = 0) {
        self.spiI = spiI; self.spiR = spiR; self.nextPayload = nextPayload
        self.majorVersion = majorVersion; self.minorVersion = minorVersion
        self.exchangeType = exchangeType; self.isInitiator = isInitiator; self.isResponse = isResponse
        self.higherVersion = higherVersion; self.messageID = messageID; self.length = length
    }

    public init(parsing r: inout ByteReader) throws {
        spiI = try r.u64("IKE SPIi")
        spiR = try r.u64("IKE SPIr")
        nextPayload = PayloadType(rawValue: try r.u8("IKE next payload"))
        let v = try r.u8("IKE version")
        majorVersion = v >> 4
        minorVersion = v & 0x0f
        exchangeType = ExchangeType(rawValue: try r.u8("IKE exchange type"))
        let flags = try r.u8("IKE flags")
        isInitiator = flags & 0x08 != 0
        higherVersion = flags & 0x10 != 0
        isResponse = flags & 0x20 != 0
        messageID = try r.u32("IKE message ID")
        length = try r.u32("IKE length")
    }

    public var flags: UInt8 {
        (isInitiator ? 0x08 : 0) | (higherVersion ? 0x10 : 0) | (isResponse ? 0x20 : 0)
    }

    public func serialize(into w: inout ByteWriter) {
        w.u64(spiI); w.u64(spiR); w.u8(nextPayload.rawValue)
        w.u8(majorVersion << 4 | (minorVersion & 0x0f)); w.u8(exchangeType.rawValue); w.u8(flags)
        w.u32(messageID); w.u32(length)
    }
}
