import Foundation

/// `vowifi demo`: not built yet.
enum DemoCommand {
    static func run(_ args: [String]) -> Int32 {
        FileHandle.standardError.write(Data("vowifi demo: not implemented yet\n".utf8))
        return 1
    }
}
