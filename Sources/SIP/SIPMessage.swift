/// The first line of a SIP message (RFC 3261 §7.1, §7.2).
public enum SIPStartLine: Sendable, Equatable {
    case request(method: String, uri: SIPAnyURI)
    case response(statusCode: Int, reasonPhrase: String)
}

/// One header line as received (unfolded), or as the core wants it written.
public struct SIPHeader: Sendable, Equatable {
    /// The name as written (compact or full, any case).
    public var name: String
    public var value: String
    /// The lowercase full name (`v` → `via`), used for every lookup.
    public let key: String

    public init(name: String, value: String) {
        self.name = name; self.value = value; self.key = SIPHeaderName.key(name)
    }
}

/// A SIP request or response: start line, headers in order, body bytes. Header values are kept as
/// text and parsed on demand by the typed accessors, so forwarding preserves what the peer wrote.
public struct SIPMessage: Sendable, Equatable {
    public var startLine: SIPStartLine
    public var headers: [SIPHeader] { didSet { parsed = nil } }
    public var body: [UInt8]
    /// What `init(parsing:)` parsed while validating (Call-ID, CSeq, From, To, Via, Contact,
    /// Max-Forwards, Expires): the typed accessors return it instead of parsing the header
    /// text again, until a header changes.
    var parsed: SIPParsedHeaders? = nil

    public init(startLine: SIPStartLine, headers: [SIPHeader] = [], body: [UInt8] = []) {
        self.startLine = startLine; self.headers = headers; self.body = body
    }

    /// Messages are equal by what they carry (not by what was parsed of it).
    public static func == (a: SIPMessage, b: SIPMessage) -> Bool {
        a.startLine == b.startLine && a.headers == b.headers && a.body == b.body
    }

    public static func request(_ method: String, uri: SIPAnyURI, headers: [SIPHeader] = [], body: [UInt8] = []) -> SIPMessage {
        SIPMessage(startLine: .request(method: method, uri: uri), headers: headers, body: body)
    }

    public static func response(_ code: Int, _ reason: String? = nil, headers: [SIPHeader] = [], body: [UInt8] = []) -> SIPMessage {
        SIPMessage(startLine: .response(statusCode: code, reasonPhrase: reason ?? SIPStatus.reasonPhrase(code)), headers: headers, body: body)
    }

    public var isRequest: Bool { if case .request = startLine { return true }; return false }
    public var method: String? { if case .request(let m, _) = startLine { return m }; return nil }
    public var requestURI: SIPAnyURI? { if case .request(_, let u) = startLine { return u }; return nil }
    public var statusCode: Int? { if case .response(let c, _) = startLine { return c }; return nil }

    // MARK: raw header access

    /// Every value of a header, one per line (not split at commas), compact forms matched.
    public func headerLines(_ name: String) -> [String] {
        let k = SIPHeaderName.key(name)
        return headers.compactMap { $0.key == k ? $0.value : nil }
    }

    /// The first line of a header.
    public func header(_ name: String) -> String? {
        let k = SIPHeaderName.key(name)
        return headers.first(where: { $0.key == k })?.value
    }

    public func hasHeader(_ name: String) -> Bool { header(name) != nil }

    /// All values of a header; list headers (Via, Contact, Route, Supported...) are split at
    /// commas outside quotes and `<>`.
    public func headerValues(_ name: String) throws -> [Substring] {
        let k = SIPHeaderName.key(name)
        var out: [Substring] = []
        for h in headers where h.key == k {
            if SIPHeaderName.listHeaders.contains(k) {
                out += try SIPQuoting.splitList(Substring(h.value), context: name)
            } else {
                out.append(Substring(h.value))
            }
        }
        return out
    }

    /// Replaces every line of `name` with one line.
    public mutating func setHeader(_ name: String, _ value: String) {
        let k = SIPHeaderName.key(name)
        guard let i = headers.firstIndex(where: { $0.key == k }) else {
            headers.append(SIPHeader(name: name, value: value))
            return
        }
        headers[i] = SIPHeader(name: name, value: value)
        var j = headers.count - 1
        while j > i {
            if headers[j].key == k { headers.remove(at: j) }
            j -= 1
        }
    }

