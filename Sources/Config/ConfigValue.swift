/// A value of the callbox config language, with the place it was written.
///
/// Numbers are 64-bit floats in the callbox, but integers written as integers (`300`,
/// `0x9001`, `24*3600`) stay exact here so that AMF, SQN and port numbers never round.
public struct ConfigValue: Sendable, CustomStringConvertible {
    public indirect enum Kind: Sendable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
        case array([ConfigValue])
        case object(ConfigObject)
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// A short name of the type, for "expected X, found Y" messages.
    public var typeName: String {
        switch kind {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var object: ConfigObject? {
        if case .object(let o) = kind { return o }
        return nil
    }

    public var array: [ConfigValue]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    public var string: String? {
        if case .string(let s) = kind { return s }
        return nil
    }

    /// The value as an exact integer (a float with no fraction counts).
    public var integer: Int64? {
        switch kind {
        case .integer(let i): return i
        case .number(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int64(d)
        default: return nil
        }
    }

    public var double: Double? {
        switch kind {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// Booleans, plus 0 and 1 as the callbox accepts them.
    public var bool: Bool? {
        switch kind {
        case .bool(let b): return b
        case .integer(0): return false
        case .integer(1): return true
        case .number(let d) where d == 0 || d == 1: return d == 1
        default: return nil
        }
    }

    /// Truth for `#if`, `!`, `&&`, `||`: non-zero numbers, non-empty strings, true.
    var truthy: Bool {
        switch kind {
        case .null: return false
        case .bool(let b): return b
        case .integer(let i): return i != 0
        case .number(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array, .object: return true
        }
    }

    /// The value written back in config syntax (used by `vowifi config check` and messages).
    public var description: String { render(indent: nil) }

    /// Renders in config syntax; with `indent`, objects and arrays span lines.
    public func render(indent: Int?) -> String {
        switch kind {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d):
            if d.rounded() == d && abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        case .string(let s): return quote(s)
        case .array(let a):
            if a.isEmpty { return "[]" }
            if let n = indent {
                let pad = String(repeating: " ", count: n + 2)
                let items = a.map { pad + $0.render(indent: n + 2) }
                return "[\n" + items.joined(separator: ",\n") + "\n" + String(repeating: " ", count: n) + "]"
            }
            return "[" + a.map { $0.render(indent: nil) }.joined(separator: ", ") + "]"
        case .object(let o):
            if o.members.isEmpty { return "{}" }
            if let n = indent {
                let pad = String(repeating: " ", count: n + 2)
                let items = o.members.map { pad + renderName($0.name) + ": " + $0.value.render(indent: n + 2) }
                return "{\n" + items.joined(separator: ",\n") + "\n" + String(repeating: " ", count: n) + "}"
            }
            return "{" + o.members.map { renderName($0.name) + ": " + $0.value.render(indent: nil) }.joined(separator: ", ") + "}"
        }
    }
}

/// Quotes a string in config syntax.
func quote(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

private func renderName(_ name: String) -> String {
    guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39),
          name.utf8.allSatisfy({ isIdentifierByte($0) }) else { return quote(name) }
    return name
}

/// One `name: value` of an object, with where the name was written.
public struct ConfigMember: Sendable {
    public var name: String
    public var nameLocation: SourceLocation
    public var value: ConfigValue
}

/// An object keeping its members in the order they were first written.
public struct ConfigObject: Sendable {
    public private(set) var members: [ConfigMember] = []

    public init() {}

    public subscript(name: String) -> ConfigValue? {
        members.first { $0.name == name }?.value
    }

    public func member(_ name: String) -> ConfigMember? {
        members.first { $0.name == name }
    }

    /// Adds a member; a name already present merges with the callbox rules (later wins).
    public mutating func set(_ name: String, at nameLocation: SourceLocation, _ value: ConfigValue) {
        if let i = members.firstIndex(where: { $0.name == name }) {
            members[i].value = merged(members[i].value, value)
            members[i].nameLocation = nameLocation
        } else {
            members.append(ConfigMember(name: name, nameLocation: nameLocation, value: value))
        }
    }

    /// Merges every member of `other` into this object (as `include` does).
    public mutating func merge(_ other: ConfigObject) {
        for m in other.members { set(m.name, at: m.nameLocation, m.value) }
    }
}

/// The callbox's JSON merge: objects merge recursively, arrays index by index with the
/// length of the longer one, anything else is replaced by the later value.
public func merged(_ earlier: ConfigValue, _ later: ConfigValue) -> ConfigValue {
    switch (earlier.kind, later.kind) {
    case (.object(var a), .object(let b)):
        a.merge(b)
        return ConfigValue(.object(a), at: later.location)
    case (.array(let a), .array(let b)):
        var out: [ConfigValue] = []
        for i in 0..<max(a.count, b.count) {
            if i < a.count && i < b.count { out.append(merged(a[i], b[i])) }
            else if i < b.count { out.append(b[i]) }
            else { out.append(a[i]) }
        }
        return ConfigValue(.array(out), at: later.location)
    default:
        return later
    }
}

func isIdentifierByte(_ b: UInt8) -> Bool {
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f
}
