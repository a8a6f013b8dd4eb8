/// Parsing of SIP messages from bytes (RFC 3261 §7): start line, headers with LWS folding and
/// compact names, then a body framed by Content-Length.
extension SIPMessage {
    /// Largest message accepted (a UDP datagram cannot be larger; TCP framing enforces the same).
    public static let defaultMaxSize = 65_535

    /// Parses one whole message, e.g. a UDP datagram or a message cut by `SIPStreamFramer`.
    /// Bytes past Content-Length are ignored (RFC 3261 §18.3); a shorter body is an error.
    /// With `validate` the mandatory headers are checked too (see `validate()`).
    public init(parsing bytes: [UInt8], validate: Bool = true, maxSize: Int = SIPMessage.defaultMaxSize) throws {
        guard bytes.count <= maxSize else { throw SIPParseError.messageTooLarge(bytes.count) }
        var start = 0
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        while start < bytes.count, bytes[start] == 0x0D || bytes[start] == 0x0A { start += 1 }
        guard start < bytes.count else { throw SIPParseError.emptyMessage }
        guard let (headerEnd, bodyStart) = SIPMessage.findHeaderEnd(bytes, from: start) else {
            throw SIPParseError.incompleteHeaders
        }
        let (startLine, headers) = try SIPMessage.parseHead(bytes[start..<headerEnd])
        self.init(startLine: startLine, headers: headers, body: [])
        let available = bytes.count - bodyStart
        if let cl = try contentLength() {
            guard Int(cl) <= available else {
                throw SIPParseError.contentLengthMismatch(declared: Int(cl), available: available)
            }
            body = Array(bytes[bodyStart..<(bodyStart + Int(cl))])
        } else {
            body = Array(bytes[bodyStart...])
        }
        if validate { parsed = try validated() }
    }

    /// Finds the blank line ending the headers: returns (end of the last header line, body start).
    /// Accepts CRLF CRLF and, leniently, bare LF LF.
    static func findHeaderEnd(_ b: [UInt8], from: Int) -> (Int, Int)? {
        var i = from
        let n = b.count
        while i < n {
            if b[i] == 0x0A {
                if i + 1 < n, b[i + 1] == 0x0A { return (i, i + 2) }
                if i + 2 < n, b[i + 1] == 0x0D, b[i + 2] == 0x0A { return (i, i + 3) }
            }
            i += 1
        }
        return nil
    }

    static func parseHead(_ head: ArraySlice<UInt8>) throws -> (SIPStartLine, [SIPHeader]) {
        // Split into lines at LF, dropping a CR before it.
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 0x0A {
                var end = i
                if end > lineStart, head[end - 1] == 0x0D { end -= 1 }
                lines.append(head[lineStart..<end])
                lineStart = i + 1
            }
            i += 1
        }
        if lineStart < head.endIndex {
            var end = head.endIndex
            if head[end - 1] == 0x0D { end -= 1 }
            lines.append(head[lineStart..<end])
        }
        guard let first = lines.first else { throw SIPParseError.emptyMessage }
        let startLine = try parseStartLine(first)

