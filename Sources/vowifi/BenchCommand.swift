import Foundation

/// `vowifi bench`: not built yet.
enum BenchCommand {
    static func run(_ args: [String]) -> Int32 {
        FileHandle.standardError.write(Data("vowifi bench: not implemented yet\n".utf8))
        return 1
    }
}
