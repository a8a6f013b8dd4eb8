import Foundation

/// A JSON value that may cross event loops: the remote API's handlers build replies from
/// state gathered on the shards' loops, and Foundation's `[String: Any]` is not `Sendable`.
public enum JSONValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(stringLiteral s: String) { self = .string(s) }
    public init(booleanLiteral b: Bool) { self = .bool(b) }
    public init(integerLiteral i: Int64) { self = .int(i) }

    /// The Foundation form `JSONSerialization` writes.
    public var foundation: Any {
        switch self {
        case let .string(s): s
        case let .int(i): i
        case let .double(d): d
        case let .bool(b): b
        case .null: NSNull()
        case let .array(a): a.map(\.foundation)
        case let .object(o): o.mapValues(\.foundation)
        }
    }
}

/// Fields of a reply or event, merged into the envelope by `RemoteAPIServer`.
public typealias JSONObject = [String: JSONValue]
