import XCTest
import Glibc
@testable import Runtime

final class TCPTests: XCTestCase {
    /// Server on the loop upper-cases what it reads; a blocking client thread talks to it.
    func testAcceptReadWriteCloseWithAClient() throws {
        for host in ["127.0.0.1", "::1"] {
            let group = try EventLoopGroup(loopCount: 1, name: "rt-tcp")
            let loop = group.loops[0]
            let events = Collector<String>()
            let local = try loop.submit { () -> SocketAddress in
                try TCPListener.listen(SocketAddress(host: host, port: 0), on: loop) { conn in
                    events.append("accept \(conn.peerAddress?.host ?? "?")")
                    conn.onRead = { c, bytes in
                        let text = String(decoding: bytes, as: UTF8.self)
                        if text.contains("bye") { c.write(Array("BYE".utf8)); c.closeAfterWrites(); return }
                        c.write(Array(text.uppercased().utf8))
                    }
                    conn.onClose = { c, err in events.append("close \(err == nil) read=\(c.bytesRead)") }
                }.localAddress
            }
            let fd = socket(local.family, Int32(SOCK_STREAM.rawValue), 0)
            XCTAssertEqual(local.withSockAddr { connect(fd, $0, $1) }, 0)
            func roundTrip(_ s: String) -> String {
                _ = Array(s.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                var buf = [UInt8](repeating: 0, count: 256)
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 256, 0) }
                return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : "<eof>"
            }
            XCTAssertEqual(roundTrip("hello"), "HELLO")
            XCTAssertEqual(roundTrip("sip"), "SIP")
            XCTAssertEqual(roundTrip("bye"), "BYE")
            var b: UInt8 = 0
            XCTAssertEqual(recv(fd, &b, 1, 0), 0, "server should have closed")
            close(fd)
            XCTAssertTrue(waitUntil { events.count == 2 })
            XCTAssertEqual(events.values, ["accept \(host)", "close true read=11"])
            group.shutdown()
        }
    }

    func testLargeWriteIsBufferedAndDeliveredWhole() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-tcp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let payload = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let local = try loop.submit { () -> SocketAddress in
            try TCPListener.listen(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { conn in
                conn.write(payload)  // far more than the socket buffer: the rest waits for EPOLLOUT
                conn.closeAfterWrites()
            }.localAddress
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        XCTAssertEqual(local.withSockAddr { connect(fd, $0, $1) }, 0)
        usleep(100_000)  // let the server fill the socket buffer first
        var received = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if n <= 0 { break }
            received.append(contentsOf: buf[0..<n])
        }
        XCTAssertEqual(received.count, payload.count)
        XCTAssertTrue(received == payload)
    }

    func testOutgoingConnectAndRefusedConnect() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-tcp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let events = Collector<String>()
        try loop.submit {
            let l = try TCPListener.listen(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { conn in
                conn.onRead = { c, b in c.write(Array(b)) }
            }
            let c = try TCPConnection.connect(to: l.localAddress, on: loop) { c in
                events.append("connected")
                c.write(Array("ping".utf8))
            }
            c.onRead = { c, b in events.append(String(decoding: b, as: UTF8.self)); c.close() }
            // A port nobody listens on (the listener's, after closing a second one).
            let dead = try TCPListener.listen(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { _ in }
            let deadAddress = dead.localAddress
            dead.close()
            let r = try TCPConnection.connect(to: deadAddress, on: loop) { _ in events.append("wrongly connected") }
            r.onClose = { _, err in
                if case .system(let call, _, let e)? = err { events.append("\(call) \(e == ECONNREFUSED)") }
            }
        }
        XCTAssertTrue(waitUntil { events.count == 3 })
        XCTAssertEqual(Set(events.values), ["connected", "ping", "connect true"])
    }
}
