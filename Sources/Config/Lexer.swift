/// Turns config text into tokens with their `file:line:column`.
///
/// Comments (`//`, `/* */`) and whitespace are skipped. A `#` that starts a line yields a
/// directive token with the rest of its line; the preprocessor (in `TokenSource`) acts on it.
struct Lexer {
    private let bytes: [UInt8]
    private let file: String
    private var pos = 0
    private var line: Int
    private var column: Int
    /// True until a token has been produced on the current line.
    private var atLineStart = true
    private let directives: Bool

    init(bytes: [UInt8], file: String, line: Int = 1, column: Int = 1, directives: Bool = true) {
        self.bytes = bytes
        self.file = file
        self.line = line
        self.column = column
        self.directives = directives
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let i = pos + offset
        return i < bytes.count ? bytes[i] : nil
    }

    private mutating func advance() {
        guard pos < bytes.count else { return }
        if bytes[pos] == 0x0a {
            line += 1
            column = 1
            atLineStart = true
        } else {
            column += 1
        }
        pos += 1
    }

    private mutating func skipTrivia() throws {
        while let b = peek() {
            if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d || b == 0x0c {
                advance()
            } else if b == 0x2f, peek(1) == 0x2f {
                while let c = peek(), c != 0x0a { advance() }
            } else if b == 0x2f, peek(1) == 0x2a {
                let start = here
                advance(); advance()
                var closed = false
                while let c = peek() {
                    if c == 0x2a, peek(1) == 0x2f { advance(); advance(); closed = true; break }
                    advance()
                }
                if !closed { throw ConfigError(.syntax, at: start, "unterminated comment: '/*' is never closed by '*/'") }
            } else {
                return
            }
        }
    }

    mutating func next() throws -> Token {
        try skipTrivia()
        let start = here
        guard let b = peek() else { return Token(kind: .eof, location: start, text: "") }
        let lineStart = atLineStart
        atLineStart = false
        let begin = pos

        if b == 0x23 /* # */ && directives && lineStart {
            advance()
            while peek() == 0x20 || peek() == 0x09 { advance() }
            let nameStart = pos
            while let c = peek(), isIdentifierByte(c) { advance() }
            let name = String(decoding: bytes[nameStart..<pos], as: UTF8.self)
            while peek() == 0x20 || peek() == 0x09 { advance() }
            let restLoc = here
            let restStart = pos
            while let c = peek(), c != 0x0a { advance() }
            var rest = Array(bytes[restStart..<pos])
            while let last = rest.last, last == 0x0d || last == 0x20 || last == 0x09 { rest.removeLast() }
            return Token(kind: .directive(name: name, rest: rest, restLocation: restLoc), location: start, text: "#" + name)
        }

        switch b {
        case 0x7b: advance(); return Token(kind: .lbrace, location: start, text: "{")
        case 0x7d: advance(); return Token(kind: .rbrace, location: start, text: "}")
        case 0x5b: advance(); return Token(kind: .lbracket, location: start, text: "[")
        case 0x5d: advance(); return Token(kind: .rbracket, location: start, text: "]")
        case 0x28: advance(); return Token(kind: .lparen, location: start, text: "(")
        case 0x29: advance(); return Token(kind: .rparen, location: start, text: ")")
        case 0x3a: advance(); return Token(kind: .colon, location: start, text: ":")
        case 0x2c: advance(); return Token(kind: .comma, location: start, text: ",")
        case 0x22: return try lexString(start)
        case 0x60: return try lexTemplate(start)
        default: break
        }

        if (b >= 0x30 && b <= 0x39) || (b == 0x2e && (peek(1).map { $0 >= 0x30 && $0 <= 0x39 } ?? false)) {
            return try lexNumber(start)
        }
        if isIdentifierByte(b) {
            while let c = peek(), isIdentifierByte(c) { advance() }
            let s = String(decoding: bytes[begin..<pos], as: UTF8.self)
            return Token(kind: .identifier(s), location: start, text: s)
        }
        // Operators, longest first.
        let two: [String] = ["&&", "||", "==", "!=", "<=", ">="]
        if let n = peek(1) {
            let s = String(decoding: [b, n], as: UTF8.self)
            if two.contains(s) { advance(); advance(); return Token(kind: .op(s), location: start, text: s) }
        }
        if "+-*/%!<>".utf8.contains(b) {
            advance()
            let s = String(UnicodeScalar(b))
            return Token(kind: .op(s), location: start, text: s)
        }
        advance()
        let shown = b < 0x80 ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
        throw ConfigError(.syntax, at: start, "unexpected character '\(shown)'")
    }

