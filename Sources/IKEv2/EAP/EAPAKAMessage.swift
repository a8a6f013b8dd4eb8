import Wire

/// EAP-AKA / EAP-AKA' subtypes (RFC 4187 §11, RFC 5448).
public enum AKASubtype: UInt8, Sendable, Hashable, CustomStringConvertible {
    case challenge = 1, authenticationReject = 2, synchronizationFailure = 4, identity = 5
    case notification = 12, reauthentication = 13, clientError = 14
    public var description: String {
        switch self {
        case .challenge: "AKA-Challenge"; case .authenticationReject: "AKA-Authentication-Reject"
        case .synchronizationFailure: "AKA-Synchronization-Failure"; case .identity: "AKA-Identity"
        case .notification: "AKA-Notification"; case .reauthentication: "AKA-Reauthentication"
        case .clientError: "AKA-Client-Error"
        }
    }
}

/// EAP-AKA attributes (RFC 4187 §10, RFC 5448 §3). Encrypted ones (AT_IV, AT_ENCR_DATA...)
/// and anything unknown but skippable are kept raw in `.other`.
public enum AKAAttribute: Hashable, Sendable {
    case AT_RAND([UInt8])
    case AT_AUTN([UInt8])
    /// RES with its length in bits (RFC 4187 §10.8).
    case AT_RES(res: [UInt8], bits: UInt16)
    case AT_AUTS([UInt8])
    case AT_PADDING(Int)
    case AT_PERMANENT_ID_REQ
    case AT_MAC([UInt8])
    case AT_NOTIFICATION(UInt16)
    case AT_ANY_ID_REQ
    case AT_IDENTITY([UInt8])
    case AT_FULLAUTH_ID_REQ
    case AT_CLIENT_ERROR_CODE(UInt16)
    case AT_KDF_INPUT([UInt8])
    case AT_KDF(UInt16)
    case AT_CHECKCODE([UInt8])
    case AT_RESULT_IND
    case AT_BIDDING(UInt16)
    case other(type: UInt8, value: [UInt8])

    public static let typeRAND: UInt8 = 1, typeAUTN: UInt8 = 2, typeRES: UInt8 = 3, typeAUTS: UInt8 = 4
    public static let typePADDING: UInt8 = 6, typePERMANENT_ID_REQ: UInt8 = 10, typeMAC: UInt8 = 11
    public static let typeNOTIFICATION: UInt8 = 12, typeANY_ID_REQ: UInt8 = 13, typeIDENTITY: UInt8 = 14
    public static let typeFULLAUTH_ID_REQ: UInt8 = 17, typeCLIENT_ERROR_CODE: UInt8 = 22
    public static let typeKDF_INPUT: UInt8 = 23, typeKDF: UInt8 = 24
    public static let typeIV: UInt8 = 129, typeENCR_DATA: UInt8 = 130, typeCHECKCODE: UInt8 = 134
    public static let typeRESULT_IND: UInt8 = 135, typeBIDDING: UInt8 = 136

    public var type: UInt8 {
        switch self {
        case .AT_RAND: 1; case .AT_AUTN: 2; case .AT_RES: 3; case .AT_AUTS: 4; case .AT_PADDING: 6
        case .AT_PERMANENT_ID_REQ: 10; case .AT_MAC: 11; case .AT_NOTIFICATION: 12; case .AT_ANY_ID_REQ: 13
        case .AT_IDENTITY: 14; case .AT_FULLAUTH_ID_REQ: 17; case .AT_CLIENT_ERROR_CODE: 22
        case .AT_KDF_INPUT: 23; case .AT_KDF: 24; case .AT_CHECKCODE: 134; case .AT_RESULT_IND: 135
        case .AT_BIDDING: 136; case let .other(t, _): t
        }
    }

