import AKA
import Foundation
import HSS
import Wire
import XCTest
@testable import AAA
#if canImport(Glibc)
import Glibc
#endif

/// The blocking UDP front end over loopback: replies go back to the source port, a
/// retransmission gets the identical reply, and stop() ends the thread.
final class RADIUSUDPServerTests: XCTestCase {
    func testRetransmissionOverUDPGetsTheSameReplyAndStopIsClean() throws {
        let hss = try HSS(subscribers: [Subscriber(imsi: "001010000000001", algorithm: .milenage,
                                                   k: [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc"),
                                                   opc: [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf"))])
        let rec = Recorder()
        let udp = try RADIUSUDPServer(bindAddress: "127.0.0.1", port: 0, clients: ["127.0.0.1": "udp-secret"], hss: hss,
                                      onEvent: { _, e in rec.record(e) })
        XCTAssertNotEqual(udp.port, 0)
        try udp.start()
        XCTAssertTrue(udp.isRunning)

        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var sa = sockaddr_storage()
        let len = RADIUSUDPServer.fill(&sa, IPAddress("127.0.0.1")!, udp.port)
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } }
        XCTAssertEqual(rc, 0)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        let req = RADIUSPacket(code: .accessRequest, identifier: 42, attributes: RADIUSPacket.eapMessageAttributes(
            [2, 0, 0, 21, 1] + Array("0001010000000001".utf8)) + [
            RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16))])
        let auth = [UInt8](repeating: 0x5a, count: 16)
        let bytes = try RADIUSAuthenticator.signRequest(req, secret: Array("udp-secret".utf8), authenticator: auth)
        func exchange() -> [UInt8] {
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? Array(buf[0..<n]) : []
        }
        let first = exchange(), second = exchange()
        XCTAssertFalse(first.isEmpty)
        XCTAssertEqual(first, second, "a retransmission must get the cached reply byte for byte")
        XCTAssertTrue(RADIUSAuthenticator.verifyResponse(first, requestAuthenticator: auth, secret: Array("udp-secret".utf8)))
        XCTAssertEqual(try RADIUSPacket(parsing: first).code, .accessChallenge)
        XCTAssertEqual(rec.allEvents, [.challenge, .duplicate])

        udp.stop()
        XCTAssertFalse(udp.isRunning)
        // Nothing answers any more.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var tv2 = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv2, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 64)
        XCTAssertLessThanOrEqual(buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }, 0)
    }

    func testBadBindAddressIsATypedError() throws {
        let hss = try HSS(subscribers: [])
        XCTAssertThrowsError(try RADIUSUDPServer(bindAddress: "not-an-ip", port: 0, clients: [:], hss: hss)) {
            XCTAssertEqual($0 as? AAAError, .badAddress("not-an-ip"))
        }
        XCTAssertThrowsError(try RADIUSServerConfig(clients: ["300.1.1.1": "x"])) {
            XCTAssertEqual($0 as? AAAError, .badAddress("300.1.1.1"))
        }
    }
}
