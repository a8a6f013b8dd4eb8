import Foundation

/// `vowifi config`: not built yet.
enum ConfigCommand {
    static func run(_ args: [String]) -> Int32 {
        FileHandle.standardError.write(Data("vowifi config: not implemented yet\n".utf8))
        return 1
    }
}