    /// The value bytes after Type and Length (already padded to make the total a multiple of 4).
    var value: [UInt8] {
        func padded(_ b: [UInt8], prefix: [UInt8]) -> [UInt8] {
            let v = prefix + b
            let pad = (4 - (v.count + 2) % 4) % 4
            return v + [UInt8](repeating: 0, count: pad)
        }
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        switch self {
        case let .AT_RAND(b), let .AT_AUTN(b), let .AT_MAC(b): return [0, 0] + b
        case let .AT_RES(res, bits): return padded(res, prefix: u16(bits))
        case let .AT_AUTS(b): return b
        case let .AT_PADDING(n): return [UInt8](repeating: 0, count: n)
        case .AT_PERMANENT_ID_REQ, .AT_ANY_ID_REQ, .AT_FULLAUTH_ID_REQ, .AT_RESULT_IND: return [0, 0]
        case let .AT_NOTIFICATION(v), let .AT_CLIENT_ERROR_CODE(v), let .AT_KDF(v), let .AT_BIDDING(v): return u16(v)
        case let .AT_IDENTITY(b), let .AT_KDF_INPUT(b): return padded(b, prefix: u16(UInt16(b.count)))
        case let .AT_CHECKCODE(b): return [0, 0] + b
        case let .other(_, v): return v
        }
    }

    static func parse(type: UInt8, value v: [UInt8], at offset: Int) throws -> AKAAttribute {
        var r = ByteReader(v)
        func fixed(_ n: Int, _ name: String) throws -> [UInt8] {
            guard v.count == 2 + n else {
                throw WireError.invalidValue(what: name, offset: offset, detail: "value length \(v.count), expected \(2 + n)")
            }
            return Array(v[2...])
        }
        func lengthPrefixed(_ name: String, bits: Bool) throws -> [UInt8] {
            let n = Int(try r.u16("\(name) length"))
            let bytes = bits ? (n + 7) / 8 : n
            let b = try r.bytes(bytes, name)
            guard r.remaining < 4 else {
                throw WireError.invalidValue(what: name, offset: offset, detail: "\(r.remaining) padding bytes")
            }
            return b
        }
        switch type {
        case typeRAND: return .AT_RAND(try fixed(16, "AT_RAND"))
        case typeAUTN: return .AT_AUTN(try fixed(16, "AT_AUTN"))
        case typeMAC: return .AT_MAC(try fixed(16, "AT_MAC"))
        case typeRES:
            let bits = try r.u16("AT_RES length")
            guard (32...128).contains(bits) else {
                throw WireError.invalidValue(what: "AT_RES length", offset: offset, detail: "\(bits) bits not in 32...128")
            }
            let res = try r.bytes(Int(bits + 7) / 8, "AT_RES")
            return .AT_RES(res: res, bits: bits)
        case typeAUTS:
            guard v.count == 14 else { throw WireError.invalidValue(what: "AT_AUTS", offset: offset, detail: "value length \(v.count)") }
            return .AT_AUTS(v)
        case typePADDING: return .AT_PADDING(v.count)
        case typePERMANENT_ID_REQ: return .AT_PERMANENT_ID_REQ
        case typeANY_ID_REQ: return .AT_ANY_ID_REQ
        case typeFULLAUTH_ID_REQ: return .AT_FULLAUTH_ID_REQ
        case typeRESULT_IND: return .AT_RESULT_IND
        case typeNOTIFICATION: return .AT_NOTIFICATION(try r.u16("AT_NOTIFICATION"))
        case typeCLIENT_ERROR_CODE: return .AT_CLIENT_ERROR_CODE(try r.u16("AT_CLIENT_ERROR_CODE"))
        case typeKDF: return .AT_KDF(try r.u16("AT_KDF"))
        case typeBIDDING: return .AT_BIDDING(try r.u16("AT_BIDDING"))
        case typeIDENTITY: return .AT_IDENTITY(try lengthPrefixed("AT_IDENTITY", bits: false))
        case typeKDF_INPUT: return .AT_KDF_INPUT(try lengthPrefixed("AT_KDF_INPUT", bits: false))
        case typeCHECKCODE: return .AT_CHECKCODE(Array(v.dropFirst(2)))
        default:
            // RFC 4187 §8.1: unknown attributes 0-127 are non-skippable.
            guard type >= 128 else {
                throw WireError.invalidValue(what: "EAP-AKA attribute", offset: offset, detail: "unknown non-skippable type \(type)")
            }
            return .other(type: type, value: v)
        }
    }
}

