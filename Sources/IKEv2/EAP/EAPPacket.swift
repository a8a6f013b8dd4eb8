import Wire

/// EAP codes (RFC 3748 §4).
public enum EAPCode: UInt8, Sendable, Hashable, CustomStringConvertible {
    case request = 1, response = 2, success = 3, failure = 4
    public var description: String {
        switch self { case .request: "Request"; case .response: "Response"; case .success: "Success"; case .failure: "Failure" }
    }
}

/// EAP method types used on SWu.
public enum EAPType {
    public static let identity: UInt8 = 1
    public static let notification: UInt8 = 2
    public static let nak: UInt8 = 3
    public static let aka: UInt8 = 23
    public static let akaPrime: UInt8 = 50
}

/// An EAP packet (RFC 3748 §4): header plus, for Request/Response, a type and type-data.
public struct EAPPacket: Hashable, Sendable, CustomStringConvertible {
    public var code: EAPCode
    public var identifier: UInt8
    /// Present for Request and Response only.
    public var type: UInt8?
    public var typeData: [UInt8]

    public init(code: EAPCode, identifier: UInt8, type: UInt8? = nil, typeData: [UInt8] = []) {
        self.code = code; self.identifier = identifier; self.type = type; self.typeData = typeData
    }

    public init(parsing bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let c = try r.u8("EAP code")
        guard let code = EAPCode(rawValue: c) else { throw WireError.invalidValue(what: "EAP code", offset: 0, detail: "\(c)") }
        self.code = code
        identifier = try r.u8("EAP identifier")
        let len = Int(try r.u16("EAP length"))
        guard len == bytes.count else {
            throw WireError.invalidValue(what: "EAP length", offset: 2, detail: "\(len) but packet has \(bytes.count) bytes")
        }
        if code == .request || code == .response {
            type = try r.u8("EAP type")
            typeData = r.rest()
        } else {
            guard len == 4 else { throw WireError.invalidValue(what: "EAP length", offset: 2, detail: "\(len) for \(code)") }
            type = nil
            typeData = []
        }
    }

    public func serialize() -> [UInt8] {
        var w = ByteWriter()
        w.u8(code.rawValue); w.u8(identifier)
        let m = w.beginLength(width: 2, regionStart: 0)
        if let type, code == .request || code == .response { w.u8(type); w.append(typeData) }
        w.endLength(m)
        return w.bytes
    }

    public var description: String {
        var s = "EAP-\(code) id=\(identifier)"
        if let type { s += " type=\(type)" }
        return s
    }
}
