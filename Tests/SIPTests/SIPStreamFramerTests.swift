import TestSupport
import XCTest
@testable import SIP

/// RFC 5626 §3.5.1 keep-alive pings on a stream, however TCP cuts it: every CRLFCRLF between
/// messages is one ping, a message's own CRLFs are none, and no byte of a message is lost.
final class SIPStreamFramerTests: XCTestCase {
    typealias Frame = SIPStreamFramer.Frame
    static let crlf: [UInt8] = [0x0D, 0x0A]
    static let ping = crlf + crlf
    /// A message without body: its header block ends in CRLFCRLF, which is not a ping.
    static let options = Array("OPTIONS sip:ims.example.org SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKk1\r\nMax-Forwards: 70\r\nFrom: <sip:a@ims.example.org>;tag=1\r\nTo: <sip:ims.example.org>\r\nCall-ID: k1@198.51.100.7\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".utf8)

    /// ping, INVITE (with body), a stray CRLF then a ping (three CRLFs: one ping), OPTIONS,
    /// two pings, OPTIONS; a lone LF LF and a lone CRLF at the end are no pings.
    static func stream() -> ([UInt8], [Frame]) {
        let invite = TM.imsInvite()
        let bytes = ping + invite + crlf + ping + options + ping + ping + options + [0x0A, 0x0A] + crlf
        return (bytes, [.ping, .message(invite), .ping, .message(options), .ping, .ping, .message(options)])
    }

    /// Feeds `chunks` one after the other, taking every frame available after each.
    static func frames(_ chunks: [ArraySlice<UInt8>]) throws -> [Frame] {
        var f = SIPStreamFramer()
        var out: [Frame] = []
        for c in chunks {
            f.append(c)
            while let frame = try f.nextFrame() { out.append(frame) }
        }
        return out
    }

    func testEveryTwoWaySplitGivesTheSameFrames() throws {
        let (bytes, expected) = Self.stream()
        for cut in 0...bytes.count {
            XCTAssertEqual(try Self.frames([bytes[..<cut], bytes[cut...]]), expected, "cut at \(cut)")
        }
    }

    func testByteByByteAndRandomChunks() throws {
        let (bytes, expected) = Self.stream()
        XCTAssertEqual(try Self.frames(bytes.indices.map { bytes[$0...$0] }), expected, "one byte per read")
        var rng = SeededRandom(seed: 5626)
        for round in 0..<50 {
            var chunks: [ArraySlice<UInt8>] = [], i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...7, using: &rng)
                chunks.append(bytes[i..<min(bytes.count, i + n)]); i += n
            }
            XCTAssertEqual(try Self.frames(chunks), expected, "round \(round)")
        }
    }

    /// Every three-way split around the pings that follow and precede a message: the ping's
    /// bytes in the same read as the end of one message and the start of the next.
    func testThreeWaySplitsAroundAPingBetweenMessages() throws {
        let a = Self.options, b = Self.options
        let bytes = a + Self.ping + b
        for i in (a.count - 3)...(a.count + 5) {
            for j in i...(a.count + 8) {
                XCTAssertEqual(try Self.frames([bytes[..<i], bytes[i..<j], bytes[j...]]), [.message(a), .ping, .message(b)], "cuts \(i), \(j)")
            }
        }
    }

    /// `nextMessage` skips pings; CRs and LFs that form no CRLFCRLF are skipped without a ping.
    func testNextMessageSkipsPingsAndStrayLineEnds() throws {
        var f = SIPStreamFramer()
        f.append(Self.ping + Self.options + [0x0A, 0x0D, 0x0D, 0x0A, 0x0A] + Self.options)
        XCTAssertEqual(try f.nextMessage(), Self.options)
        XCTAssertEqual(try f.nextMessage(), Self.options)
        XCTAssertNil(try f.nextMessage())
        XCTAssertEqual(try Self.frames([Self.crlf[...], Self.crlf[...].prefix(1)]), [], "CRLF CR: no ping yet")
        XCTAssertEqual(try Self.frames([[0x0A, 0x0D, 0x0D, 0x0A, 0x0A][...]]), [], "LF CR CR LF LF is no CRLFCRLF")
        XCTAssertEqual(try Self.frames([[0x0D, 0x0D, 0x0A, 0x0D, 0x0A][...]]), [.ping], "CR then CRLFCRLF")
    }
}
