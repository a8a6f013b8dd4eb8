import XCTest
@testable import WebSocket

/// The sans-I/O codec against RFC 6455's own examples and against broken clients.
final class WebSocketCodecTests: XCTestCase {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func request(_ extra: String = "", version: String = "13", method: String = "GET") -> [UInt8] {
        Array("\(method) /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: \(version)\r\n\(extra)\r\n".utf8)
    }

    /// A masked client frame.
    static func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let n = payload.count
        if n < 126 { out.append(0x80 | UInt8(n)) }
        else if n <= 0xFFFF { out += [0x80 | 126, UInt8(n >> 8), UInt8(n & 0xFF)] }
        else { out.append(0x80 | 127); for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> s)) } }
        out += mask
        return out + payload.enumerated().map { $1 ^ mask[$0 & 3] }
    }

    func open() -> WebSocketConnection {
        var c = WebSocketConnection(maxMessageSize: 70_000)
        _ = c.receive(Self.request())
        return c
    }

    /// RFC 6455 §1.3's example key and accept value.
    func testAcceptValueFromRFC() {
        XCTAssertEqual(WebSocketHandshake.accept(key: Self.key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testHandshakeAcceptedAndFrameInSameRead() {
        var c = WebSocketConnection()
        // RFC 6455 §5.7: a masked "Hello" right behind the request.
        let hello: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        let ev = c.receive(Self.request() + hello)
        guard case let .write(r) = ev.first else { return XCTFail("\(ev)") }
        let text = String(decoding: r, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 101 "), text)
        XCTAssertTrue(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), text)
        XCTAssertEqual(Array(ev.dropFirst()), [.opened(path: "/chat"), .text("Hello")])
    }

    func testHandshakeByteByByte() {
        var c = WebSocketConnection()
        var events: [WebSocketConnection.Event] = []
        for b in Self.request() { events += c.receive([b]) }
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(c.state, .open)
    }

    func testHandshakeRejections() {
        for (req, status) in [(Self.request(version: "8"), "426"), (Self.request(method: "POST"), "405"),
                              (Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "400"),
                              ([UInt8](repeating: 0x41, count: 9000), "431")] {
            var c = WebSocketConnection()
            let ev = c.receive(req)
            guard case let .write(r) = ev.first, case let .close(why) = ev.last else { return XCTFail("\(ev)") }
            XCTAssertTrue(String(decoding: r, as: UTF8.self).hasPrefix("HTTP/1.1 \(status) "), "\(status): \(why)")
            XCTAssertEqual(c.state, .closed)
        }
    }

    func testServerFramesUnmaskedWithShortestLength() {
        XCTAssertEqual(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).serialized(), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        let mid = WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 1, count: 256)).serialized()
        XCTAssertEqual(Array(mid.prefix(4)), [0x82, 0x7E, 0x01, 0x00])
        let big = WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 1, count: 65536)).serialized()
        XCTAssertEqual(Array(big.prefix(10)), [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        XCTAssertEqual(big.count, 65536 + 10)
    }

    func testSixteenAndSixtyFourBitLengthsParse() {
        var c = open()
        let a = [UInt8](repeating: 0x61, count: 300), b = [UInt8](repeating: 0x62, count: 66_000)
        XCTAssertEqual(c.receive(Self.clientFrame(1, a) + Self.clientFrame(1, b)), [.text(String(decoding: a, as: UTF8.self)), .text(String(decoding: b, as: UTF8.self))])
    }

    func testFragmentedTextWithPingBetween() {
        var c = open()
        let ev = c.receive(Self.clientFrame(1, Array("Hel".utf8), fin: false) + Self.clientFrame(9, [1, 2]) + Self.clientFrame(0, Array("lo".utf8)))
        XCTAssertEqual(ev, [.write([0x8A, 0x02, 1, 2]), .text("Hello")])
    }

    func testCloseEchoesCode() {
        var c = open()
        XCTAssertEqual(c.receive(Self.clientFrame(8, [0x03, 0xE8])), [.write([0x88, 0x02, 0x03, 0xE8]), .close(reason: "client closed (1000)")])
        XCTAssertEqual(c.receive(Self.clientFrame(1, [0x41])), [], "nothing after close")
    }

    func testUnmaskedFrameFailsWith1002() {
        var c = open()
        let ev = c.receive([0x81, 0x02, 0x68, 0x69])
        guard case let .write(f) = ev.first else { return XCTFail("\(ev)") }
        XCTAssertEqual(Array(f.prefix(4)), [0x88, UInt8(f.count - 2), 0x03, 0xEA])
        XCTAssertEqual(ev.last, .close(reason: "closed with 1002: unmasked client frame"))
    }

    /// A header announcing 2^62 bytes closes with 1009 before any payload is awaited.
    func testOversizeLengthFailsWith1009BeforePayload() {
        var c = open()
        let ev = c.receive([0x81, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0])
        guard case let .write(f) = ev.first else { return XCTFail("\(ev)") }
        XCTAssertEqual(Array(f.prefix(4)), [0x88, UInt8(f.count - 2), 0x03, 0xF1])
        XCTAssertEqual(c.state, .closed)
    }

    func testFragmentsAddingUpPastLimitFailWith1009() {
        var c = open()
        let part = [UInt8](repeating: 0x61, count: 40_000)
        let ev = c.receive(Self.clientFrame(1, part, fin: false) + Self.clientFrame(0, part))
        guard case let .write(f) = ev.first else { return XCTFail("\(ev)") }
        XCTAssertEqual(Array(f.prefix(4)).suffix(2), [0x03, 0xF1])
    }

    func testProtocolFaults() {
        let cases: [([UInt8], String)] = [
            ([0xC1, 0x80, 0, 0, 0, 0], "RSV bits"),
            ([0x83, 0x80, 0, 0, 0, 0], "reserved opcode"),
            ([0x09, 0x80, 0, 0, 0, 0], "fragmented ping"),
            (Self.clientFrame(9, [UInt8](repeating: 0, count: 126)), "ping frame of 126"),
            ([0x81, 0xFE, 0x00, 0x05, 0, 0, 0, 0], "not minimal"),
            (Self.clientFrame(0, [0x41]), "continuation frame without"),
            (Self.clientFrame(2, [0x41]), "binary"),
            (Self.clientFrame(1, [0xFF, 0xFE]), "not UTF-8"),
        ]
        for (bytes, expected) in cases {
            var c = open()
            let ev = c.receive(bytes)
            guard case let .close(why) = ev.last else { XCTFail("\(expected): \(ev)"); continue }
            XCTAssertTrue(why.contains(expected), "\(expected): \(why)")
        }
    }

    func testPartialFrameWaits() {
        var c = open()
        let f = Self.clientFrame(1, Array("split".utf8))
        XCTAssertEqual(c.receive(f.prefix(3)), [])
        XCTAssertEqual(c.receive(f.dropFirst(3)), [.text("split")])
    }
}
