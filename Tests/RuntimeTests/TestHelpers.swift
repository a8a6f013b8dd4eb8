import Foundation
import Glibc
@testable import Runtime

/// A plain blocking UDP socket for the client side of tests.
final class BlockingUDP {
    let fd: Int32
    init(family: Int32, bindTo: SocketAddress? = nil, timeoutMs: Int = 2000) throws {
        fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError.system(call: "socket", context: "test", errno: errno) }
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let bindTo {
            let rc = bindTo.withSockAddr { Glibc.bind(fd, $0, $1) }
            guard rc == 0 else { throw RuntimeError.bind(transport: "UDP", address: bindTo, errno: errno) }
        }
    }
    deinit { close(fd) }

    func send(_ bytes: [UInt8], to: SocketAddress) {
        _ = bytes.withUnsafeBytes { b in to.withSockAddr { sendto(fd, b.baseAddress, b.count, 0, $0, $1) } }
    }

    /// Receives one datagram (nil on timeout).
    func receive() -> ([UInt8], SocketAddress)? {
        var buf = [UInt8](repeating: 0, count: 65536)
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = buf.withUnsafeMutableBytes { b in
            withUnsafeMutableBytes(of: &storage) { s in
                recvfrom(fd, b.baseAddress, b.count, 0, s.baseAddress!.assumingMemoryBound(to: sockaddr.self), &len)
            }
        }
        guard n >= 0 else { return nil }
        let peer = withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!) }!
        return (Array(buf[0..<n]), peer)
    }
}

enum ProcSelf {
    /// Entries in /proc/self/fd (the directory listing's own fd is counted both times).
    static func openFDCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// Names of this process's threads.
    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}

/// Values collected on loop threads and read by the test thread afterwards.
final class Collector<T>: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ v: T) { lock.lock(); items.append(v); lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return items }
    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
}

/// Polls `condition` until true or `seconds` pass.
func waitUntil(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}
