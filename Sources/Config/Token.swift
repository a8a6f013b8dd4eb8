/// One piece of a backquote string: literal text or a `${expr}` to evaluate.
enum TemplatePart: Sendable {
    case text(String)
    /// The expression's source bytes and where they start.
    case expr([UInt8], SourceLocation)
}

enum TokenKind: Sendable {
    case lbrace, rbrace, lbracket, rbracket, lparen, rparen, colon, comma
    /// `+ - * / % ! && || == != < <= > >=`
    case op(String)
    case integer(Int64)
    case number(Double)
    case string(String)
    case template([TemplatePart])
    case identifier(String)
    /// `#name rest-of-line`; only at the start of a line.
    case directive(name: String, rest: [UInt8], restLocation: SourceLocation)
    case eof
}

struct Token: Sendable {
    var kind: TokenKind
    var location: SourceLocation
    /// The token as the user wrote it, for "found 'x'" messages.
    var text: String

    /// `'epdg'`, `'}'` or `end of file`.
    var display: String {
        if case .eof = kind { return "end of file" }
        if case .string = kind { return "string \(text)" }
        return "'\(text)'"
    }

    var isEOF: Bool {
        if case .eof = kind { return true }
        return false
    }

    func isOp(_ s: String) -> Bool {
        if case .op(let o) = kind { return o == s }
        return false
    }

    var identifier: String? {
        if case .identifier(let s) = kind { return s }
        return nil
    }
}