        var headers: [SIPHeader] = []
        headers.reserveCapacity(lines.count)
        var pendingName: String? = nil
        var pendingValue: [UInt8] = []
        func flush() throws {
            if let name = pendingName {
                // Trim the unfolded value; invalid UTF-8 is refused rather than replaced.
                var v = pendingValue[...]
                while let f = v.first, SIPChar.isWS(f) { v = v.dropFirst() }
                while let l = v.last, SIPChar.isWS(l) { v = v.dropLast() }
                guard let s = String(validating: v, as: UTF8.self) else { throw SIPParseError.invalidUTF8 }
                headers.append(SIPHeader(name: name, value: s))
            }
            pendingName = nil
            pendingValue.removeAll(keepingCapacity: true)
        }
        for line in lines.dropFirst() {
            if let f = line.first, SIPChar.isWS(f) {
                // Folded continuation (LWS = [*WSP CRLF] 1*WSP): replaced by a single SP.
                guard pendingName != nil else { throw SIPParseError.badHeaderLine("continuation before any header") }
                var l = line[...]
                while let c = l.first, SIPChar.isWS(c) { l = l.dropFirst() }
                pendingValue.append(0x20)
                pendingValue.append(contentsOf: l)
                continue
            }
            try flush()
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw SIPParseError.badHeaderLine(String(decoding: line.prefix(64), as: UTF8.self))
            }
            var nameEnd = colon
            while nameEnd > line.startIndex, SIPChar.isWS(line[nameEnd - 1]) { nameEnd -= 1 }
            let name = line[line.startIndex..<nameEnd]
            guard !name.isEmpty, name.allSatisfy(SIPChar.isToken) else {
                throw SIPParseError.badHeaderLine(String(decoding: line.prefix(64), as: UTF8.self))
            }
            pendingName = String(decoding: name, as: UTF8.self)
            pendingValue.append(contentsOf: line[(colon + 1)...])
        }
        try flush()
        return (startLine, headers)
    }

    static func parseStartLine(_ line: ArraySlice<UInt8>) throws -> SIPStartLine {
        guard let text = String(validating: line, as: UTF8.self) else { throw SIPParseError.invalidUTF8 }
        // Exactly single SPs separate the parts (RFC 3261 §7.1; RFC 4475 lwsruri/lwsstart are invalid).
        if text.hasPrefix("SIP/") || text.prefix(4).sipEqualsIgnoringCase("SIP/") {
            let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { throw SIPParseError.badStartLine(text) }
            guard parts[0].sipEqualsIgnoringCase("SIP/2.0") else { throw SIPParseError.unsupportedVersion(String(parts[0])) }
            guard parts[1].count == 3, parts[1].utf8.allSatisfy(SIPChar.isDigit), let code = Int(parts[1]),
                  code >= 100, code <= 699 else { throw SIPParseError.badStartLine(text) }
            let reason = parts.count == 3 ? String(parts[2]) : ""
            return .response(statusCode: code, reasonPhrase: reason)
        }
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, SIPChar.isTokenString(parts[0]), !parts[1].isEmpty else {
            throw SIPParseError.badStartLine(text)
        }
        guard parts[2].prefix(4).sipEqualsIgnoringCase("SIP/") else { throw SIPParseError.badStartLine(text) }
        guard parts[2].sipEqualsIgnoringCase("SIP/2.0") else { throw SIPParseError.unsupportedVersion(String(parts[2])) }
        let uri: SIPAnyURI
        do { uri = try SIPAnyURI(parsing: parts[1]) } catch { throw SIPParseError.badStartLine(text) }
        return .request(method: String(parts[0]), uri: uri)
    }
}

/// Serialization: start line, headers as stored, a Content-Length that always matches the body.
extension SIPMessage {
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + body.count)
        switch startLine {
        case .request(let m, let uri):
            out.append(contentsOf: m.utf8); out.append(0x20)
            out.append(contentsOf: uri.description.utf8)
            out.append(contentsOf: " SIP/2.0\r\n".utf8)
        case .response(let code, let reason):
            out.append(contentsOf: "SIP/2.0 ".utf8)
            out.append(contentsOf: String(code).utf8); out.append(0x20)
            out.append(contentsOf: reason.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        var wroteLength = false
        for h in headers {
            if h.key == "content-length" {
                if wroteLength { continue }
                wroteLength = true
                out.append(contentsOf: h.name.utf8)
                out.append(contentsOf: ": ".utf8)
                out.append(contentsOf: String(body.count).utf8)
            } else {
                out.append(contentsOf: h.name.utf8)
                out.append(contentsOf: ": ".utf8)
                out.append(contentsOf: h.value.utf8)
            }
            out.append(contentsOf: "\r\n".utf8)
        }
        if !wroteLength {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(body.count).utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: body)
        return out
    }

    /// The serialized message as text (for logs).
    public var text: String { String(decoding: serialized(), as: UTF8.self) }
}

