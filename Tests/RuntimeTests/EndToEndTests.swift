import AKA
import Crypto
import ESP
import Foundation
import Glibc
import IKEv2
import SIP
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// The assembled core over real loopback UDP: an IKEv2 initiator (the phone side) attaches
/// with EAP-AKA to the ePDG built from config/mme-ims.cfg, gets its inner address and
/// P-CSCF by CFG_REPLY, then sends a SIP REGISTER inside ESP and receives the IMS's 401
/// challenge back through the tunnel (in-process inner path).
final class EndToEndTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vowifi-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func makeCore() throws -> VoWiFiCore { try VoWiFiCore(options: Self.options(dir: dir)) }

    /// The shipped configs on loopback with ephemeral ports, state and logs in `dir`.
    static func options(dir: String) -> CoreOptions {
        var o = CoreOptions(mmeConfigPath: Vectors.repoRoot.appendingPathComponent("config/mme-ims.cfg").path,
                            imsConfigPath: Vectors.repoRoot.appendingPathComponent("config/ims.cfg").path, innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0
        o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"
        o.logFile = dir + "/core.log"
        o.logOptions = "all.level=debug"
        o.keyLogDirectory = dir + "/keys"
        return o
    }

    func testAttachThenSIPRegisterThroughESP() throws {
        let core = try makeCore()
        try core.start()
        defer { core.stop() }
        let (ike, natt) = try XCTUnwrap(core.group).loops[0].submit { [core] in (core.epdg!.ikeAddress, core.epdg!.natTAddress) }

        let attach = try LoopbackAttach.run(ikePort: ike.port, natTPort: natt.port)
        let (sock, ue, child) = (attach.sock, attach.ue, attach.child)
        let c = try XCTUnwrap(child, "no Child SA: \(ue.state)\n\((try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "")")
        let assigned = try XCTUnwrap(ue.assigned)
        let innerV4 = try XCTUnwrap(assigned.ipv4)
        XCTAssertEqual(innerV4.bytes.prefix(3), [192, 168, 4])
        XCTAssertTrue(assigned.pcscf.contains(IPAddress(v4: 192, 168, 4, 1)), "P-CSCF in CFG_REPLY: \(assigned.pcscf)")
        // The key log has one IKE row and two ESP rows (written by the ePDG's loop, which
        // may still be finishing the actions that followed its last IKE_AUTH response).
        let keyDeadline = Date().addingTimeInterval(3)
        while !FileManager.default.fileExists(atPath: dir + "/keys/esp_sa"), Date() < keyDeadline { usleep(10_000) }
        usleep(50_000)
        let table = try String(contentsOfFile: dir + "/keys/ikev2_decryption_table", encoding: .utf8)
        XCTAssertEqual(table.split(separator: "\n").count, 1)
        XCTAssertEqual(try String(contentsOfFile: dir + "/keys/esp_sa", encoding: .utf8).split(separator: "\n").count, 2)

        // SIP REGISTER inside ESP to the P-CSCF.
        let (out, inb) = try c.phoneSAs()
        let impi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
        let register = """
        REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r
        Via: SIP/2.0/UDP \(innerV4):5060;branch=z9hG4bKe2e1;rport\r
        Max-Forwards: 70\r
        From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=e2e\r
        To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>\r
        Call-ID: e2e-register\r
        CSeq: 1 REGISTER\r
        Contact: <sip:001010000000001@\(innerV4):5060>;expires=600\r
        Authorization: Digest username="\(impi)",realm="ims.mnc001.mcc001.3gppnetwork.org",uri="sip:ims.mnc001.mcc001.3gppnetwork.org",nonce="",response=""\r
        Content-Length: 0\r
        \r

        """
        let inner = IPPacket.udp4(src: innerV4.bytes, dst: [192, 168, 4, 1], sport: 5060, dport: 5060, payload: Array(register.utf8))
        let esp = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
        sock.send(esp, port: natt.port)
        var reply: String?
        let until = Date().addingTimeInterval(5)
        while reply == nil, Date() < until {
            guard var (d, _) = sock.receive(timeout: 0.5) else { continue }
            guard case let .inner(range, _, _) = d.withUnsafeMutableBytes({ ESPPacket.open($0, sa: inb) }) else { continue }
            if let u = IPPacket.parseUDP(Array(d[range])) {
                XCTAssertEqual(u.src, [192, 168, 4, 1]); XCTAssertEqual(u.dst, innerV4.bytes)
                reply = String(decoding: u.payload, as: UTF8.self)
            }
        }
        let r = try XCTUnwrap(reply, "no SIP reply through the tunnel\n\((try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "")")
        XCTAssertTrue(r.hasPrefix("SIP/2.0 401"), r)
        XCTAssertTrue(r.contains("algorithm=AKAv1-MD5"), r)
    }

    func testBadConfigNamesFileAndLine() throws {
        let bad = dir + "/bad.cfg"
        try "{\n  epdg: {\n    esp_duraton: 300,\n  },\n}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        var o = CoreOptions(mmeConfigPath: bad, imsConfigPath: Vectors.repoRoot.appendingPathComponent("config/ims.cfg").path, innerPath: .inProcess)
        o.sqnDatabase = dir + "/s.sqlite"
        XCTAssertThrowsError(try VoWiFiCore(options: o)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("bad.cfg:3:"), text)
            XCTAssertTrue(text.contains("esp_duration"), text)
        }
    }

    func testAddressInUseIsNamed() throws {
        let a = try makeCore()
        try a.start()
        defer { a.stop() }
        let port = try XCTUnwrap(a.group).loops[0].submit { [a] in a.epdg!.ikeAddress.port }
        var o = a.options
        o.ikePort = port
        o.sqnDatabase = dir + "/other.sqlite"
        let b = try VoWiFiCore(options: o)
        XCTAssertThrowsError(try b.start()) { e in
            XCTAssertTrue("\(e)".contains("127.0.0.1:\(port)"), "\(e)")
            XCTAssertTrue("\(e)".lowercased().contains("in use"), "\(e)")
        }
    }
}

/// A blocking UDP socket on 127.0.0.1 for the phone side of tests.
final class LoopbackUDP {
    let fd: Int32
    let port: UInt16

    let peerHost: String

    init(host: String = "127.0.0.1", port: UInt16 = 0, peerHost: String = "127.0.0.1") throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        self.peerHost = peerHost
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        a.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.port = UInt16(bigEndian: a.sin_port)
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], port: UInt16) {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr(peerHost)
        a.sin_port = port.bigEndian
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    func receive(timeout: Double) -> ([UInt8], UInt16)? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buf = [UInt8](repeating: 0, count: 65536)
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buf.withUnsafeMutableBytes { b in
            withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) } }
        }
        guard n > 0 else { return nil }
        return (Array(buf.prefix(n)), UInt16(bigEndian: a.sin_port))
    }
}
