import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Test-made network namespaces (`ip netns`), and running code or tools inside them.
enum NetNS {
    /// Runs a command, returns (status, combined output).
    @discardableResult
    static func sh(_ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func ip(_ args: String) throws {
        let (rc, out) = sh(["ip"] + args.split(separator: " ").map(String.init))
        guard rc == 0 else { throw Failure("ip \(args): \(out)") }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ s: String) { description = s }
    }

    typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    static let CLONE_NEWNET: Int32 = 0x4000_0000

    /// Runs `body` on the calling thread with its network namespace switched to `name`;
    /// sockets created inside stay in that namespace after the thread switches back.
    static func inNamespace<T>(_ name: String, _ body: () throws -> T) throws -> T {
        guard let sym = dlsym(nil, "setns") else { throw Failure("setns not found") }
        let setns = unsafeBitCast(sym, to: SetNS.self)
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw Failure("open own netns: errno \(errno)") }
        defer { close(home) }
        let target = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw Failure("open netns \(name): errno \(errno)") }
        defer { close(target) }
        guard setns(target, CLONE_NEWNET) == 0 else { throw Failure("setns \(name): errno \(errno)") }
        defer { _ = setns(home, CLONE_NEWNET) }
        return try body()
    }

    static func toolExists(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }
}
