import Foundation
import Glibc
import IMS
import SIP
import TestSupport
import XCTest
@testable import Runtime

/// RFC 5626 §3.5.1 / §4.4.1 keep-alives on the IMS's real sockets. Over TCP (TCP_NODELAY, a
/// pause between writes so each is its own segment and its own read) a CRLFCRLF ping gets
/// exactly one CRLF pong however it is cut: alone in two halves, at the tail of the segment
/// ending a message, or just before the next message starts; a lone CRLF gets none, and the
/// messages around the pings are answered whole. Over UDP CRLF keep-alives get no answer.
final class IMSStreamKeepaliveTests: XCTestCase {
    static let ping = Array("\r\n\r\n".utf8)

    /// What came back on `fd` within `seconds`: the SIP messages, and every byte between them.
    static func read(_ fd: Int32, for seconds: Double) throws -> (messages: [SIPMessage], between: [UInt8]) {
        let bytes = SIPStreamSocket.readAll(fd, for: seconds)
        var messages: [SIPMessage] = [], between: [UInt8] = []
        var rest = bytes[...]
        while let c = rest.first {
            if c == 0x0D || c == 0x0A { between.append(c); rest = rest.dropFirst(); continue }
            var f = SIPStreamFramer()
            f.append(rest)
            guard let m = try f.nextMessage() else { XCTFail("a partial message came back: \(rest.count) bytes"); break }
            messages.append(try SIPMessage(parsing: m))
            rest = rest.dropFirst(m.count)
        }
        return (messages, between)
    }

    /// Writes each piece as its own segment (TCP_NODELAY, 50 ms apart).
    static func write(_ fd: Int32, _ pieces: [UInt8]...) {
        for p in pieces {
            SIPStreamSocket.write(p, to: fd)
            usleep(50_000)
        }
    }

    static func options(_ n: Int, port: UInt16) -> [UInt8] {
        try! SIPMessage.testRequest("OPTIONS", uri: "sip:" + LoopbackIMSCluster.domain, via: "SIP/2.0/TCP 127.0.0.1:\(port);branch=z9hG4bKka\(n)",
                                    from: "<sip:probe@\(LoopbackIMSCluster.domain)>;tag=ka\(n)", to: "<sip:\(LoopbackIMSCluster.domain)>",
                                    callID: "ka\(n)-\(port)@127.0.0.1", cseq: UInt32(n)).serialized()
    }

    func testPingsCutAnywhereGetOnePongEachOverTCP() throws {
        let ims = try LoopbackIMSCluster(loops: 2)
        defer { ims.stop() }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let server = try SocketAddress(host: "127.0.0.1", port: ims.ports[0])
        XCTAssertEqual(server.withSockAddr { connect(fd, $0, $1) }, 0)
        let port = try XCTUnwrap(Sock.localAddress(fd)).port
        let crlf = Array("\r\n".utf8)

        // A ping in two segments: one pong, after the second half only.
        Self.write(fd, crlf)
        XCTAssertEqual(try Self.read(fd, for: 0.3).between, [], "half a ping is no ping")
        Self.write(fd, crlf)
        XCTAssertEqual(try Self.read(fd, for: 0.5).between, crlf, "one pong for the split ping")

        // A lone CRLF (as between messages, RFC 3261 §7.5): no pong.
        Self.write(fd, crlf)
        XCTAssertEqual(try Self.read(fd, for: 0.3).between, [])
        Self.write(fd, [0x0D])   // with the CRLF before: CRLF CR, still no ping
        XCTAssertEqual(try Self.read(fd, for: 0.3).between, [])
        Self.write(fd, [0x0A])   // CRLF CRLF complete
        XCTAssertEqual(try Self.read(fd, for: 0.5).between, crlf)

        // The end of a message and a ping in one segment: the message is answered, one pong.
        let o1 = Self.options(1, port: port)
        Self.write(fd, Array(o1.prefix(30)), Array(o1.dropFirst(30)) + Self.ping)
        var r = try Self.read(fd, for: 1)
        XCTAssertEqual(r.messages.map(\.statusCode), [200])
        XCTAssertEqual(r.between, crlf, "one pong, none for the message's own CRLFCRLF")

        // A ping whose last bytes share a segment with the start of the next message: the
        // message is whole (answered), one pong.
        let o2 = Self.options(2, port: port)
        Self.write(fd, Array("\r\n\r".utf8), [0x0A] + o2.prefix(25), Array(o2.dropFirst(25)))
        r = try Self.read(fd, for: 1)
        XCTAssertEqual(r.messages.map(\.statusCode), [200])
        XCTAssertEqual(r.messages.first?.header("CSeq"), "2 OPTIONS")
        XCTAssertEqual(r.between, crlf)

        // Two pings and a message in one segment, a message with no ping: two pongs, two answers.
        Self.write(fd, Self.ping + Self.ping + Self.options(3, port: port), Self.options(4, port: port))
        r = try Self.read(fd, for: 1)
        XCTAssertEqual(r.messages.compactMap { $0.header("CSeq") }, ["3 OPTIONS", "4 OPTIONS"])
        XCTAssertEqual(r.between, crlf + crlf)

        // A single CRLF before a message: skipped, no pong.
        Self.write(fd, crlf + Self.options(5, port: port))
        r = try Self.read(fd, for: 1)
        XCTAssertEqual(r.messages.compactMap { $0.header("CSeq") }, ["5 OPTIONS"])
        XCTAssertEqual(r.between, [])
    }

    /// A single CRLF over UDP (RFC 5626 §4.4.1 keep-alives over UDP are STUN; a CRLF is
    /// ignored), and a double one, get no answer; the socket answers SIP meanwhile.
    func testCRLFKeepalivesOverUDPAreSilent() throws {
        let ims = try LoopbackIMSCluster(loops: 2)
        defer { ims.stop() }
        let phone = try BlockingUDP(family: AF_INET, bindTo: try SocketAddress(host: "127.0.0.1", port: 0), timeoutMs: 400)
        let server = try SocketAddress(host: "127.0.0.1", port: ims.ports[0])
        phone.send(Array("\r\n".utf8), to: server)
        phone.send(Self.ping, to: server)
        XCTAssertNil(phone.receive().map { String(decoding: $0.0, as: UTF8.self) }, "no answer to CRLF keep-alives over UDP")
        let port = try XCTUnwrap(Sock.localAddress(phone.fd)).port
        let o = String(decoding: Self.options(9, port: port), as: UTF8.self).replacingOccurrences(of: "SIP/2.0/TCP", with: "SIP/2.0/UDP")
        phone.send(Array(o.utf8), to: server)
        let answer = try XCTUnwrap(phone.receive(), "OPTIONS over UDP unanswered")
        XCTAssertEqual(try SIPMessage(parsing: answer.0).statusCode, 200)
    }
}
