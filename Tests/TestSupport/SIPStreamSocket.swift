import Foundation
import Glibc
import SIP

/// Blocking reads and writes of SIP over a test's TCP socket (RFC 3261 §18.3 framing).
public enum SIPStreamSocket {
    /// Whether `fd` is readable within `timeout` seconds.
    public static func wait(_ fd: Int32, _ timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(timeout * 1000)) > 0
    }

    /// One SIP message read from `fd`. The bytes are peeked and only the message's own are
    /// taken, so a message that came in the same segment is left for the next call.
    public static func readMessage(_ fd: Int32, timeout: Double) -> SIPMessage? {
        var buf = [UInt8](repeating: 0, count: 65536)
        let until = Date().addingTimeInterval(timeout)
        while Date() < until, wait(fd, until.timeIntervalSinceNow) {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            guard n > 0 else { return nil }
            var framer = SIPStreamFramer()
            framer.append(buf[0..<n])
            guard let b = try? framer.nextMessage() else { usleep(1000); continue }   // the rest is on its way
            let used = n - framer.bufferedCount
            _ = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, used, 0) }
            return try? SIPMessage(parsing: b)
        }
        return nil
    }

    /// Every byte that arrives on `fd` within `seconds` (less if the peer closes).
    public static func readAll(_ fd: Int32, for seconds: Double) -> [UInt8] {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let until = Date().addingTimeInterval(seconds)
        while case let left = until.timeIntervalSinceNow, left > 0, wait(fd, left + 0.001) {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            bytes += buf[0..<n]
        }
        return bytes
    }

    /// Writes `bytes` whole (no SIGPIPE if the peer has gone).
    public static func write(_ bytes: [UInt8], to fd: Int32) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    public static func write(_ m: SIPMessage, to fd: Int32) { write(m.serialized(), to: fd) }
}