/// Splits a TCP (or TLS) byte stream into SIP messages using Content-Length (RFC 3261 §18.3),
/// which is mandatory on streams, and finds the keep-alive pings between them.
///
/// RFC 5626 §3.5.1: between messages a client may send a double-CRLF "ping", which the server
/// answers with a single-CRLF "pong" (§4.4.1). TCP does not keep segment boundaries, so a ping
/// may come in pieces, after the end of a message in one read, or just before the start of the
/// next one: the framer matches CRLFCRLF byte by byte across reads (`nextFrame`). Other CRs and
/// LFs between messages are skipped (RFC 3261 §7.5); a message's own CRLFs are never a ping,
/// since Content-Length says where it ends.
public struct SIPStreamFramer: Sendable {
    /// What the stream carried next.
    public enum Frame: Sendable, Equatable {
        case message([UInt8])
        /// A CRLFCRLF between messages: answer with `SIPStreamFramer.pong`.
        case ping
    }

    /// RFC 5626 §4.4.1: the answer to a ping.
    public static let pong: [UInt8] = [0x0D, 0x0A]
    static let ping: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    private var buffer: [UInt8] = []
    private var scanned = 0
    /// How many bytes of a CRLFCRLF ping were seen between messages so far (0...3).
    private var pingMatched = 0
    public let maxMessageSize: Int

    public init(maxMessageSize: Int = SIPMessage.defaultMaxSize) { self.maxMessageSize = maxMessageSize }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 { buffer.append(contentsOf: bytes) }

    /// Bytes waiting for the rest of a message.
    public var bufferedCount: Int { buffer.count }

    /// The next complete message's bytes, or nil when more bytes are needed; pings are skipped.
    /// A stream that cannot be framed (no Content-Length, too large) throws; the connection
    /// should be closed.
    public mutating func nextMessage() throws -> [UInt8]? {
        while let f = try nextFrame() {
            if case .message(let m) = f { return m }
        }
        return nil
    }

    /// The next complete message or ping, in stream order; nil when more bytes are needed.
    /// Throws like `nextMessage`.
    public mutating func nextFrame() throws -> Frame? {
        var start = 0, ping = false
        while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A {
            let b = buffer[start]
            start += 1
            // A byte off the pattern restarts it (a CR may begin a new CRLF).
            pingMatched = b == SIPStreamFramer.ping[pingMatched] ? pingMatched + 1 : (b == 0x0D ? 1 : 0)
            if pingMatched == SIPStreamFramer.ping.count { pingMatched = 0; ping = true; break }
        }
        if start > 0 {
            buffer.removeFirst(start)
            scanned = max(0, scanned - start)
        }
        if ping { return .ping }
        if buffer.isEmpty { return nil }
        // A message starts: CRLFs seen before it were no ping.
        pingMatched = 0
        guard let (headerEnd, bodyStart) = SIPMessage.findHeaderEnd(buffer, from: max(0, scanned - 3)) else {
            scanned = buffer.count
            if buffer.count > maxMessageSize { throw SIPParseError.messageTooLarge(buffer.count) }
            return nil
        }
        let length = try SIPStreamFramer.contentLength(buffer[0..<headerEnd])
        let total = bodyStart + length
        guard total <= maxMessageSize else { throw SIPParseError.messageTooLarge(total) }
        guard buffer.count >= total else { return nil }
        let message = Array(buffer[0..<total])
        buffer.removeFirst(total)
        scanned = 0
        return .message(message)
    }

    /// Reads Content-Length (or `l`) from raw header lines without a full parse.
    static func contentLength(_ head: ArraySlice<UInt8>) throws -> Int {
        var lineStart = head.startIndex
        var i = head.startIndex
        var found: Int? = nil
        func check(_ line: ArraySlice<UInt8>) throws {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).sipTrimmed
            guard SIPHeaderName.key(String(name)) == "content-length" else { return }
            let v = String(decoding: line[(colon + 1)...], as: UTF8.self).sipTrimmed
            guard !v.isEmpty, v.count <= 9, v.utf8.allSatisfy(SIPChar.isDigit), let n = Int(v) else {
                throw SIPParseError.badHeaderValue(header: "Content-Length", reason: "not a number")
            }
            found = n
        }
        while i < head.endIndex {
            if head[i] == 0x0A {
                try check(head[lineStart..<i])
                lineStart = i + 1
            }
            i += 1
        }
        try check(head[lineStart..<head.endIndex])
        guard let n = found else { throw SIPParseError.missingHeader("Content-Length") }
        return n
    }
}
