/// State shared by every file of one load: the `#define`d names and how to read files.
final class ParseContext {
    /// Reads a file by its resolved path; tests pass an in-memory file system.
    let readFile: (String) throws -> [UInt8]
    var defines: [String: ConfigValue] = [:]
    /// Files being parsed, to report include cycles.
    var includeStack: [String] = []
    /// Nesting of values across every parser of this load (an included file and `${}` continue
    /// the count of their site), so includes cannot multiply the parser's depth bound.
    var depth = 0
    /// Includes deeper than this are refused: distinct paths (`sub/x.cfg` including
    /// `sub/x.cfg` through a directory link) are no cycle, yet would recurse without end.
    static let maxIncludeDepth = 16

    init(readFile: @escaping (String) throws -> [UInt8]) {
        self.readFile = readFile
    }

    /// A path written in `file`, made relative to that file's directory (as the callbox does).
    static func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let slash = file.lastIndex(of: "/") else { return path }
        return String(file[..<slash]) + "/" + path
    }

    /// Reads an included file, naming the include site if it cannot.
    func read(_ written: String, from site: SourceLocation) throws -> (path: String, bytes: [UInt8]) {
        let path = ParseContext.resolve(written, relativeTo: site.file)
        if includeStack.count > ParseContext.maxIncludeDepth {
            throw ConfigError(.include, at: site, "includes nested more than \(ParseContext.maxIncludeDepth) deep (via \(includeStack.joined(separator: " -> ")))")
        }
        if includeStack.contains(path) {
            throw ConfigError(.include, at: site, "include cycle: '\(path)' includes itself (via \(includeStack.joined(separator: " -> ")))")
        }
        do {
            return (path, try readFile(path))
        } catch {
            throw ConfigError(.include, at: site, "cannot read included file '\(written)' (looked for '\(path)'): \(error)")
        }
    }
}

/// Yields tokens after the preprocessor: directives are acted on, skipped branches dropped,
/// and `#include` files spliced in place.
final class TokenSource {
    private struct Frame {
        var lexer: Lexer
        let condDepth: Int
        let path: String?
    }

    /// One `#if`/`#ifdef`/`#ifndef` level.
    private struct Conditional {
        var active: Bool
        var taken: Bool
        let parentActive: Bool
        var sawElse: Bool
        let location: SourceLocation
    }

    private var frames: [Frame]
    private var conditionals: [Conditional] = []
    private let context: ParseContext

    init(lexer: Lexer, context: ParseContext) {
        self.frames = [Frame(lexer: lexer, condDepth: 0, path: nil)]
        self.context = context
    }

    private var skipping: Bool { conditionals.last.map { !$0.active } ?? false }

    func next() throws -> Token {
        while true {
            let token = try frames[frames.count - 1].lexer.next()
            switch token.kind {
            case .eof:
                let frame = frames[frames.count - 1]
                if conditionals.count > frame.condDepth {
                    let open = conditionals[frame.condDepth]
                    throw ConfigError(.preprocessor, at: open.location, "'#if' is never closed by '#endif' before the end of the file")
                }
                if frames.count == 1 { return token }
                frames.removeLast()
                if frame.path != nil { context.includeStack.removeLast() }
            case .directive(let name, let rest, let restLocation):
                try directive(name, rest, restLocation, token.location)
            default:
                if !skipping { return token }
            }
        }
    }

    /// Parses the rest of a directive line as one expression.
    private func evaluate(_ rest: [UInt8], _ at: SourceLocation, _ directiveLoc: SourceLocation, _ what: String) throws -> ConfigValue {
        let lexer = Lexer(bytes: rest, file: at.file, line: at.line, column: at.column, directives: false)
        let parser = try Parser(source: TokenSource(lexer: lexer, context: context), context: context)
        if parser.atEOF { throw ConfigError(.preprocessor, at: directiveLoc, "'\(what)' needs an expression") }
        let value = try parser.parseExpression()
        try parser.expectEOF("after the expression of '\(what)'")
        return value
    }

