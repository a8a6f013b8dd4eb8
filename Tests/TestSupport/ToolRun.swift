import Foundation

/// A finished run of an external tool (python3, tshark, ...) the tests use as a real peer.
public struct ToolRun: Sendable {
    public var status: Int32
    public var out: String
    public var err: String

    /// Runs `tool` with `args` to the end. Reads stdout, then stderr: for tools that write
    /// little to stderr (a chatty one could fill its pipe and wait).
    public static func run(_ tool: String, _ args: [String]) throws -> ToolRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        let od = o.fileHandleForReading.readDataToEndOfFile(), ed = e.fileHandleForReading.readDataToEndOfFile()
        return ToolRun(status: p.waitForExitStatus(), out: String(decoding: od, as: UTF8.self), err: String(decoding: ed, as: UTF8.self))
    }
}
