/// The operators of the config language, applied while parsing.
enum Evaluator {
    /// A value as text for `+` concatenation and `${}`.
    static func text(of v: ConfigValue) -> String {
        if case .string(let s) = v.kind { return s }
        return v.description
    }

    static func unary(_ op: String, _ v: ConfigValue, at loc: SourceLocation) throws -> ConfigValue {
        switch op {
        case "!": return ConfigValue(.bool(!v.truthy), at: loc)
        case "+":
            guard v.double != nil else { throw mismatch(op, v, nil, loc) }
            return ConfigValue(v.kind, at: loc)
        default:
            switch v.kind {
            case .integer(let i) where i != Int64.min: return ConfigValue(.integer(-i), at: loc)
            case .integer(let i): return ConfigValue(.number(-Double(i)), at: loc)
            case .number(let d): return ConfigValue(.number(-d), at: loc)
            default: throw mismatch(op, v, nil, loc)
            }
        }
    }

    static func binary(_ op: String, _ a: ConfigValue, _ b: ConfigValue, at loc: SourceLocation) throws -> ConfigValue {
        let at = a.location
        switch op {
        case "||": return ConfigValue(.bool(a.truthy || b.truthy), at: at)
        case "&&": return ConfigValue(.bool(a.truthy && b.truthy), at: at)
        case "==": return ConfigValue(.bool(equal(a, b)), at: at)
        case "!=": return ConfigValue(.bool(!equal(a, b)), at: at)
        case "<", "<=", ">", ">=":
            let order: Int
            if let x = a.double, let y = b.double {
                if case .integer(let i) = a.kind, case .integer(let j) = b.kind { order = i < j ? -1 : (i == j ? 0 : 1) }
                else { order = x < y ? -1 : (x == y ? 0 : 1) }
            } else if case .string(let x) = a.kind, case .string(let y) = b.kind {
                order = x < y ? -1 : (x == y ? 0 : 1)
            } else {
                throw mismatch(op, a, b, loc)
            }
            let r: Bool
            switch op {
            case "<": r = order < 0
            case "<=": r = order <= 0
            case ">": r = order > 0
            default: r = order >= 0
            }
            return ConfigValue(.bool(r), at: at)
        case "+":
            if case .string = a.kind { return ConfigValue(.string(text(of: a) + text(of: b)), at: at) }
            if case .string = b.kind { return ConfigValue(.string(text(of: a) + text(of: b)), at: at) }
            return try arithmetic(op, a, b, loc)
        default:
            return try arithmetic(op, a, b, loc)
        }
    }

    private static func arithmetic(_ op: String, _ a: ConfigValue, _ b: ConfigValue, _ loc: SourceLocation) throws -> ConfigValue {
        let at = a.location
        if case .integer(let i) = a.kind, case .integer(let j) = b.kind {
            switch op {
            case "+": let (r, o) = i.addingReportingOverflow(j); if !o { return ConfigValue(.integer(r), at: at) }
            case "-": let (r, o) = i.subtractingReportingOverflow(j); if !o { return ConfigValue(.integer(r), at: at) }
            case "*": let (r, o) = i.multipliedReportingOverflow(by: j); if !o { return ConfigValue(.integer(r), at: at) }
            case "/", "%":
                if j == 0 { throw ConfigError(.expression, at: loc, "division by zero") }
                // Int64.min / -1 and Int64.min % -1 overflow (and would trap): the reporting forms do not.
                let (rem, remOverflow) = i.remainderReportingOverflow(dividingBy: j)
                if op == "%" { return ConfigValue(.integer(remOverflow ? 0 : rem), at: at) }
                let (q, o) = i.dividedReportingOverflow(by: j)
                if !o && rem == 0 { return ConfigValue(.integer(q), at: at) }
            default: break
            }
        }
        guard let x = a.double, let y = b.double else { throw mismatch(op, a, b, loc) }
        switch op {
        case "+": return ConfigValue(.number(x + y), at: at)
        case "-": return ConfigValue(.number(x - y), at: at)
        case "*": return ConfigValue(.number(x * y), at: at)
        case "%":
            if y == 0 { throw ConfigError(.expression, at: loc, "division by zero") }
            return ConfigValue(.number(x.truncatingRemainder(dividingBy: y)), at: at)
        default:
            if y == 0 { throw ConfigError(.expression, at: loc, "division by zero") }
            return ConfigValue(.number(x / y), at: at)
        }
    }

    private static func equal(_ a: ConfigValue, _ b: ConfigValue) -> Bool {
        switch (a.kind, b.kind) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.bool(let x), _): if let y = b.double { return (x ? 1.0 : 0.0) == y }; return false
        case (_, .bool(let y)): if let x = a.double { return x == (y ? 1.0 : 0.0) }; return false
        default:
            if let x = a.double, let y = b.double { return x == y }
            return false
        }
    }

    private static func mismatch(_ op: String, _ a: ConfigValue, _ b: ConfigValue?, _ loc: SourceLocation) -> ConfigError {
        if let b {
            return ConfigError(.expression, at: loc, "operator '\(op)' cannot combine \(a.typeName) \(a) and \(b.typeName) \(b)")
        }
        return ConfigError(.expression, at: loc, "operator '\(op)' does not apply to \(a.typeName) \(a)")
    }
}