    /// The name after `#ifdef`/`#define`/`#undef`, and the bytes after it.
    private func splitName(_ rest: [UInt8], _ at: SourceLocation, _ what: String) throws -> (String, [UInt8], SourceLocation) {
        var i = 0
        while i < rest.count, isIdentifierByte(rest[i]) { i += 1 }
        guard i > 0 else { throw ConfigError(.preprocessor, at: at, "'\(what)' needs a name") }
        let name = String(decoding: rest[0..<i], as: UTF8.self)
        var j = i
        while j < rest.count, rest[j] == 0x20 || rest[j] == 0x09 { j += 1 }
        return (name, Array(rest[j...]), SourceLocation(file: at.file, line: at.line, column: at.column + j))
    }

    /// True if only spaces or a comment follow.
    private func isBlank(_ rest: [UInt8]) -> Bool {
        var lexer = Lexer(bytes: rest, file: "", directives: false)
        return (try? lexer.next().isEOF) ?? false
    }

    private func directive(_ name: String, _ rest: [UInt8], _ restLoc: SourceLocation, _ loc: SourceLocation) throws {
        switch name {
        case "if", "ifdef", "ifndef":
            let parentActive = !skipping
            var value = false
            if parentActive {
                if name == "if" {
                    value = try evaluate(rest, restLoc, loc, "#if").truthy
                } else {
                    let (n, _, _) = try splitName(rest, restLoc, "#" + name)
                    value = (context.defines[n] != nil) == (name == "ifdef")
                }
            }
            conditionals.append(Conditional(active: parentActive && value, taken: value, parentActive: parentActive, sawElse: false, location: loc))
        case "elif":
            guard var c = conditionals.last, conditionals.count > frames[frames.count - 1].condDepth else {
                throw ConfigError(.preprocessor, at: loc, "'#elif' without '#if'")
            }
            if c.sawElse { throw ConfigError(.preprocessor, at: loc, "'#elif' after '#else' (the '#if' is at \(c.location))") }
            if c.parentActive && !c.taken {
                let v = try evaluate(rest, restLoc, loc, "#elif").truthy
                c.active = v
                c.taken = v
            } else {
                c.active = false
            }
            conditionals[conditionals.count - 1] = c
        case "else":
            guard var c = conditionals.last, conditionals.count > frames[frames.count - 1].condDepth else {
                throw ConfigError(.preprocessor, at: loc, "'#else' without '#if'")
            }
            if c.sawElse { throw ConfigError(.preprocessor, at: loc, "second '#else' for the '#if' at \(c.location)") }
            c.sawElse = true
            c.active = c.parentActive && !c.taken
            c.taken = true
            conditionals[conditionals.count - 1] = c
        case "endif":
            guard conditionals.count > frames[frames.count - 1].condDepth else {
                throw ConfigError(.preprocessor, at: loc, "'#endif' without '#if'")
            }
            conditionals.removeLast()
        default:
            if skipping { return }
            switch name {
            case "define":
                let (n, expr, exprLoc) = try splitName(rest, restLoc, "#define")
                if isBlank(expr) {
                    context.defines[n] = ConfigValue(.integer(1), at: loc)
                } else {
                    context.defines[n] = try evaluate(expr, exprLoc, loc, "#define \(n)")
                }
            case "undef":
                let (n, _, _) = try splitName(rest, restLoc, "#undef")
                context.defines[n] = nil
            case "include":
                let v = try evaluate(rest, restLoc, loc, "#include")
                guard case .string(let written) = v.kind else {
                    throw ConfigError(.type, at: restLoc, "'#include' expects a file name string, found \(v.typeName)")
                }
                let (path, bytes) = try context.read(written, from: loc)
                context.includeStack.append(path)
                frames.append(Frame(lexer: Lexer(bytes: bytes, file: path), condDepth: conditionals.count, path: path))
            default:
                throw ConfigError(.preprocessor, at: loc, "unknown directive '#\(name)' (expected #define, #undef, #if, #ifdef, #ifndef, #elif, #else, #endif or #include)")
            }
        }
    }
}
