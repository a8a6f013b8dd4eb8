import Foundation

/// Loads the verified vectors copied from ../shared/vectors into Tests/Fixtures/vectors.
public enum Vectors {
    /// The repository root, found from this file's path.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func url(_ name: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures/vectors").appendingPathComponent(name)
    }

    /// Parsed JSON of a vector file (a dictionary or array, as the file has it).
    public static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name)))
    }

    /// Decodes hex (spaces and 0x ignored); fails the caller loudly on bad hex.
    public static func bytes(_ hex: String) -> [UInt8] {
        var s = hex.replacingOccurrences(of: " ", with: "")
        if s.hasPrefix("0x") { s.removeFirst(2) }
        precondition(s.count % 2 == 0, "odd hex length in vector: \(hex)")
        var out: [UInt8] = []
        var it = s.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String([a, b]), radix: 16)!)
        }
        return out
    }
}
