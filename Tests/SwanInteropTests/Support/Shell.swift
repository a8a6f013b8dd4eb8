import Foundation
import Glibc
import XCTest

/// Runs external tools (ip, openssl, swanctl, python3, tshark) for the interop tests.
enum Shell {
    struct Result { var status: Int32; var output: String }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib/ipsec", "/usr/libexec/ipsec"] {
            let p = dir + "/" + name
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Runs `args` (args[0] an absolute path or a name found by `which`) bounded by `timeout`
    /// seconds (coreutils `timeout`); stdout and stderr together.
    @discardableResult
    static func run(_ args: [String], env: [String: String] = [:], timeout: Int = 30, stdin: String? = nil,
                    dropStderr: Bool = false) -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        let exe = args[0].hasPrefix("/") ? args[0] : (which(args[0]) ?? args[0])
        p.arguments = ["-k", "5", String(timeout), exe] + args.dropFirst()
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe()
        p.standardOutput = out
        p.standardError = dropStderr ? FileHandle.nullDevice : out
        let input = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        do { try p.run() } catch { return Result(status: -1, output: "\(error)") }
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func must(_ args: [String], env: [String: String] = [:], timeout: Int = 30,
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = run(args, env: env, timeout: timeout)
        guard r.status == 0 else {
            XCTFail("\(args.joined(separator: " ")) exited \(r.status):\n\(r.output)", file: file, line: line)
            throw ShellError.failed(args.joined(separator: " "), r.status, r.output)
        }
        return r.output
    }

    /// Starts a long-running process with output to `logPath`.
    static func spawn(_ args: [String], env: [String: String] = [:], logPath: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : (which(args[0]) ?? args[0]))
        p.arguments = Array(args.dropFirst())
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let fh = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        p.standardOutput = fh
        p.standardError = fh
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Polls `condition` every 100 ms for up to `seconds`.
    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}

enum ShellError: Error { case failed(String, Int32, String) }
