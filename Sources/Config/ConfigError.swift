/// A config that cannot be used: where, what kind, and what was expected.
///
/// Loading collects every semantic error it can; the first one is thrown and the others
/// ride along in `more`, so `all` lists each one (the CLI prints them one per line).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Lexing or parsing: a token that does not fit the grammar.
        case syntax
        /// A name used in an expression that is not `#define`d.
        case undefinedName
        /// An operator applied to values it does not work on (e.g. `"a" * 2`).
        case expression
        /// An include file that cannot be read.
        case include
        /// A preprocessor directive that is malformed or unbalanced.
        case preprocessor
        /// A value of the wrong type for its field.
        case type
        /// A number outside its documented range.
        case range
        /// A value not among the allowed ones (enum, algorithm name, address, hex).
        case invalidValue
        /// A key inside an implemented object that is neither implemented nor documented.
        case unknownKey
        /// A required field is absent.
        case missing
    }

    public var kind: Kind
    public var location: SourceLocation?
    public var message: String
    /// Further errors found in the same load (empty for syntax errors, which stop the parse).
    public var more: [ConfigError] = []

    public init(_ kind: Kind, at location: SourceLocation?, _ message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }

    /// This error and the ones that came with it, in file order.
    public var all: [ConfigError] {
        var first = self
        first.more = []
        return [first] + more
    }
}

/// A key the config carries but VoWiFi Core does not use (not fatal; reported once per key path).
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    /// Key path such as `gtp_addr`, `pdn_list[].erabs`, `ue_db[].force_sms_over_sg`.
    public var path: String
    public var location: SourceLocation
    public var message: String

    public init(path: String, location: SourceLocation, message: String) {
        self.path = path
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
