import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A client of the wpa_supplicant / eapol_test control interface: a Unix datagram socket
/// bound to a path of our own and connected to the daemon's socket. Requests get a reply
/// datagram; after ATTACH, events arrive as "<level>CTRL-...".
final class WPACtrlClient {
    let fd: Int32
    let localPath: String

    enum Failure: Error, CustomStringConvertible {
        case socket(String, Int32)
        case timeout(String)
        var description: String {
            switch self {
            case let .socket(s, e): "\(s): errno \(e)"
            case let .timeout(s): "timed out: \(s)"
            }
        }
    }

    /// Connects to `path`, waiting up to `wait` seconds for the daemon to create it.
    init(path: String, localPath: String, wait: Double = 10) throws {
        let deadline = Date().addingTimeInterval(wait)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else { throw Failure.timeout("control socket \(path) never appeared") }
            usleep(20_000)
        }
        self.localPath = localPath
        unlink(localPath)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.socket("socket", errno) }
        try Self.withAddress(localPath) { a, l in
            guard bind(fd, a, l) == 0 else { throw Failure.socket("bind \(localPath)", errno) }
        }
        try Self.withAddress(path) { a, l in
            guard connect(fd, a, l) == 0 else { throw Failure.socket("connect \(path)", errno) }
        }
    }

    deinit {
        close(fd)
        unlink(localPath)
    }

    static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Void) throws {
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &a.sun_path) { p in
            for (i, b) in bytes.prefix(p.count - 1).enumerated() { p[i] = b }
        }
        try withUnsafePointer(to: &a) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    func send(_ text: String) {
        let b = Array(text.utf8)
        _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// One datagram, or nil after `timeout` seconds.
    func receive(timeout: Double) -> String? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 8192)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }

    /// Sends a command and returns its reply, skipping unsolicited events ("<n>...").
    func request(_ command: String, timeout: Double = 5, events: ((String) -> Void)? = nil) throws -> String {
        send(command)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let m = receive(timeout: 0.2) else { continue }
            if m.hasPrefix("<") { events?(m); continue }
            return m
        }
        throw Failure.timeout("reply to \(command)")
    }
}