    public mutating func addHeader(_ name: String, _ value: String) { headers.append(SIPHeader(name: name, value: value)) }

    /// Inserts a line before the first line of the same header (or first of all): used for Via and Record-Route.
    public mutating func prependHeader(_ name: String, _ value: String) {
        let k = SIPHeaderName.key(name)
        let i = headers.firstIndex(where: { $0.key == k }) ?? 0
        headers.insert(SIPHeader(name: name, value: value), at: i)
    }

    public mutating func removeHeaders(_ name: String) {
        let k = SIPHeaderName.key(name)
        headers.removeAll { $0.key == k }
    }

    /// Removes the first value of a list header (the top Via, the first Route), keeping the others on the line.
    public mutating func removeFirstValue(_ name: String) throws {
        let k = SIPHeaderName.key(name)
        guard let i = headers.firstIndex(where: { $0.key == k }) else { return }
        let values = try SIPQuoting.splitList(Substring(headers[i].value), context: name)
        if values.count <= 1 {
            headers.remove(at: i)
        } else {
            headers[i].value = values.dropFirst().joined(separator: ", ")
        }
    }

    // MARK: typed accessors

    public func callID() throws -> String {
        if let p = parsed { return p.callID }
        guard let v = header("Call-ID")?.sipTrimmed, !v.isEmpty else { throw SIPParseError.missingHeader("Call-ID") }
        guard !v.utf8.contains(where: SIPChar.isWS) else { throw SIPParseError.badHeaderValue(header: "Call-ID", reason: "whitespace") }
        return String(v)
    }

    public func cseq() throws -> SIPCSeq {
        if let p = parsed { return p.cseq }
        guard let v = header("CSeq") else { throw SIPParseError.missingHeader("CSeq") }
        return try SIPCSeq(parsing: Substring(v))
    }

    public func from() throws -> SIPAddress {
        if let p = parsed { return p.from }
        guard let v = header("From") else { throw SIPParseError.missingHeader("From") }
        return try SIPAddress(parsing: Substring(v), header: "From")
    }

    public func to() throws -> SIPAddress {
        if let p = parsed { return p.to }
        guard let v = header("To") else { throw SIPParseError.missingHeader("To") }
        return try SIPAddress(parsing: Substring(v), header: "To")
    }

    public func vias() throws -> [SIPVia] {
        if let p = parsed { return p.vias }
        let v = try headerValues("Via")
        guard !v.isEmpty else { throw SIPParseError.missingHeader("Via") }
        return try v.map { try SIPVia(parsing: $0) }
    }

    public func topVia() throws -> SIPVia {
        if let p = parsed { return p.vias[0] }
        guard let first = try headerValues("Via").first else { throw SIPParseError.missingHeader("Via") }
        return try SIPVia(parsing: first)
    }

    /// Addresses of a name-addr list header (Contact, Route, Record-Route, Path, Service-Route, P-Associated-URI...).
    /// A `Contact: *` is returned as an empty list; use `isWildcardContact`.
    public func addresses(_ name: String) throws -> [SIPAddress] {
        try headerValues(name).filter { !($0.utf8.count == 1 && $0.utf8.first == UInt8(ascii: "*")) }.map { try SIPAddress(parsing: $0, header: name) }
    }

    public func contacts() throws -> [SIPAddress] {
        if let p = parsed { return p.contacts }
        return try addresses("Contact")
    }
    public var isWildcardContact: Bool { (try? headerValues("Contact"))?.contains("*") ?? false }

    /// A header holding one unsigned integer (Expires, Max-Forwards, RSeq, Min-Expires...).
    public func integer(_ name: String) throws -> UInt32? {
        guard let v = header(name)?.sipTrimmed else { return nil }
        guard !v.isEmpty, v.utf8.count <= 10, v.utf8.allSatisfy(SIPChar.isDigit), let n = UInt64(v), n <= UInt64(UInt32.max) else {
            throw SIPParseError.badHeaderValue(header: name, reason: "expected an unsigned integer")
        }
        return UInt32(n)
    }

