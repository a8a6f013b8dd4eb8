/// Recursive-descent parser of the callbox config language: objects (top-level braces
/// optional), arrays, `include`, and expressions evaluated as they are read.
final class Parser {
    private let source: TokenSource
    private let context: ParseContext
    private var token: Token
    private var lookahead: Token?
    /// The property whose value is being parsed, to name it when its brace is never closed.
    private var currentName: String?
    private var openerNames: [String: String] = [:]

    init(source: TokenSource, context: ParseContext) throws {
        self.source = source
        self.context = context
        self.token = try source.next()
    }

    var atEOF: Bool { token.isEOF }

    private func advance() throws {
        if let l = lookahead { token = l; lookahead = nil } else { token = try source.next() }
    }

    private func peekNext() throws -> Token {
        if let l = lookahead { return l }
        let l = try source.next()
        lookahead = l
        return l
    }

    func expectEOF(_ context: String) throws {
        guard token.isEOF else {
            throw ConfigError(.syntax, at: token.location, "unexpected \(token.display) \(context)")
        }
    }

    // MARK: documents and objects

    /// A whole file: members with or without enclosing braces.
    func parseDocument() throws -> ConfigObject {
        var object = ConfigObject()
        if case .lbrace = token.kind {
            let open = token
            try advance()
            try parseMembers(into: &object, opener: open)
            if case .comma = token.kind { try advance() }
            try expectEOF("after the closing '}' of the top-level object")
        } else {
            try parseMembers(into: &object, opener: nil)
        }
        return object
    }

    /// Members up to the `}` matching `opener`, or to the end of file when there is none.
    private func parseMembers(into object: inout ConfigObject, opener: Token?) throws {
        let closer = opener == nil ? "end of file" : "'}'"
        while true {
            if opener != nil, case .rbrace = token.kind { try advance(); return }
            if token.isEOF {
                if let opener { throw unclosed(opener) }
                return
            }
            if token.identifier == "include", try !isColon(peekNext()) {
                try parseInclude(into: &object)
                continue
            }
            let name: String
            switch token.kind {
            case .identifier(let s): name = s
            case .string(let s): name = s
            default:
                throw ConfigError(.syntax, at: token.location, "expected a property name or \(closer), found \(token.display)")
            }
            let nameLocation = token.location
            try advance()
            guard case .colon = token.kind else {
                throw ConfigError(.syntax, at: token.location, "expected ':' after property name '\(name)', found \(token.display)")
            }
            try advance()
            currentName = name
            let value = try parseExpression()
            object.set(name, at: nameLocation, value)
            switch token.kind {
            case .comma: try advance()
            case .rbrace where opener != nil: continue
            case .eof:
                if let opener { throw unclosed(opener) }
                return
            default:
                throw ConfigError(.syntax, at: token.location, "expected ',' or \(closer) after property value, found \(token.display)")
            }
        }
    }

    private func isColon(_ t: Token) -> Bool {
        if case .colon = t.kind { return true }
        return false
    }

    private func unclosed(_ opener: Token) -> ConfigError {
        let what = opener.text
        let close = what == "{" ? "}" : (what == "[" ? "]" : ")")
        let of = openerNames[opener.location.description].map { " of '\($0)'" } ?? ""
        return ConfigError(.syntax, at: opener.location,
                           "'\(what)'\(of) opened here is never closed: expected '\(close)' before end of file at \(token.location)")
    }

    /// `include "file.cfg",`: the file's members merge here, later ones winning.
    private func parseInclude(into object: inout ConfigObject) throws {
        let site = token.location
        try advance()
        let v = try parseExpression()
        guard case .string(let written) = v.kind else {
            throw ConfigError(.type, at: v.location, "'include' expects a file name string, found \(v.typeName)")
        }
        let (path, bytes) = try context.read(written, from: site)
        context.includeStack.append(path)
        defer { context.includeStack.removeLast() }
        let parser = try Parser(source: TokenSource(lexer: Lexer(bytes: bytes, file: path), context: context), context: context)
        object.merge(try parser.parseDocument())
        switch token.kind {
        case .comma: try advance()
        case .rbrace, .eof: break
        default:
            throw ConfigError(.syntax, at: token.location, "expected ',' after include \"\(written)\", found \(token.display)")
        }
    }