/// The type-data of an EAP-AKA (23) or EAP-AKA' (50) Request/Response: subtype and attributes.
public struct EAPAKAMessage: Hashable, Sendable {
    public var subtype: AKASubtype
    public var attributes: [AKAAttribute]

    public init(subtype: AKASubtype, attributes: [AKAAttribute]) { self.subtype = subtype; self.attributes = attributes }

    /// Parses the type-data (the bytes after the EAP Type octet).
    public init(parsing typeData: [UInt8]) throws {
        var r = ByteReader(typeData)
        let st = try r.u8("EAP-AKA subtype")
        guard let s = AKASubtype(rawValue: st) else { throw WireError.invalidValue(what: "EAP-AKA subtype", offset: 0, detail: "\(st)") }
        subtype = s
        try r.skip(2, "EAP-AKA reserved")
        attributes = []
        while !r.isAtEnd {
            let at = r.offset
            let t = try r.u8("EAP-AKA attribute type")
            let words = Int(try r.u8("EAP-AKA attribute length"))
            guard words >= 1 else { throw WireError.invalidValue(what: "EAP-AKA attribute length", offset: at + 1, detail: "0") }
            let v = try r.bytes(words * 4 - 2, "EAP-AKA attribute \(t) value")
            attributes.append(try AKAAttribute.parse(type: t, value: v, at: at))
        }
    }

    public func serializeTypeData() -> [UInt8] {
        var w = ByteWriter()
        w.u8(subtype.rawValue); w.u16(0)
        for a in attributes {
            let v = a.value
            w.u8(a.type); w.u8(UInt8(truncatingIfNeeded: (v.count + 2) / 4)); w.append(v)
        }
        return w.bytes
    }

    /// Builds the whole EAP packet. If the message holds an AT_MAC, its value is computed by
    /// `mac` over the packet with the MAC zeroed (RFC 4187 §10.15) and patched in.
    public func packet(code: EAPCode, identifier: UInt8, method: UInt8, mac: (([UInt8]) -> [UInt8])? = nil) -> [UInt8] {
        var msg = self
        if let i = msg.attributes.firstIndex(where: { if case .AT_MAC = $0 { true } else { false } }) {
            msg.attributes[i] = .AT_MAC([UInt8](repeating: 0, count: 16))
        }
        var bytes = EAPPacket(code: code, identifier: identifier, type: method, typeData: msg.serializeTypeData()).serialize()
        if let mac, let off = msg.macValueOffset() {
            let m = mac(bytes)
            bytes.replaceSubrange(off..<off + 16, with: m.prefix(16))
        }
        return bytes
    }

    /// Offset of the 16-byte AT_MAC value inside the whole EAP packet (header 5 + subtype 3).
    public func macValueOffset() -> Int? {
        var off = 8
        for a in attributes {
            if case .AT_MAC = a { return off + 4 }
            off += 2 + a.value.count
        }
        return nil
    }

    public func first<T>(_ f: (AKAAttribute) -> T?) -> T? { attributes.lazy.compactMap(f).first }
    public var rand: [UInt8]? { first { if case let .AT_RAND(v) = $0 { v } else { nil } } }
    public var autn: [UInt8]? { first { if case let .AT_AUTN(v) = $0 { v } else { nil } } }
    public var res: [UInt8]? { first { if case let .AT_RES(v, _) = $0 { v } else { nil } } }
    public var auts: [UInt8]? { first { if case let .AT_AUTS(v) = $0 { v } else { nil } } }
    public var mac: [UInt8]? { first { if case let .AT_MAC(v) = $0 { v } else { nil } } }
    public var identity: [UInt8]? { first { if case let .AT_IDENTITY(v) = $0 { v } else { nil } } }
    public var kdfs: [UInt16] { attributes.compactMap { if case let .AT_KDF(v) = $0 { v } else { nil } } }
    public var kdfInput: [UInt8]? { first { if case let .AT_KDF_INPUT(v) = $0 { v } else { nil } } }
    public var clientErrorCode: UInt16? { first { if case let .AT_CLIENT_ERROR_CODE(v) = $0 { v } else { nil } } }
    public var notification: UInt16? { first { if case let .AT_NOTIFICATION(v) = $0 { v } else { nil } } }
}
