import Wire

/// Transform types (RFC 7296 §3.3.2).
public enum TransformType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case ENCR = 1, PRF = 2, INTEG = 3, DH = 4, ESN = 5
    public var description: String {
        switch self { case .ENCR: "ENCR"; case .PRF: "PRF"; case .INTEG: "INTEG"; case .DH: "D-H"; case .ESN: "ESN" }
    }
}

/// Security protocol IDs in proposals, Notify and Delete (RFC 7296 §3.3.1).
public enum SecurityProtocol: UInt8, Sendable, Hashable, CustomStringConvertible {
    case none = 0, IKE = 1, AH = 2, ESP = 3
    public var description: String {
        switch self { case .none: "NONE"; case .IKE: "IKE"; case .AH: "AH"; case .ESP: "ESP" }
    }
}

/// IANA transform IDs used by this implementation, by the names of the IKEv2 registry.
public enum EncrID {
    public static let ENCR_3DES: UInt16 = 3
    public static let ENCR_BLOWFISH: UInt16 = 7
    public static let ENCR_NULL: UInt16 = 11
    public static let ENCR_AES_CBC: UInt16 = 12
    public static let ENCR_AES_CTR: UInt16 = 13
    public static let ENCR_AES_GCM_8: UInt16 = 18
    public static let ENCR_AES_GCM_12: UInt16 = 19
    public static let ENCR_AES_GCM_16: UInt16 = 20
    public static let ENCR_NULL_AUTH_AES_GMAC: UInt16 = 21
    public static let ENCR_CHACHA20_POLY1305: UInt16 = 28
}
public enum PRFID {
    public static let PRF_HMAC_MD5: UInt16 = 1
    public static let PRF_HMAC_SHA1: UInt16 = 2
    public static let PRF_AES128_XCBC: UInt16 = 4
    public static let PRF_HMAC_SHA2_256: UInt16 = 5
    public static let PRF_HMAC_SHA2_384: UInt16 = 6
    public static let PRF_HMAC_SHA2_512: UInt16 = 7
    public static let PRF_AES128_CMAC: UInt16 = 8
}
public enum IntegID {
    public static let NONE: UInt16 = 0
    public static let AUTH_HMAC_MD5_96: UInt16 = 1
    public static let AUTH_HMAC_SHA1_96: UInt16 = 2
    public static let AUTH_AES_XCBC_96: UInt16 = 5
    public static let AUTH_HMAC_MD5_128: UInt16 = 6
    public static let AUTH_HMAC_SHA1_160: UInt16 = 7
    public static let AUTH_AES_CMAC_96: UInt16 = 8
    public static let AUTH_HMAC_SHA2_256_128: UInt16 = 12
    public static let AUTH_HMAC_SHA2_384_192: UInt16 = 13
    public static let AUTH_HMAC_SHA2_512_256: UInt16 = 14
}
public enum DHGroupID {
    public static let NONE: UInt16 = 0
    public static let MODP_768: UInt16 = 1
    public static let MODP_1024: UInt16 = 2
    public static let MODP_1536: UInt16 = 5
    public static let MODP_2048: UInt16 = 14
    public static let MODP_3072: UInt16 = 15
    public static let MODP_4096: UInt16 = 16
    public static let MODP_6144: UInt16 = 17
    public static let MODP_8192: UInt16 = 18
    public static let ECP_256: UInt16 = 19
    public static let ECP_384: UInt16 = 20
    public static let ECP_521: UInt16 = 21
    public static let MODP_1024_160: UInt16 = 22
    public static let MODP_2048_224: UInt16 = 23
    public static let MODP_2048_256: UInt16 = 24
    public static let CURVE25519: UInt16 = 31
}

/// One transform attribute (RFC 7296 §3.3.5): TV when `format` bit is set, else TLV.
public struct TransformAttribute: Hashable, Sendable {
    public var type: UInt16
    /// TV form: the 2-byte value is in `value`.
    public var isTV: Bool
    public var value: [UInt8]
    public init(type: UInt16, isTV: Bool, value: [UInt8]) { self.type = type; self.isTV = isTV; self.value = value }
    public static let keyLengthType: UInt16 = 14
}

