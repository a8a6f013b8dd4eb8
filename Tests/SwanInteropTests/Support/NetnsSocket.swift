import Foundation
import Glibc

/// Makes sockets inside a network namespace from this process: a short-lived thread joins the
/// namespace (setns affects only the calling thread), creates the socket and exits. The socket
/// keeps its namespace for its whole life, whichever thread uses it.
enum NetnsSocket {
    private final class Box<T>: @unchecked Sendable {
        // @unchecked: written by the helper thread before the semaphore signals, read after.
        var value: Result<T, Error>?
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// glibc's setns(2), looked up at run time: Swift's Glibc module hides it (_GNU_SOURCE only).
    static let setns: (@convention(c) (Int32, Int32) -> Int32)? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return nil }
        return unsafeBitCast(sym, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    static func run<T>(in ns: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            defer { done.signal() }
            let fd = open("/run/netns/\(ns)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { box.value = .failure(Failure(description: "open /run/netns/\(ns): errno \(errno)")); return }
            defer { close(fd) }
            guard let setns = NetnsSocket.setns, setns(fd, 0x4000_0000 /* CLONE_NEWNET */) == 0 else {
                box.value = .failure(Failure(description: "setns \(ns): errno \(errno)")); return
            }
            box.value = Result { try body() }
        }
        t.start()
        done.wait()
        guard let v = box.value else { throw Failure(description: "namespace thread produced nothing") }
        return try v.get()
    }

    /// A UDP socket bound to addr:port (IPv4) in `ns`.
    static func udp4(in ns: String, address: String, port: UInt16) throws -> Int32 {
        try run(in: ns) {
            let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &sin.sin_addr)
            let rc = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { let e = errno; close(s); throw Failure(description: "bind \(address):\(port): errno \(e)") }
            return s
        }
    }

    static func send(_ fd: Int32, _ bytes: [UInt8], to address: String, port: UInt16) {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        inet_pton(AF_INET, address, &sin.sin_addr)
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// Waits up to `timeoutMs` for a datagram on any of `fds`: (fd, bytes, source address, source port).
    static func receive(_ fds: [Int32], timeoutMs: Int32) -> (Int32, [UInt8], String, UInt16)? {
        var p = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&p, nfds_t(p.count), timeoutMs) > 0 else { return nil }
        for e in p where e.revents & Int16(POLLIN) != 0 {
            var buf = [UInt8](repeating: 0, count: 65536)
            var sin = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &sin) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(e.fd, b.baseAddress, b.count, 0, $0, &len) }
                }
            }
            guard n >= 0 else { continue }
            var text = [CChar](repeating: 0, count: 64)
            inet_ntop(AF_INET, &sin.sin_addr, &text, 64)
            let addr = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (e.fd, Array(buf[0..<n]), addr, UInt16(bigEndian: sin.sin_port))
        }
        return nil
    }
}
