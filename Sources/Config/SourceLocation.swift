/// Where a token or value came from, so every error can say `file:line:column`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file path as the user gave it (or as resolved from an include).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, in bytes.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
