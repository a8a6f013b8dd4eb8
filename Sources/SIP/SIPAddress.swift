/// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1): From, To, Contact,
/// Route, Record-Route, Path, Service-Route, P-Associated-URI, P-Asserted-Identity...
public struct SIPAddress: Sendable, Equatable, CustomStringConvertible {
    /// The display name, unquoted; nil when absent.
    public var displayName: String?
    public var uri: SIPAnyURI
    /// Header parameters (`;tag=`, `;expires=`, `;q=`, feature tags...), not URI parameters.
    public var parameters: SIPParameters

    public init(displayName: String? = nil, uri: SIPAnyURI, parameters: SIPParameters = SIPParameters()) {
        self.displayName = displayName; self.uri = uri; self.parameters = parameters
    }

    public var tag: String? {
        get { parameters["tag"] }
        set { parameters["tag"] = newValue }
    }

    public var description: String {
        var s = ""
        if let d = displayName, !d.isEmpty { s += SIPQuoting.quote(d) + " " }
        s += "<" + uri.description + ">" + parameters.serialized
        return s
    }

    public init(parsing text: Substring, header: String = "address") throws {
        let t = text.sipTrimmed
        guard !t.isEmpty else { throw SIPParseError.badHeaderValue(header: header, reason: "empty address") }
        // Find a '<' outside a quoted display name.
        let u = t.utf8
        var i = u.startIndex
        var inQuote = false
        var lt: String.Index? = nil
        while i < u.endIndex {
            let b = u[i]
            if inQuote {
                if b == 0x5C { i = u.index(after: i); if i == u.endIndex { break } } else if b == 0x22 { inQuote = false }
            } else if b == 0x22 { inQuote = true } else if b == UInt8(ascii: "<") { lt = i; break }
            i = u.index(after: i)
        }
        if inQuote { throw SIPParseError.badHeaderValue(header: header, reason: "unterminated display name") }
        if let lt {
            let display = t[..<lt].sipTrimmed
            if display.isEmpty {
                displayName = nil
            } else if display.firstByte == 0x22 {
                guard SIPQuoting.isCompleteQuoted(display) else {
                    throw SIPParseError.badHeaderValue(header: header, reason: "bad quoted display name")
                }
                displayName = SIPQuoting.unquote(String(display))
            } else {
                // *(token LWS): tokens separated by whitespace.
                let words = display.splitWS()
                guard words.allSatisfy({ SIPChar.isTokenString($0) }) else {
                    throw SIPParseError.badHeaderValue(header: header, reason: "display name must be tokens or a quoted string")
                }
                displayName = words.joined(separator: " ")
            }
            let afterLT = t[t.index(after: lt)...]
            guard let gt = afterLT.firstByteIndex(UInt8(ascii: ">")) else {
                throw SIPParseError.badHeaderValue(header: header, reason: "missing '>'")
            }
            let uriText = afterLT[..<gt]
            guard !uriText.isEmpty, uriText.sipTrimmed.utf8.count == uriText.utf8.count else {
                throw SIPParseError.badHeaderValue(header: header, reason: "whitespace inside <>")
            }
            uri = try SIPAnyURI(parsing: uriText)
            let rest = afterLT[afterLT.index(after: gt)...].sipTrimmed
            parameters = try SIPAddress.parseTrailingParams(rest, header: header)
        } else {
            displayName = nil
            // addr-spec: every ';' belongs to the header (RFC 3261 §20: URIs with ';' need <>).
            let pieces = try SIPQuoting.split(t, on: UInt8(ascii: ";"), context: header)
            guard let first = pieces.first, !first.sipTrimmed.isEmpty else {
                throw SIPParseError.badHeaderValue(header: header, reason: "empty URI")
            }
            uri = try SIPAnyURI(parsing: first)
            parameters = try SIPParameters.parse(Array(pieces.dropFirst()), context: header)
        }
    }

    public init(_ text: String) throws { try self.init(parsing: Substring(text)) }

    static func parseTrailingParams(_ rest: Substring, header: String) throws -> SIPParameters {
        if rest.isEmpty { return SIPParameters() }
        guard rest.firstByte == UInt8(ascii: ";") else {
            throw SIPParseError.badHeaderValue(header: header, reason: "unexpected text after '>'")
        }
        let pieces = try SIPQuoting.split(rest.dropFirst(), on: UInt8(ascii: ";"), context: header)
        return try SIPParameters.parse(pieces, context: header)
    }
}

/// One Via value (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=...;received=...;rport`.
public struct SIPVia: Sendable, Equatable, CustomStringConvertible {
    public var transport: String
    public var host: String
    public var port: UInt16?
    public var parameters: SIPParameters

    public init(transport: String, host: String, port: UInt16?, branch: String?, parameters: SIPParameters = SIPParameters()) {
        self.transport = transport; self.host = host; self.port = port; self.parameters = parameters
        if let branch { self.parameters["branch"] = branch }
    }

