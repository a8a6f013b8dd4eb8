/// Header names: compact forms (RFC 3261 §7.3.3 and the extensions that added letters),
/// case-insensitive comparison, and which headers are comma-separated lists.
public enum SIPHeaderName {
    /// Compact letter → full name. RFC 3261 (i m e l c f s k t v), RFC 6665 (o u),
    /// RFC 3515 (r), RFC 3892 (b), RFC 4028 (x), RFC 3841 (a j d), RFC 4474 (y n).
    public static let compactForms: [String: String] = [
        "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
        "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
        "v": "Via", "o": "Event", "u": "Allow-Events", "r": "Refer-To", "b": "Referred-By",
        "x": "Session-Expires", "a": "Accept-Contact", "j": "Reject-Contact",
        "d": "Request-Disposition", "y": "Identity", "n": "Identity-Info",
    ]

    /// The lowercase full name used as the lookup key: "v", "VIA" and "Via" all give "via".
    public static func key(_ name: String) -> String {
        if let k = commonKeys[name] { return k }
        let lower = asciiLowercased(name)
        if lower.utf8.count == 1, let full = compactForms[lower] { return asciiLowercased(full) }
        return lower
    }

    /// Keys of the usual spellings, so the common case needs no lowercasing.
    static let commonKeys: [String: String] = {
        var d: [String: String] = [:]
        let names = ["Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Length", "Content-Type",
                     "Route", "Record-Route", "Expires", "Supported", "Require", "Proxy-Require", "Allow", "Accept",
                     "User-Agent", "Server", "Authorization", "WWW-Authenticate", "Path", "Service-Route",
                     "P-Associated-URI", "P-Access-Network-Info", "P-Preferred-Identity", "P-Asserted-Identity",
                     "Security-Client", "Security-Server", "Security-Verify", "Session-Expires", "Min-SE", "RSeq", "RAck",
                     "Event", "Subscription-State", "Accept-Contact", "P-Preferred-Service", "P-Early-Media", "Allow-Events"]
        for n in names {
            d[n] = String(decoding: n.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        for (c, full) in compactForms { d[c] = d[full] ?? String(decoding: full.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0 }, as: UTF8.self) }
        for v in Array(d.values) { d[v] = v }
        return d
    }()

    /// Headers whose grammar is `x *(COMMA x)`, so that one line may carry several values
    /// (RFC 3261 §7.3.1). Headers outside this set (Authorization, Date, Subject...) are never split.
    public static let listHeaders: Set<String> = [
        "via", "contact", "route", "record-route", "path", "service-route", "p-associated-uri",
        "allow", "supported", "require", "proxy-require", "unsupported", "accept",
        "accept-encoding", "accept-language", "content-encoding", "allow-events",
        "security-client", "security-server", "security-verify", "p-asserted-identity",
        "p-preferred-identity", "reason", "warning", "alert-info", "call-info", "error-info",
        "in-reply-to", "accept-contact", "reject-contact", "request-disposition",
        "p-charging-function-addresses", "p-visited-network-id", "recv-info",
    ]

    static func asciiLowercased(_ s: String) -> String {
        var needs = false
        for b in s.utf8 where b >= 0x41 && b <= 0x5A { needs = true; break }
        if !needs { return s }
        return String(decoding: s.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// ASCII helpers for the grammar of RFC 3261 §25.
enum SIPChar {
    /// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"),
             UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"),
             UInt8(ascii: "'"), UInt8(ascii: "~"): return true
        default: return false
        }
    }
    static func isTokenString(_ s: Substring) -> Bool { !s.isEmpty && s.utf8.allSatisfy(isToken) }
    static func isTokenString(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy(isToken) }
    static func isWS(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isLWSByte(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
    static func asciiCaseEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }
}

extension Substring {
    /// The string without leading and trailing SP/HTAB/CR/LF (byte-level, no grapheme work).
    var sipTrimmed: Substring {
        let u = self.utf8
        var start = u.startIndex, end = u.endIndex
        while start < end, SIPChar.isLWSByte(u[start]) { start = u.index(after: start) }
        while end > start {
            let p = u.index(before: end)
            if SIPChar.isLWSByte(u[p]) { end = p } else { break }
        }
        return self[start..<end]
    }

    /// Case-insensitive ASCII comparison (header names, parameter names, schemes).
    func sipEqualsIgnoringCase(_ other: String) -> Bool { SIPChar.asciiCaseEqual(self.utf8, other.utf8) }
    func sipEqualsIgnoringCase(_ other: Substring) -> Bool { SIPChar.asciiCaseEqual(self.utf8, other.utf8) }

    /// Splits at every `separator` byte (empty pieces kept unless asked otherwise).
    func splitUTF8(_ separator: UInt8, omittingEmpty: Bool = false) -> [Substring] {
        var out: [Substring] = []
        let u = self.utf8
        var start = u.startIndex
        var i = u.startIndex
        while i < u.endIndex {
            if u[i] == separator {
                if !(omittingEmpty && start == i) { out.append(self[start..<i]) }
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        if !(omittingEmpty && start == u.endIndex) { out.append(self[start..<u.endIndex]) }
        return out
    }

    /// Splits at runs of SP/HTAB.
    func splitWS() -> [Substring] {
        var out: [Substring] = []
        let u = self.utf8
        var start: String.Index? = nil
        var i = u.startIndex
        while i < u.endIndex {
            if SIPChar.isWS(u[i]) {
                if let s = start { out.append(self[s..<i]); start = nil }
            } else if start == nil { start = i }
            i = u.index(after: i)
        }
        if let s = start { out.append(self[s..<u.endIndex]) }
        return out
    }

    func firstByteIndex(_ b: UInt8) -> String.Index? { utf8.firstIndex(of: b) }
    var firstByte: UInt8? { utf8.first }
}

extension String {
    var sipTrimmed: Substring { Substring(self).sipTrimmed }
    func sipEqualsIgnoringCase(_ other: String) -> Bool { SIPChar.asciiCaseEqual(self.utf8, other.utf8) }
    func sipEqualsIgnoringCase(_ other: Substring) -> Bool { SIPChar.asciiCaseEqual(self.utf8, other.utf8) }
}
