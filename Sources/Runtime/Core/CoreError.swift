/// Why the core cannot start, in words a tester can act on.
public enum CoreError: Error, CustomStringConvertible {
    case config([String])
    case startup(String)

    public var description: String {
        switch self {
        case let .config(lines): return lines.joined(separator: "\n")
        case let .startup(why): return why
        }
    }
}