/// A transform substructure: type, ID and (usually) a key length attribute.
public struct Transform: Hashable, Sendable, CustomStringConvertible {
    public var type: TransformType
    public var id: UInt16
    /// Attribute 14 (Key Length, bits), required for AES and absent for fixed-key ciphers.
    public var keyLength: UInt16?
    /// Any attributes other than Key Length, kept as received.
    public var otherAttributes: [TransformAttribute]

    public init(_ type: TransformType, _ id: UInt16, keyLength: UInt16? = nil, otherAttributes: [TransformAttribute] = []) {
        self.type = type; self.id = id; self.keyLength = keyLength; self.otherAttributes = otherAttributes
    }

    public var description: String { "\(type):\(id)" + (keyLength.map { "/\($0)" } ?? "") }

    /// Parses one transform; `rawType` of an unknown transform type is reported through `nil`
    /// so that the proposal can be skipped as unacceptable rather than rejected as malformed.
    static func parse(_ r: inout ByteReader) throws -> (Transform?, isLast: Bool) {
        let start = r.offset
        let last = try r.u8("Transform last-substruc")
        _ = try r.u8("Transform reserved")
        let len = Int(try r.u16("Transform length"))
        guard len >= 8 else { throw WireError.invalidValue(what: "Transform length", offset: start + 2, detail: "\(len) < 8") }
        var body = try ByteReader.sub(&r, from: start, total: len, what: "Transform")
        let rawType = try body.u8("Transform type")
        _ = try body.u8("Transform reserved2")
        let id = try body.u16("Transform ID")
        var keyLength: UInt16?
        var others: [TransformAttribute] = []
        while !body.isAtEnd {
            let aStart = body.offset
            let af = try body.u16("Transform attribute type")
            let type = af & 0x7fff
            if af & 0x8000 != 0 {
                let v = try body.u16("Transform attribute value")
                if type == TransformAttribute.keyLengthType { keyLength = v } else {
                    others.append(TransformAttribute(type: type, isTV: true, value: [UInt8(v >> 8), UInt8(v & 0xff)]))
                }
            } else {
                let l = Int(try body.u16("Transform attribute length"))
                let v = try body.bytes(l, "Transform attribute value")
                if type == TransformAttribute.keyLengthType {
                    throw WireError.invalidValue(what: "Key Length attribute", offset: aStart, detail: "must be TV")
                }
                others.append(TransformAttribute(type: type, isTV: false, value: v))
            }
        }
        guard last == 0 || last == 3 else {
            throw WireError.invalidValue(what: "Transform last-substruc", offset: start, detail: "\(last), expected 0 or 3")
        }
        guard let t = TransformType(rawValue: rawType) else { return (nil, last == 0) }
        return (Transform(t, id, keyLength: keyLength, otherAttributes: others), last == 0)
    }

    func serialize(into w: inout ByteWriter, isLast: Bool) {
        let start = w.count
        w.u8(isLast ? 0 : 3); w.u8(0)
        let m = w.beginLength(width: 2, regionStart: start)
        w.u8(type.rawValue); w.u8(0); w.u16(id)
        if let k = keyLength { w.u16(0x8000 | TransformAttribute.keyLengthType); w.u16(k) }
        for a in otherAttributes {
            if a.isTV, a.value.count == 2 {
                w.u16(0x8000 | a.type); w.append(a.value)
            } else {
                w.u16(a.type & 0x7fff); w.u16(UInt16(a.value.count)); w.append(a.value)
            }
        }
        w.endLength(m)
    }
}

/// A proposal substructure (RFC 7296 §3.3.1).
public struct Proposal: Hashable, Sendable, CustomStringConvertible {
    public var number: UInt8
    public var protocolID: SecurityProtocol
    public var spi: [UInt8]
    public var transforms: [Transform]
    /// True when the proposal carried a transform of a type this code does not know; such a
    /// proposal cannot be chosen (RFC 7296 §3.3.6) but the message is still valid.
    public var hasUnknownTransformType: Bool

    public init(number: UInt8, protocolID: SecurityProtocol, spi: [UInt8] = [], transforms: [Transform],
                hasUnknownTransformType: Bool = false) {
        self.number = number; self.protocolID = protocolID; self.spi = spi; self.transforms = transforms
        self.hasUnknownTransformType = hasUnknownTransformType
    }

