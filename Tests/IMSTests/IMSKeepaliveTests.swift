import XCTest
import AKA
import SIP
@testable import IMS

/// RFC 5626 keep-alives at the core's transport entry points: a CRLFCRLF ping on a stream is
/// answered with one CRLF pong however the reads cut it; CRLFs over UDP get no answer.
final class IMSKeepaliveTests: XCTestCase {
    static let pong: [UInt8] = [0x0D, 0x0A]

    func pongs(_ actions: [IMSAction]) -> Int {
        actions.filter { if case .send(let b, _) = $0 { return b == Self.pong }; return false }.count
    }

    func testPingSplitOverReadsGetsOnePongAndTheNextMessageIsWhole() throws {
        let (ims, _) = makeIMS()
        let ue = TestUE(imsi: "001010000000001", address: "2001:db8:3000:1::2", usim: try USIM(algorithm: milenage()), transport: .tcp)
        XCTAssertEqual(pongs(ims.receive(stream: Array("\r\n".utf8), from: ue.peer, now: 0)), 0, "half a ping")
        let second = ims.receive(stream: Array("\r\n".utf8), from: ue.peer, now: 0)
        XCTAssertEqual(second, [.send(Self.pong, to: ue.peer)], "the second CRLF completes the ping")
        // A ping whose last byte shares a read with the start of a REGISTER: one pong, then the
        // REGISTER (challenged) once its last bytes come.
        let reg = ue.register()
        let first = ims.receive(stream: Array("\r\n\r".utf8), from: ue.peer, now: 1)
        XCTAssertEqual(pongs(first), 0)
        let mixed = ims.receive(stream: [0x0A] + reg.prefix(40), from: ue.peer, now: 1)
        XCTAssertEqual(mixed, [.send(Self.pong, to: ue.peer)])
        let rest = ims.receive(stream: Array(reg.dropFirst(40)) + Array("\r\n\r\n".utf8), from: ue.peer, now: 1)
        XCTAssertEqual(rest.last, .send(Self.pong, to: ue.peer), "a pong for the trailing ping, after the REGISTER's answer")
        XCTAssertEqual(pongs(rest), 1)
        XCTAssertEqual(sent(rest.dropLast()).map { $0.0.statusCode }, [401])
    }

    func testCRLFKeepaliveOverUDPIsSilent() {
        let (ims, _) = makeIMS()
        let peer = SIPPeer(address: "198.51.100.20", port: 5060, transport: .udp)
        XCTAssertEqual(ims.receive(datagram: [0x0D, 0x0A], from: peer, now: 0), [])
        XCTAssertEqual(ims.receive(datagram: [0x0D, 0x0A, 0x0D, 0x0A], from: peer, now: 0), [])
    }
}