    private func parseArray() throws -> ConfigValue {
        let open = token
        try advance()
        var items: [ConfigValue] = []
        while true {
            if case .rbracket = token.kind { try advance(); break }
            if token.isEOF { throw unclosed(open) }
            items.append(try parseExpression())
            switch token.kind {
            case .comma: try advance()
            case .rbracket: continue
            case .eof: throw unclosed(open)
            default:
                throw ConfigError(.syntax, at: token.location, "expected ',' or ']' after array element, found \(token.display)")
            }
        }
        return ConfigValue(.array(items), at: open.location)
    }

    // MARK: expressions

    /// Nesting of values, parentheses and unary operators (counted in `context.depth`, across
    /// included files), bounded so that hostile input gets an error instead of exhausting the stack.
    private static let maxDepth = 200
    private var depth: Int {
        get { context.depth }
        set { context.depth = newValue }
    }

    private func enter() throws {
        depth += 1
        if depth > Parser.maxDepth {
            depth -= 1   // the caller's `defer` is not armed yet
            throw ConfigError(.syntax, at: token.location, "values nested more than \(Parser.maxDepth) levels deep")
        }
    }

    func parseExpression() throws -> ConfigValue {
        try enter()
        defer { depth -= 1 }
        return try parseBinary(level: 0)
    }

    private static let levels: [[String]] = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]]

    private func parseBinary(level: Int) throws -> ConfigValue {
        if level == Parser.levels.count { return try parseUnary() }
        var lhs = try parseBinary(level: level + 1)
        while case .op(let op) = token.kind, Parser.levels[level].contains(op) {
            let opLoc = token.location
            try advance()
            let rhs = try parseBinary(level: level + 1)
            lhs = try Evaluator.binary(op, lhs, rhs, at: opLoc)
        }
        return lhs
    }

    private func parseUnary() throws -> ConfigValue {
        if case .op(let op) = token.kind, op == "-" || op == "!" || op == "+" {
            try enter()
            defer { depth -= 1 }
            let loc = token.location
            try advance()
            let operand = try parseUnary()
            return try Evaluator.unary(op, operand, at: loc)
        }
        return try parsePrimary()
    }

    private func parsePrimary() throws -> ConfigValue {
        let t = token
        if let name = currentName {
            currentName = nil
            if case .lbrace = t.kind { openerNames[t.location.description] = name }
            if case .lbracket = t.kind { openerNames[t.location.description] = name }
        }
        switch t.kind {
        case .integer(let i): try advance(); return ConfigValue(.integer(i), at: t.location)
        case .number(let d): try advance(); return ConfigValue(.number(d), at: t.location)
        case .string(let s): try advance(); return ConfigValue(.string(s), at: t.location)
        case .template(let parts): try advance(); return try evaluateTemplate(parts, at: t.location)
        case .lbracket: return try parseArray()
        case .lbrace:
            try advance()
            var object = ConfigObject()
            try parseMembers(into: &object, opener: t)
            return ConfigValue(.object(object), at: t.location)
        case .lparen:
            try advance()
            let v = try parseExpression()
            guard case .rparen = token.kind else {
                if token.isEOF { throw unclosed(t) }
                throw ConfigError(.syntax, at: token.location, "expected ')' to close the '(' at \(t.location), found \(token.display)")
            }
            try advance()
            return ConfigValue(v.kind, at: t.location)
        case .identifier(let name):
            try advance()
            switch name {
            case "true": return ConfigValue(.bool(true), at: t.location)
            case "false": return ConfigValue(.bool(false), at: t.location)
            case "null": return ConfigValue(.null, at: t.location)
            default:
                guard let v = context.defines[name] else {
                    throw ConfigError(.undefinedName, at: t.location, "'\(name)' is not a value: not #define'd (strings need quotes)")
                }
                return ConfigValue(v.kind, at: t.location)
            }
        default:
            throw ConfigError(.syntax, at: t.location, "expected a value, found \(t.display)")
        }
    }

    /// `` `abc${1+2}d` `` gives `"abc3d"`; `${}` sees the `#define`d names.
    private func evaluateTemplate(_ parts: [TemplatePart], at location: SourceLocation) throws -> ConfigValue {
        var out = ""
        for part in parts {
            switch part {
            case .text(let s): out += s
            case .expr(let bytes, let loc):
                let lexer = Lexer(bytes: bytes, file: loc.file, line: loc.line, column: loc.column, directives: false)
                let parser = try Parser(source: TokenSource(lexer: lexer, context: context), context: context)
                if parser.atEOF { throw ConfigError(.syntax, at: loc, "empty '${}' in backquote string") }
                let v = try parser.parseExpression()
                try parser.expectEOF("in '${...}'")
                out += Evaluator.text(of: v)
            }
        }
        return ConfigValue(.string(out), at: location)
    }
}