    public func transforms(_ type: TransformType) -> [Transform] { transforms.filter { $0.type == type } }

    public var description: String {
        "#\(number) \(protocolID)" + (spi.isEmpty ? "" : " spi=\(spi.hexString)") + " [" + transforms.map(\.description).joined(separator: ", ") + "]"
    }

    static func parse(_ r: inout ByteReader) throws -> (Proposal?, isLast: Bool) {
        let start = r.offset
        let last = try r.u8("Proposal last-substruc")
        _ = try r.u8("Proposal reserved")
        let len = Int(try r.u16("Proposal length"))
        guard len >= 8 else { throw WireError.invalidValue(what: "Proposal length", offset: start + 2, detail: "\(len) < 8") }
        var body = try ByteReader.sub(&r, from: start, total: len, what: "Proposal")
        let num = try body.u8("Proposal number")
        let proto = try body.u8("Proposal protocol ID")
        let spiSize = Int(try body.u8("Proposal SPI size"))
        let count = Int(try body.u8("Proposal transform count"))
        let spi = try body.bytes(spiSize, "Proposal SPI")
        var transforms: [Transform] = []
        var unknown = false
        for i in 0..<count {
            let (t, isLast) = try Transform.parse(&body)
            if let t { transforms.append(t) } else { unknown = true }
            if isLast != (i == count - 1) {
                throw WireError.invalidValue(what: "Transform last-substruc", offset: body.offset, detail: "disagrees with transform count \(count)")
            }
        }
        guard body.isAtEnd else {
            throw WireError.invalidValue(what: "Proposal", offset: body.offset, detail: "\(body.remaining) bytes after \(count) transforms")
        }
        guard last == 0 || last == 2 else {
            throw WireError.invalidValue(what: "Proposal last-substruc", offset: start, detail: "\(last), expected 0 or 2")
        }
        guard let p = SecurityProtocol(rawValue: proto) else { return (nil, last == 0) }
        return (Proposal(number: num, protocolID: p, spi: spi, transforms: transforms, hasUnknownTransformType: unknown), last == 0)
    }

    func serialize(into w: inout ByteWriter, isLast: Bool) {
        let start = w.count
        w.u8(isLast ? 0 : 2); w.u8(0)
        let m = w.beginLength(width: 2, regionStart: start)
        w.u8(number); w.u8(protocolID.rawValue); w.u8(UInt8(spi.count)); w.u8(UInt8(transforms.count))
        w.append(spi)
        for (i, t) in transforms.enumerated() { t.serialize(into: &w, isLast: i == transforms.count - 1) }
        w.endLength(m)
    }
}

/// The SA payload: an ordered list of proposals.
public struct SAPayload: Hashable, Sendable {
    public var proposals: [Proposal]
    public init(proposals: [Proposal]) { self.proposals = proposals }

    public init(parsing r: inout ByteReader) throws {
        proposals = []
        var isLast = r.isAtEnd
        while !isLast {
            let (p, last) = try Proposal.parse(&r)
            if let p { proposals.append(p) }
            isLast = last
        }
        guard r.isAtEnd else {
            throw WireError.invalidValue(what: "SA payload", offset: r.offset, detail: "\(r.remaining) bytes after the last proposal")
        }
    }

    public func serialize(into w: inout ByteWriter) {
        for (i, p) in proposals.enumerated() { p.serialize(into: &w, isLast: i == proposals.count - 1) }
    }
}

extension ByteReader {
    /// Given a substructure that started at `from` and declares `total` bytes (header included),
    /// returns a reader over the part after the header already read.
    static func sub(_ r: inout ByteReader, from: Int, total: Int, what: String) throws -> ByteReader {
        let consumed = r.offset - from
        guard total >= consumed else {
            throw WireError.invalidValue(what: "\(what) length", offset: from, detail: "\(total) shorter than its header")
        }
        return try r.subReader(total - consumed, what)
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hex, for logs.
    var hexString: String {
        let d = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self { out.append(d[Int(b >> 4)]); out.append(d[Int(b & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
