import Foundation

/// `vowifi run`: not built yet.
enum RunCommand {
    static func run(_ args: [String]) -> Int32 {
        FileHandle.standardError.write(Data("vowifi run: not implemented yet\n".utf8))
        return 1
    }
}
