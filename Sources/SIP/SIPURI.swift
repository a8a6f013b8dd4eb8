/// A `sip:`/`sips:` URI (RFC 3261 §19.1.1):
/// `sip:user:password@host:port;uri-parameters?headers`. The user part is kept escaped as written.
public struct SIPURI: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var user: String?
    public var password: String?
    /// Host name, IPv4 literal, or IPv6 reference with its brackets (`[2001:db8::1]`).
    public var host: String
    public var port: UInt16?
    public var parameters: SIPParameters
    /// The `?hname=hvalue&...` part without the `?`, as written.
    public var headers: String?

    public init(scheme: String = "sip", user: String? = nil, password: String? = nil, host: String,
                port: UInt16? = nil, parameters: SIPParameters = SIPParameters(), headers: String? = nil) {
        self.scheme = scheme; self.user = user; self.password = password; self.host = host
        self.port = port; self.parameters = parameters; self.headers = headers
    }

    /// The host without IPv6 brackets, ready for an address parser.
    public var hostAddress: String {
        if host.hasPrefix("["), host.hasSuffix("]") { return String(host.dropFirst().dropLast()) }
        return host
    }

    /// The user part with %HH escapes decoded (RFC 3261 §19.1.2).
    public var userDecoded: String? { user.map { SIPURI.percentDecode($0) } }

    /// `user@host` (no port, no parameters): the address-of-record form used as a key.
    public var addressOfRecord: String { (user.map { $0 + "@" } ?? "") + SIPHeaderName.asciiLowercased(host) }

    public var description: String {
        var s = scheme + ":"
        if let u = user {
            s += u
            if let p = password { s += ":" + p }
            s += "@"
        }
        s += host
        if let p = port { s += ":" + String(p) }
        s += parameters.serialized
        if let h = headers { s += "?" + h }
        return s
    }

    public init(parsing text: Substring) throws {
        let t = text.sipTrimmed
        guard let colon = t.firstByteIndex(UInt8(ascii: ":")) else { throw SIPParseError.badURI(String(t)) }
        let sch = t[..<colon]
        if sch.sipEqualsIgnoringCase("sip") { scheme = "sip" } else if sch.sipEqualsIgnoringCase("sips") { scheme = "sips" } else {
            throw SIPParseError.badURI(String(t))
        }
        var rest = t[t.index(after: colon)...]
        if let at = rest.firstByteIndex(UInt8(ascii: "@")) {
            let userinfo = rest[..<at]
            if let pc = userinfo.firstByteIndex(UInt8(ascii: ":")) {
                user = String(userinfo[..<pc])
                password = String(userinfo[userinfo.index(after: pc)...])
            } else {
                user = String(userinfo)
                password = nil
            }
            guard let u = user, !u.isEmpty, SIPURI.isValidUserinfo(Substring(u)),
                  SIPURI.isValidUserinfo(Substring(password ?? "")) else { throw SIPParseError.badURI(String(t)) }
            rest = rest[rest.index(after: at)...]
        } else {
            user = nil
            password = nil
        }
        // Headers after '?', parameters after ';'.
        if let q = rest.firstByteIndex(UInt8(ascii: "?")) {
            headers = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        } else {
            headers = nil
        }
        var hostport = rest
        if let semi = rest.firstByteIndex(UInt8(ascii: ";")) {
            hostport = rest[..<semi]
            let pieces = rest[rest.index(after: semi)...].splitUTF8(UInt8(ascii: ";"))
            parameters = try SIPParameters.parse(pieces, context: "URI")
        } else {
            parameters = SIPParameters()
        }
        (host, port) = try SIPURI.parseHostPort(hostport, context: t)
    }

    public init(_ text: String) throws { try self.init(parsing: Substring(text)) }

    /// `host[:port]` with IPv6 references in brackets (RFC 3261 §25.1 hostport).
    /// `context` names the whole text in errors (made a String only when one is thrown).
    static func parseHostPort(_ s: Substring, context: Substring) throws -> (String, UInt16?) {
        var hostPart: Substring
        var portPart: Substring? = nil
        if s.firstByte == UInt8(ascii: "[") {
            guard let close = s.firstByteIndex(UInt8(ascii: "]")) else { throw SIPParseError.badURI(String(context)) }
            hostPart = s[...close]
            let inner = s[s.index(after: s.startIndex)..<close]
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }),
                  inner.utf8.contains(UInt8(ascii: ":")) else { throw SIPParseError.badURI(String(context)) }
            let after = s[s.index(after: close)...]
            if !after.isEmpty {
                guard after.firstByte == UInt8(ascii: ":") else { throw SIPParseError.badURI(String(context)) }
                portPart = after.dropFirst()
            }
        } else {
            if let c = s.firstByteIndex(UInt8(ascii: ":")) {
                hostPart = s[..<c]
                portPart = s[s.index(after: c)...]
            } else {
                hostPart = s
            }
            guard !hostPart.isEmpty, hostPart.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
            else { throw SIPParseError.badURI(String(context)) }
        }
        var port: UInt16? = nil
        if let p = portPart {
            guard !p.isEmpty, p.utf8.count <= 5, p.utf8.allSatisfy(SIPChar.isDigit), let v = Int(p), v <= 65535 else {
                throw SIPParseError.badURI(String(context))
            }
            port = UInt16(v)
        }
        return (String(hostPart), port)
    }

    static func isHex(_ b: UInt8) -> Bool { SIPChar.isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66) }
    static func isAlnum(_ b: UInt8) -> Bool { SIPChar.isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) }

    /// user / password characters: unreserved, escaped, and `&=+$,;?/` (RFC 3261 §25.1).
    static func isValidUserinfo(_ s: Substring) -> Bool {
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            let b = u[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < u.count, isHex(u[i + 1]), isHex(u[i + 2]) else { return false }
                i += 3
                continue
            }
            if isAlnum(b) || b >= 0x80 || "-_.!~*'()&=+$,;?/".utf8.contains(b) { i += 1; continue }
            return false
        }
        return true
    }

    static func percentDecode(_ s: String) -> String {
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v); i += 3
            } else { out.append(u[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A `tel:` URI (RFC 3966): the number and its parameters (`phone-context`...).
public struct TelURI: Sendable, Equatable, CustomStringConvertible {
    public var number: String
    public var parameters: SIPParameters
    public init(number: String, parameters: SIPParameters = SIPParameters()) { self.number = number; self.parameters = parameters }

    public init(parsing text: Substring) throws {
        let t = text.sipTrimmed
        guard t.utf8.count > 4, t.utf8.prefix(4).elementsEqual("tel:".utf8, by: { ($0 | 0x20) == $1 }) else { throw SIPParseError.badURI(String(t)) }
        let rest = t[t.utf8.index(t.startIndex, offsetBy: 4)...]
        let pieces = rest.splitUTF8(UInt8(ascii: ";"))
        guard let num = pieces.first, !num.isEmpty,
              num.utf8.allSatisfy({ SIPURI.isAlnum($0) || "+-.()*#".utf8.contains($0) }) else { throw SIPParseError.badURI(String(t)) }
        number = String(num)
        parameters = try SIPParameters.parse(Array(pieces.dropFirst()), context: "tel URI")
    }

    /// The number without visual separators (`-.()`), as compared for routing (RFC 3966 §4).
    public var digits: String { String(number.filter { !"-.()".contains($0) }) }
    public var description: String { "tel:" + number + parameters.serialized }
}

/// Any URI a SIP header may carry: sip/sips, tel, or another scheme kept as text (RFC 4475 "unksm").
public enum SIPAnyURI: Sendable, Equatable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    case other(String)

    public init(parsing text: Substring) throws {
        let t = text.sipTrimmed
        guard let colon = t.firstByteIndex(UInt8(ascii: ":")), colon != t.startIndex else { throw SIPParseError.badURI(String(t)) }
        let scheme = t[..<colon]
        guard scheme.utf8.allSatisfy({ SIPURI.isAlnum($0) || "+-.".utf8.contains($0) }),
              !t.utf8.contains(where: { SIPChar.isWS($0) || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
        else { throw SIPParseError.badURI(String(t)) }
        if scheme.sipEqualsIgnoringCase("sip") || scheme.sipEqualsIgnoringCase("sips") {
            self = .sip(try SIPURI(parsing: t))
        } else if scheme.sipEqualsIgnoringCase("tel") {
            self = .tel(try TelURI(parsing: t))
        } else {
            self = .other(String(t))
        }
    }

    public init(_ text: String) throws { try self.init(parsing: Substring(text)) }

    public var description: String {
        switch self {
        case .sip(let u): return u.description
        case .tel(let t): return t.description
        case .other(let s): return s
        }
    }

    public var sipURI: SIPURI? { if case .sip(let u) = self { return u }; return nil }

    /// The telephone number this URI names: a tel URI, or a sip URI with `user=phone`
    /// (RFC 3261 §19.1.6), without visual separators or user parameters.
    public var telephoneNumber: String? {
        switch self {
        case .tel(let t): return t.digits
        case .sip(let u):
            guard u.parameters["user"]?.lowercased() == "phone", let user = u.userDecoded else { return nil }
            let num = user.split(separator: ";", maxSplits: 1).first.map(String.init) ?? user
            return String(num.filter { !"-.()".contains($0) })
        case .other: return nil
        }
    }
}