    public var branch: String? { parameters["branch"] }
    public var received: String? { parameters["received"] }
    /// `rport` with its value: nil when absent, 0 for the bare flag (RFC 3581).
    public var rport: UInt16? {
        guard let v = parameters["rport"] else { return nil }
        return v.isEmpty ? 0 : UInt16(v)
    }
    /// The RFC 3261 magic cookie marks branches that identify transactions (§17.2.3).
    public var hasMagicCookie: Bool { branch?.hasPrefix("z9hG4bK") ?? false }
    /// The host without IPv6 brackets.
    public var hostAddress: String {
        if host.hasPrefix("["), host.hasSuffix("]") { return String(host.dropFirst().dropLast()) }
        return host
    }
    /// host:port as sent, the key of §17.2.3 matching.
    public var sentBy: String { host + (port.map { ":" + String($0) } ?? "") }

    public var description: String { "SIP/2.0/" + transport + " " + sentBy + parameters.serialized }

    public init(parsing text: Substring) throws {
        let pieces = try SIPQuoting.split(text.sipTrimmed, on: UInt8(ascii: ";"), context: "Via")
        guard let head = pieces.first else { throw SIPParseError.badHeaderValue(header: "Via", reason: "empty") }
        // Remove the LWS allowed around "/" and ":" (RFC 4475 wsinv), then split protocol / sent-by.
        var compact: [UInt8] = []
        var pendingSpace = false
        for b in head.sipTrimmed.utf8 {
            if SIPChar.isWS(b) { pendingSpace = true; continue }
            if pendingSpace, let last = compact.last, last != UInt8(ascii: "/"), last != UInt8(ascii: ":"),
               b != UInt8(ascii: "/"), b != UInt8(ascii: ":") { compact.append(0x20) }
            pendingSpace = false
            compact.append(b)
        }
        let s = Substring(String(decoding: compact, as: UTF8.self))
        let parts = s.splitUTF8(0x20, omittingEmpty: true)
        guard parts.count == 2 else { throw SIPParseError.badHeaderValue(header: "Via", reason: "expected 'SIP/2.0/<transport> <sent-by>'") }
        let proto = parts[0].splitUTF8(UInt8(ascii: "/"))
        guard proto.count == 3, proto[0].sipEqualsIgnoringCase("SIP"), proto[1] == "2.0", SIPChar.isTokenString(proto[2]) else {
            throw SIPParseError.badHeaderValue(header: "Via", reason: "bad sent-protocol '\(parts[0])'")
        }
        transport = String(decoding: proto[2].utf8.map { ($0 >= 0x61 && $0 <= 0x7A) ? $0 - 0x20 : $0 }, as: UTF8.self)
        do {
            (host, port) = try SIPURI.parseHostPort(parts[1], context: parts[1])
        } catch {
            throw SIPParseError.badHeaderValue(header: "Via", reason: "bad sent-by '\(parts[1])'")
        }
        parameters = try SIPParameters.parse(Array(pieces.dropFirst()), context: "Via")
    }

    public init(_ text: String) throws { try self.init(parsing: Substring(text)) }
}

/// CSeq (RFC 3261 §20.16): a sequence number below 2^31 and the method.
public struct SIPCSeq: Sendable, Equatable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: String
    public init(sequence: UInt32, method: String) { self.sequence = sequence; self.method = method }
    public var description: String { String(sequence) + " " + method }

    public init(parsing text: Substring) throws {
        let parts = text.sipTrimmed.splitWS()
        guard parts.count == 2, parts[0].utf8.allSatisfy(SIPChar.isDigit), parts[0].utf8.count <= 10,
              let n = UInt64(parts[0]), n < 0x8000_0000, SIPChar.isTokenString(parts[1]) else {
            throw SIPParseError.badHeaderValue(header: "CSeq", reason: "expected '<number below 2^31> <method>'")
        }
        sequence = UInt32(n)
        method = String(parts[1])
    }
}

/// A challenge or credentials header (WWW-Authenticate, Authorization, Proxy-*, RFC 2617 §3.2):
/// `Digest name=value, name="quoted value", ...`.
public struct SIPAuthHeader: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var parameters: SIPParameters

    public init(scheme: String = "Digest", parameters: SIPParameters = SIPParameters()) {
        self.scheme = scheme; self.parameters = parameters
    }

    public subscript(_ name: String) -> String? { parameters[name] }

    public var description: String {
        scheme + " " + parameters.items.map { $0.name + ($0.rawValue.map { "=" + $0 } ?? "") }.joined(separator: ", ")
    }

    public init(parsing text: Substring, header: String = "Authorization") throws {
        let t = text.sipTrimmed
        guard let sp = t.utf8.firstIndex(where: SIPChar.isWS) else {
            throw SIPParseError.badHeaderValue(header: header, reason: "missing auth scheme or parameters")
        }
        let sch = t[..<sp]
        guard SIPChar.isTokenString(sch) else { throw SIPParseError.badHeaderValue(header: header, reason: "bad auth scheme") }
        scheme = String(sch)
        let pieces = try SIPQuoting.split(t[sp...], on: UInt8(ascii: ","), context: header)
        parameters = try SIPParameters.parse(pieces.filter { !$0.sipTrimmed.isEmpty }, context: header)
    }
}