    private mutating func lexNumber(_ start: SourceLocation) throws -> Token {
        let begin = pos
        if peek() == 0x30, peek(1) == 0x78 || peek(1) == 0x58 {
            advance(); advance()
            let digitsStart = pos
            while let c = peek(), isHexDigit(c) { advance() }
            let digits = String(decoding: bytes[digitsStart..<pos], as: UTF8.self)
            let text = String(decoding: bytes[begin..<pos], as: UTF8.self)
            if let c = peek(), isIdentifierByte(c) {
                throw ConfigError(.syntax, at: start, "malformed hex number '\(text)\(String(UnicodeScalar(c)))'")
            }
            guard !digits.isEmpty, let v = UInt64(digits, radix: 16), v <= UInt64(Int64.max) else {
                throw ConfigError(.syntax, at: start, "malformed or too large hex number '\(text)'")
            }
            return Token(kind: .integer(Int64(v)), location: start, text: text)
        }
        var isFloat = false
        while let c = peek(), c >= 0x30 && c <= 0x39 { advance() }
        if peek() == 0x2e, let n = peek(1), n >= 0x30 && n <= 0x39 || !isIdentifierByte(n) {
            isFloat = true
            advance()
            while let c = peek(), c >= 0x30 && c <= 0x39 { advance() }
        }
        if peek() == 0x65 || peek() == 0x45 {
            let save = (pos, line, column)
            advance()
            if peek() == 0x2b || peek() == 0x2d { advance() }
            if let c = peek(), c >= 0x30 && c <= 0x39 {
                isFloat = true
                while let c = peek(), c >= 0x30 && c <= 0x39 { advance() }
            } else {
                (pos, line, column) = save
            }
        }
        let text = String(decoding: bytes[begin..<pos], as: UTF8.self)
        if let c = peek(), isIdentifierByte(c) {
            throw ConfigError(.syntax, at: start, "malformed number '\(text)\(String(UnicodeScalar(c)))' (names starting with a digit must be quoted, e.g. \"5qi\")")
        }
        if !isFloat, let i = Int64(text) { return Token(kind: .integer(i), location: start, text: text) }
        guard let d = Double(text) else { throw ConfigError(.syntax, at: start, "malformed number '\(text)'") }
        return Token(kind: .number(d), location: start, text: text)
    }

    /// Reads one escape after a backslash into `out`.
    private mutating func lexEscape(into out: inout [UInt8], _ start: SourceLocation) throws {
        let escLoc = here
        advance() // backslash
        guard let e = peek() else { throw ConfigError(.syntax, at: start, "unterminated string") }
        advance()
        switch e {
        case 0x6e: out.append(0x0a)
        case 0x74: out.append(0x09)
        case 0x72: out.append(0x0d)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0c)
        case 0x30: out.append(0x00)
        case 0x75:
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let h = peek(), let d = hexValue(h) else {
                    throw ConfigError(.syntax, at: escLoc, "malformed \\u escape: expected 4 hex digits")
                }
                v = v * 16 + UInt32(d)
                advance()
            }
            guard let scalar = UnicodeScalar(v) else { throw ConfigError(.syntax, at: escLoc, "\\u escape is not a Unicode scalar") }
            out.append(contentsOf: Array(String(scalar).utf8))
        default: out.append(e) // \" \\ \/ \` \$ and anything else: the character itself
        }
    }

    private mutating func lexString(_ start: SourceLocation) throws -> Token {
        let begin = pos
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != 0x0a else {
                throw ConfigError(.syntax, at: start, "unterminated string: missing closing '\"' on this line")
            }
            if c == 0x22 { advance(); break }
            if c == 0x5c { try lexEscape(into: &out, start); continue }
            out.append(c)
            advance()
        }
        return Token(kind: .string(String(decoding: out, as: UTF8.self)), location: start,
                     text: String(decoding: bytes[begin..<pos], as: UTF8.self))
    }

    private mutating func lexTemplate(_ start: SourceLocation) throws -> Token {
        advance()
        var parts: [TemplatePart] = []
        var text: [UInt8] = []
        while true {
            guard let c = peek() else { throw ConfigError(.syntax, at: start, "unterminated backquote string: missing closing '`'") }
            if c == 0x60 { advance(); break }
            if c == 0x5c { try lexEscape(into: &text, start); continue }
            if c == 0x24, peek(1) == 0x7b {
                let open = here
                advance(); advance()
                if !text.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))); text = [] }
                let exprLoc = here
                let exprStart = pos
                var depth = 0
                var inString = false
                while true {
                    guard let d = peek() else { throw ConfigError(.syntax, at: open, "unterminated '${' in backquote string: missing '}'") }
                    if inString {
                        if d == 0x5c { advance() } else if d == 0x22 { inString = false }
                    } else if d == 0x22 { inString = true }
                    else if d == 0x7b { depth += 1 }
                    else if d == 0x7d { if depth == 0 { break }; depth -= 1 }
                    advance()
                }
                parts.append(.expr(Array(bytes[exprStart..<pos]), exprLoc))
                advance() // }
                continue
            }
            text.append(c)
            advance()
        }
        if !text.isEmpty || parts.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))) }
        return Token(kind: .template(parts), location: start, text: "`")
    }
}

func isHexDigit(_ b: UInt8) -> Bool { hexValue(b) != nil }

func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x61...0x66: return b - 0x61 + 10
    case 0x41...0x46: return b - 0x41 + 10
    default: return nil
    }
}