    public func maxForwards() throws -> UInt32? {
        if let p = parsed, isRequest { return p.maxForwards }
        return try integer("Max-Forwards")
    }
    public func expires() throws -> UInt32? {
        if let p = parsed { return p.expires }
        return try integer("Expires")
    }
    public func contentLength() throws -> UInt32? { try integer("Content-Length") }

    /// Content-Type as lowercased `type/subtype`, without parameters.
    public var contentType: String? {
        guard let v = header("Content-Type") else { return nil }
        let media = Substring(v).splitUTF8(UInt8(ascii: ";")).first.map { $0.sipTrimmed } ?? ""
        return SIPHeaderName.asciiLowercased(String(media))
    }

    /// Option tags of Supported / Require / Proxy-Require, lowercased.
    public func optionTags(_ name: String) -> Set<String> {
        Set(((try? headerValues(name)) ?? []).map { SIPHeaderName.asciiLowercased(String($0)) })
    }

    public func authorization(_ name: String = "Authorization") throws -> SIPAuthHeader? {
        guard let v = header(name) else { return nil }
        return try SIPAuthHeader(parsing: Substring(v), header: name)
    }

    // MARK: validation

    /// Checks the headers every request and response must carry (RFC 3261 §8.1.1, §20) and the
    /// consistency RFC 4475 tests (CSeq method equals the request method, numbers in range).
    public func validate() throws { _ = try validated() }

    /// `validate()`, returning what it parsed (kept by `init(parsing:)` for the accessors).
    func validated() throws -> SIPParsedHeaders {
        let p = try SIPParsedHeaders(self)
        for name in ["Route", "Record-Route"] where hasHeader(name) { _ = try addresses(name) }
        return p
    }
}

/// The typed values of the headers every message carries, parsed once (see `SIPMessage.parsed`).
/// Immutable, so messages share it when copied.
final class SIPParsedHeaders: Sendable {
    let callID: String
    let cseq: SIPCSeq
    let from: SIPAddress
    let to: SIPAddress
    /// Never empty.
    let vias: [SIPVia]
    let contacts: [SIPAddress]
    let maxForwards: UInt32?
    let expires: UInt32?

    /// Parses from `m`'s header text (the message's own cache is not used).
    init(_ m: SIPMessage) throws {
        var bare = m
        bare.parsed = nil
        callID = try bare.callID()
        cseq = try bare.cseq()
        from = try bare.from()
        to = try bare.to()
        vias = try bare.vias()
        if let m = bare.method, cseq.method != m {
            throw SIPParseError.badHeaderValue(header: "CSeq", reason: "method \(cseq.method) differs from request method \(m)")
        }
        maxForwards = bare.isRequest ? try bare.maxForwards() : nil
        expires = try bare.expires()
        contacts = try bare.addresses("Contact")
    }
}

/// Status codes and their default reason phrases (RFC 3261 §21 and extensions used here).
public enum SIPStatus {
    public static func reasonPhrase(_ code: Int) -> String {
        switch code {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 181: return "Call Is Being Forwarded"
        case 182: return "Queued"
        case 183: return "Session Progress"
        case 200: return "OK"
        case 202: return "Accepted"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 415: return "Unsupported Media Type"
        case 420: return "Bad Extension"
        case 421: return "Extension Required"
        case 423: return "Interval Too Brief"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 482: return "Loop Detected"
        case 483: return "Too Many Hops"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 489: return "Bad Event"
        case 491: return "Request Pending"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Server Time-out"
        case 505: return "Version Not Supported"
        case 580: return "Precondition Failure"
        case 600: return "Busy Everywhere"
        case 603: return "Decline"
        default: return code < 200 ? "Progress" : code < 300 ? "OK" : "Error"
        }
    }
}
