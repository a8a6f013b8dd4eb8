import Foundation

/// Entry points of the language: a file (with its includes) to one merged object.
public enum ConfigDocument {
    /// Parses `path` and everything it includes; include paths are relative to the including file.
    public static func load(path: String) throws -> ConfigObject {
        try parse(path: path, readFile: { p in
            guard let data = FileManager.default.contents(atPath: p) else {
                throw FileReadError(path: p)
            }
            return [UInt8](data)
        })
    }

    /// Parses `path` read through `readFile` (tests pass an in-memory file system).
    public static func parse(path: String, readFile: @escaping (String) throws -> [UInt8]) throws -> ConfigObject {
        let context = ParseContext(readFile: readFile)
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch {
            throw ConfigError(.include, at: nil, "\(path): cannot read config file: \(error)")
        }
        context.includeStack = [path]
        let parser = try Parser(source: TokenSource(lexer: Lexer(bytes: bytes, file: path), context: context), context: context)
        return try parser.parseDocument()
    }

    /// Parses text held in memory; `include` resolves against `files` by resolved path.
    public static func parse(text: String, file: String = "<string>", files: [String: String] = [:]) throws -> ConfigObject {
        var all = files
        all[file] = text
        let snapshot = all
        return try parse(path: file, readFile: { p in
            guard let t = snapshot[p] else { throw FileReadError(path: p) }
            return Array(t.utf8)
        })
    }
}

/// A file that is missing or unreadable.
struct FileReadError: Error, CustomStringConvertible {
    let path: String
    var description: String { "no such file or not readable" }
}
