/// `;name=value` parameters (URI, Via, Contact, To/From...) in their received order.
/// Values are kept as written (a quoted value keeps its quotes) so serialization round-trips;
/// `self["name"]` returns the unquoted value.
public struct SIPParameters: Sendable, Equatable, Sequence {
    public struct Parameter: Sendable, Equatable {
        public var name: String
        /// The value as written, quotes included; nil for a flag parameter like `;lr`.
        public var rawValue: String?
        public init(name: String, rawValue: String?) { self.name = name; self.rawValue = rawValue }
    }
    public var items: [Parameter]

    public init(_ items: [Parameter] = []) { self.items = items }

    public func makeIterator() -> IndexingIterator<[Parameter]> { items.makeIterator() }
    public var isEmpty: Bool { items.isEmpty }

    /// Whether a parameter of that name (case-insensitive) is present, flag or valued.
    public func contains(_ name: String) -> Bool { items.contains { $0.name.sipEqualsIgnoringCase(name) } }

    /// The unquoted value of the first parameter called `name`; "" for a flag parameter.
    public subscript(_ name: String) -> String? {
        get {
            guard let p = items.first(where: { $0.name.sipEqualsIgnoringCase(name) }) else { return nil }
            guard let raw = p.rawValue else { return "" }
            return SIPQuoting.unquote(raw)
        }
        set {
            if let i = items.firstIndex(where: { $0.name.sipEqualsIgnoringCase(name) }) {
                if let v = newValue { items[i].rawValue = v.isEmpty ? nil : v } else { items.remove(at: i) }
            } else if let v = newValue {
                items.append(Parameter(name: name, rawValue: v.isEmpty ? nil : v))
            }
        }
    }

    /// Sets a parameter whose value is written as a quoted string.
    public mutating func setQuoted(_ name: String, _ value: String) {
        self[name] = nil
        items.append(Parameter(name: name, rawValue: SIPQuoting.quote(value)))
    }

    /// `;a=b;c` form (empty when there is no parameter).
    public var serialized: String {
        var s = ""
        for p in items {
            s += ";" + p.name
            if let v = p.rawValue { s += "=" + v }
        }
        return s
    }

    /// Parses `name[=value]` pieces already separated by `;` (LWS around `=` allowed, RFC 3261 §25.1).
    static func parse(_ pieces: [Substring], context: String) throws -> SIPParameters {
        var out: [Parameter] = []
        for piece in pieces {
            let t = piece.sipTrimmed
            if t.isEmpty { throw SIPParseError.badHeaderValue(header: context, reason: "empty parameter") }
            if let eq = t.firstByteIndex(UInt8(ascii: "=")) {
                let name = t[..<eq].sipTrimmed
                let value = t[t.index(after: eq)...].sipTrimmed
                guard SIPChar.isTokenString(name) else {
                    throw SIPParseError.badHeaderValue(header: context, reason: "bad parameter name '\(name)'")
                }
                if value.firstByte == 0x22 {
                    guard SIPQuoting.isCompleteQuoted(value) else {
                        throw SIPParseError.badHeaderValue(header: context, reason: "unterminated quoted parameter '\(name)'")
                    }
                } else if value.isEmpty || value.utf8.contains(where: { SIPChar.isWS($0) || $0 == UInt8(ascii: "\"") }) {
                    throw SIPParseError.badHeaderValue(header: context, reason: "bad value for parameter '\(name)'")
                }
                out.append(Parameter(name: String(name), rawValue: String(value)))
            } else {
                guard SIPChar.isTokenString(t) else {
                    throw SIPParseError.badHeaderValue(header: context, reason: "bad parameter '\(t)'")
                }
                out.append(Parameter(name: String(t), rawValue: nil))
            }
        }
        return SIPParameters(out)
    }
}

/// Quoted strings (RFC 3261 §25.1: `"` *(qdtext / quoted-pair) `"`) and the splitting of
/// header values at separators that are outside quotes and angle brackets.
public enum SIPQuoting {
    /// `"abc \"x\""` → `abc "x"`; a value without surrounding quotes is returned unchanged.
    public static func unquote(_ s: String) -> String {
        guard s.utf8.first == 0x22 else { return s }
        let u = Array(s.utf8)
        guard u.count >= 2, u.last == 0x22 else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 1
        while i < u.count - 1 {
            if u[i] == 0x5C, i + 1 < u.count - 1 { out.append(u[i + 1]); i += 2 } else { out.append(u[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Wraps in quotes, escaping `"` and `\`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            if c == "\"" || c == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(c)
        }
        return out + "\""
    }

    /// True when `s` is exactly one quoted string whose closing quote is not escaped.
    static func isCompleteQuoted(_ s: Substring) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 2, u[0] == 0x22 else { return false }
        var i = 1
        while i < u.count {
            if u[i] == 0x5C { i += 2; continue }
            if u[i] == 0x22 { return i == u.count - 1 }
            i += 1
        }
        return false
    }

    /// Splits at `separator` bytes that are outside quoted strings and `<...>`.
    /// Throws on an unterminated quote or angle bracket. Scans the contiguous UTF-8 bytes.
    static func split(_ s: Substring, on separator: UInt8, context: String) throws -> [Substring] {
        var copy = s
        let scan: (offsets: [Int], error: String?) = copy.withUTF8 { buf in
            var offsets: [Int] = []
            var inQuote = false, inAngle = false
            var i = 0
            let n = buf.count
            while i < n {
                let b = buf[i]
                if inQuote {
                    if b == 0x5C { i += 1 } else if b == 0x22 { inQuote = false }
                } else if b == 0x22 {
                    inQuote = true
                } else if inAngle {
                    if b == UInt8(ascii: ">") { inAngle = false }
                } else if b == UInt8(ascii: "<") {
                    inAngle = true
                } else if b == separator {
                    offsets.append(i)
                }
                i += 1
            }
            if inQuote { return (offsets, "unterminated quoted string") }
            if inAngle { return (offsets, "unterminated '<'") }
            return (offsets, nil)
        }
        if let e = scan.error { throw SIPParseError.badHeaderValue(header: context, reason: e) }
        if scan.offsets.isEmpty { return [s] }
        var parts: [Substring] = []
        parts.reserveCapacity(scan.offsets.count + 1)
        let u = s.utf8
        var start = u.startIndex
        var pos = 0
        for off in scan.offsets {
            let idx = u.index(start, offsetBy: off - pos)
            parts.append(s[start..<idx])
            start = u.index(after: idx)
            pos = off + 1
        }
        parts.append(s[start..<u.endIndex])
        return parts
    }

    /// Splits a list header value at top-level commas, dropping empty elements.
    public static func splitList(_ s: Substring, context: String) throws -> [Substring] {
        try split(s, on: UInt8(ascii: ","), context: context).map { $0.sipTrimmed }.filter { !$0.isEmpty }
    }
}
