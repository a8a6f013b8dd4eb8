import Foundation
import Glibc
import IMS
import SIP
import TestSupport
import XCTest
@testable import Runtime

/// Real loopback sockets against the core: TCP keepalive and the idle close of SIP TCP
/// connections (`tcp_keepalive`, `tcp_keepcount`, `tcp_idle_timeout`), and echo media taken
/// from the range of the `sip_addr` a call arrived on.
final class TCPIdleAndSIPAddrTests: XCTestCase {
    var ims: LoopbackIMS?
    override func tearDown() { ims?.stop() }

    /// A TCP connection from 127.0.0.1 to `address`:`port`.
    static func connectTCP(_ address: String, _ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, try SocketAddress(host: address, port: port).withSockAddr({ connect(fd, $0, $1) }) == 0 else {
            close(fd)
            throw XCTSkip("cannot connect to \(address):\(port)")
        }
        return fd
    }

    static func localPort(_ fd: Int32) -> UInt16 { Sock.localAddress(fd)?.port ?? 0 }

    static func intOption(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
        var v: Int32 = -1
        var len = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, name, &v, &len) == 0 ? v : -1
    }

    /// Whether the IMS closed our connection within `timeout` (recv sees the end).
    static func closedByPeer(_ fd: Int32, within timeout: Double) -> Bool {
        let until = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < until {
            guard SIPStreamSocket.wait(fd, until.timeIntervalSinceNow) else { return false }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
        return false
    }

    /// The IMS side of its SIP TCP connections: peer port → socket fd (loop 0).
    func imsSockets() throws -> [UInt16: Int32] {
        let c = try XCTUnwrap(ims).cluster
        return try c.group.loops[0].submit {
            guard let t = c.stream else { return [:] }
            var out: [UInt16: Int32] = [:]
            for (s, p) in t.peerByStream { if let conn = t.context.connection(s) { out[p.port] = conn.fd } }
            return out
        }
    }

    /// SO_KEEPALIVE, TCP_KEEPIDLE and TCP_KEEPCNT as configured on the accepted sockets; after
    /// `tcp_idle_timeout` (1 s) the connection that carried nothing and the one that carried an
    /// OPTIONS are closed, the one a phone registered over stays.
    func testKeepaliveIsSetAndIdleConnectionsWithoutBindingAreClosed() throws {
        let ims = try LoopbackIMS(extraUsers: [SIPpInteropTests.user2], extraConfig: "tcp_keepalive: 7, tcp_keepcount: 3, tcp_idle_timeout: 1,")
        self.ims = ims
        let phone = try LoopbackSIPPhone(user: "user2", listenTCP: false)
        let registered = try Self.connectTCP("127.0.0.1", ims.port)
        defer { close(registered) }
        XCTAssertTrue(try phone.register(password: "secret2", imsPort: ims.port, tcp: registered), ims.log.suffix(3000).description)
        let silent = try Self.connectTCP("127.0.0.1", ims.port)
        defer { close(silent) }
        let options = try Self.connectTCP("127.0.0.1", ims.port)
        defer { close(options) }
        let m = try SIPMessage.testRequest("OPTIONS", uri: "sip:\(LoopbackIMS.domain)",
                                           via: "SIP/2.0/TCP 127.0.0.1:\(Self.localPort(options));branch=z9hG4bKopt1",
                                           from: "<sip:probe@\(LoopbackIMS.domain)>;tag=o1", to: "<sip:\(LoopbackIMS.domain)>",
                                           callID: "opt-\(Self.localPort(options))@127.0.0.1")
        SIPStreamSocket.write(m, to: options)
        XCTAssertNotNil(SIPStreamSocket.readMessage(options, timeout: 3)?.statusCode, "OPTIONS answered on its connection")

        let socks = try imsSockets()
        let ports = [registered, silent, options].map(Self.localPort)
        XCTAssertEqual(Set(socks.keys).intersection(ports).count, 3, "three accepted connections: \(socks) \(ports)")
        for p in ports {
            guard let fd = socks[p] else { continue }
            XCTAssertEqual(Self.intOption(fd, SOL_SOCKET, SO_KEEPALIVE), 1, "SO_KEEPALIVE (peer port \(p))")
            XCTAssertEqual(Self.intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE), 7, "TCP_KEEPIDLE = tcp_keepalive")
            XCTAssertEqual(Self.intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT), 3, "TCP_KEEPCNT = tcp_keepcount")
        }

        XCTAssertTrue(Self.closedByPeer(silent, within: 4), "the connection that carried no SIP is closed\n\(ims.log.suffix(2000))")
        XCTAssertTrue(Self.closedByPeer(options, within: 4), "the connection whose transaction ended is closed")
        XCTAssertFalse(Self.closedByPeer(registered, within: 2.5), "the registered phone's connection stays")
        XCTAssertEqual(Array(try imsSockets().keys), [ports[0]])
        XCTAssertTrue(ims.log.contains("closing the TCP connection with 127.0.0.1:\(ports[1])"), ims.log.suffix(3000).description)
        // RFC 5626 §4.4.1: a CRLFCRLF ping on it is answered with a CRLF pong.
        _ = Glibc.send(registered, "\r\n\r\n", 4, Int32(MSG_NOSIGNAL))
        var pong = [UInt8](repeating: 0, count: 16)
        XCTAssertTrue(SIPStreamSocket.wait(registered, 2), "no pong")
        let n = pong.withUnsafeMutableBytes { recv(registered, $0.baseAddress, $0.count, 0) }
        XCTAssertEqual(Array(pong.prefix(max(0, n))), [0x0D, 0x0A])
        // The kept connection still carries SIP: a re-REGISTER over it succeeds.
        XCTAssertTrue(try phone.register(password: "secret2", imsPort: ims.port, tcp: registered))
    }

    /// A connection the IMS opens toward a phone (a large INVITE, RFC 3261 §18.1.1) gets the
    /// keepalive options too.
    func testKeepaliveOnConnectionsTheIMSOpens() throws {
        let ims = try LoopbackIMS(extraUsers: [SIPpInteropTests.user2], extraConfig: "tcp_keepalive: 5, tcp_keepcount: 4,")
        self.ims = ims
        let callee = try LoopbackSIPPhone(user: "user2", listenTCP: true)
        XCTAssertTrue(try callee.register(password: "secret2", imsPort: ims.port))
        let caller = try LoopbackSIPPhone(user: "user1", listenTCP: false)
        XCTAssertTrue(try caller.register(password: "secret", imsPort: ims.port))
        try caller.send(try caller.largeInvite(to: "sip:user2@\(LoopbackIMS.domain)", callID: "ka-\(caller.port)"), toPort: ims.port)
        let conn = try XCTUnwrap(callee.acceptTCP(timeout: 5), "no TCP connection to the callee\n\(ims.log.suffix(3000))")
        defer { close(conn) }
        XCTAssertEqual(SIPStreamSocket.readMessage(conn, timeout: 5)?.method, "INVITE")
        let fd = try XCTUnwrap(try imsSockets()[callee.port], "the IMS's connection to the callee")
        XCTAssertEqual(Self.intOption(fd, SOL_SOCKET, SO_KEEPALIVE), 1)
        XCTAssertEqual(Self.intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE), 5)
        XCTAssertEqual(Self.intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT), 4)
    }

    /// Keys `tcp_keepalive: 0` (no keepalive) and `tcp_idle_timeout: 0` (never close).
    func testZeroDisablesKeepaliveAndIdleClose() throws {
        let ims = try LoopbackIMS(extraConfig: "tcp_keepalive: 0, tcp_idle_timeout: 0,", loops: 1)
        self.ims = ims
        let fd = try Self.connectTCP("127.0.0.1", ims.port)
        defer { close(fd) }
        var socks: [UInt16: Int32] = [:]
        for _ in 0..<50 where socks.isEmpty { socks = try imsSockets(); usleep(20_000) }
        let imsFD = try XCTUnwrap(socks[Self.localPort(fd)])
        XCTAssertEqual(Self.intOption(imsFD, SOL_SOCKET, SO_KEEPALIVE), 0)
        XCTAssertFalse(Self.closedByPeer(fd, within: 1.5))
    }

    /// The SDP answer of an echo call: c= address and m=audio port.
    static func media(_ m: SIPMessage) -> (String, UInt16)? {
        let text = String(decoding: m.body, as: UTF8.self)
        guard let c = text.split(separator: "\r\n").first(where: { $0.hasPrefix("c=IN IP4 ") }),
              let a = text.split(separator: "\r\n").first(where: { $0.hasPrefix("m=audio ") }),
              let port = UInt16(a.split(separator: " ")[1]) else { return nil }
        return (String(c.dropFirst(9)), port)
    }

    /// The next SIP message on `phone`'s UDP socket with a body, and where it came from.
    static func receiveWithSource(_ phone: LoopbackSIPPhone, timeout: Double) -> (SIPMessage, String, UInt16)? {
        let until = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 65536)
        while Date() < until, SIPStreamSocket.wait(phone.udp, until.timeIntervalSinceNow) {
            var a = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(phone.udp, b.baseAddress, b.count, 0, $0, &len) } }
            }
            guard n > 0, let m = try? SIPMessage(parsing: Array(buf[0..<n])), !m.body.isEmpty else { continue }
            return (m, String(cString: inet_ntoa(a.sin_addr)), UInt16(bigEndian: a.sin_port))
        }
        return nil
    }

    /// Two `sip_addr` entries, 127.0.0.1:P and 127.0.0.2:P2, each with its own SIP port and
    /// media range: an echo call sent to each (over UDP, and over TCP to the second) is answered
    /// from the address and port it was sent to, with media on that address from its range,
    /// bound there by the IMS.
    func testEachSIPAddrAnswersOnItsPortWithMediaFromItsRange() throws {
        let port2 = try LoopbackIMS.freePort()
        let ims = try LoopbackIMS(loops: 2, extraSIPAddr: "{ addr: \"127.0.0.2:\(port2)\", port_min: 31600, port_max: 32000 }")
        self.ims = ims
        XCTAssertNotEqual(port2, ims.port)
        let rangeA = ims.mediaPortMin...(ims.mediaPortMin + 400), rangeB = UInt16(31600)...32000
        let phone = try LoopbackSIPPhone(user: "user1", listenTCP: false)
        XCTAssertTrue(try phone.register(password: "secret", imsPort: ims.port), ims.log.suffix(3000).description)

        let calls = [("127.0.0.2", port2, rangeB), ("127.0.0.1", ims.port, rangeA), ("127.0.0.2", port2, rangeB)]
        for (i, (address, sipPort, range)) in calls.enumerated() {
            let inv = try phone.largeInvite(to: "tel:666", callID: "range\(i)-\(phone.port)@127.0.0.1", minimumSize: 0)
            try phone.send(inv, toPort: sipPort, address: address)
            let (r, from, fromPort) = try XCTUnwrap(Self.receiveWithSource(phone, timeout: 5), "no SDP answer\n\(ims.log.suffix(3000))")
            XCTAssertEqual("\(from):\(fromPort)", "\(address):\(sipPort)", "call \(i): answered from where it was sent (RFC 3581 §4)")
            let (c, port) = try XCTUnwrap(Self.media(r))
            XCTAssertEqual(c, address, "call \(i): media on the address called")
            XCTAssertTrue(range.contains(port), "call \(i): port \(port) in \(range)")
            XCTAssertThrowsError(try LoopbackSIPPhone.socket(SOCK_DGRAM, port: port, address: address), "the IMS bound \(address):\(port)")
        }

        // Over TCP to 127.0.0.2: the accepted connection maps to that sip_addr too.
        let fd = try Self.connectTCP("127.0.0.2", port2)
        defer { close(fd) }
        var inv = try phone.largeInvite(to: "tel:666", callID: "range-tcp-\(phone.port)@127.0.0.1", minimumSize: 0)
        inv.setHeader("Via", "SIP/2.0/TCP 127.0.0.1:\(Self.localPort(fd));branch=z9hG4bKrangetcp;rport")
        SIPStreamSocket.write(inv, to: fd)
        var answer: SIPMessage?
        for _ in 0..<4 where answer == nil {
            guard let m = SIPStreamSocket.readMessage(fd, timeout: 5) else { break }
            if !m.body.isEmpty { answer = m }
        }
        let (c, port) = try XCTUnwrap(answer.flatMap(Self.media), "no SDP answer over TCP\n\(ims.log.suffix(3000))")
        XCTAssertEqual(c, "127.0.0.2")
        XCTAssertTrue(rangeB.contains(port), "port \(port) in \(rangeB)")
    }

    /// The core with `sip_addr` 127.0.0.1:P and 127.0.0.2:P2 on two loops, a callee registered
    /// through 127.0.0.2:P2 and a caller through 127.0.0.1:P.
    func callThroughTheSecondSIPAddr(calleeListensTCP: Bool) throws -> (LoopbackIMS, UInt16, LoopbackSIPPhone, LoopbackSIPPhone) {
        let port2 = try LoopbackIMS.freePort()
        let ims = try LoopbackIMS(extraUsers: [SIPpInteropTests.user2], loops: 2, extraSIPAddr: "{ addr: \"127.0.0.2:\(port2)\" }")
        self.ims = ims
        let callee = try LoopbackSIPPhone(user: "user2", listenTCP: calleeListensTCP)
        XCTAssertTrue(try callee.register(password: "secret2", imsPort: port2, imsAddress: "127.0.0.2"), ims.log.suffix(3000).description)
        let caller = try LoopbackSIPPhone(user: "user1", listenTCP: false)
        XCTAssertTrue(try caller.register(password: "secret", imsPort: ims.port))
        return (ims, port2, caller, callee)
    }

    /// The whole core from ims.cfg with `sip_addr` 127.0.0.1:P and 127.0.0.2:P2 on two loops: a
    /// callee registered through 127.0.0.2:P2 gets a call from a phone registered through
    /// 127.0.0.1:P from 127.0.0.2:P2, named in Via and Record-Route (RFC 5626 §5.2: its flow).
    func testACalleeRegisteredThroughTheSecondSIPAddrIsCalledFromIt() throws {
        let (ims, port2, caller, callee) = try callThroughTheSecondSIPAddr(calleeListensTCP: false)
        for i in 0..<4 {   // Call-IDs of both shards
            try caller.send(try caller.largeInvite(to: "sip:user2@\(LoopbackIMS.domain)", callID: "flow\(i)-\(caller.port)", minimumSize: 0),
                        toPort: ims.port)
            let (inv, from, fromPort) = try XCTUnwrap(Self.receiveWithSource(callee, timeout: 5), "no INVITE\n\(ims.log.suffix(3000))")
            XCTAssertEqual(inv.method, "INVITE")
            XCTAssertEqual("\(from):\(fromPort)", "127.0.0.2:\(port2)", "call \(i)")
            XCTAssertEqual(try inv.topVia().sentBy, "127.0.0.2:\(port2)")
            XCTAssertEqual(inv.headerLines("Record-Route"), ["<sip:127.0.0.2:\(port2);lr>", "<sip:127.0.0.1:\(ims.port);lr>"],
                           "RFC 5658: the callee's side, then the caller's")
        }
    }
    /// A large request toward a callee registered through the second `sip_addr` goes over a TCP
    /// connection the IMS opens from that address (RFC 3261 §18.1.1 with the flow of RFC 5626
    /// §5.2), its Via naming it with transport TCP.
    func testTCPConnectionToACalleeOfTheSecondSIPAddrComesFromIt() throws {
        let (ims, port2, caller, callee) = try callThroughTheSecondSIPAddr(calleeListensTCP: true)
        try caller.send(try caller.largeInvite(to: "sip:user2@\(LoopbackIMS.domain)", callID: "tcpflow-\(caller.port)"), toPort: ims.port)
        let conn = try XCTUnwrap(callee.acceptTCP(timeout: 5), "no TCP connection to the callee\n\(ims.log.suffix(3000))")
        defer { close(conn) }
        XCTAssertEqual(Sock.peerAddress(conn)?.host, "127.0.0.2", "the connection comes from the callee's sip_addr")
        let got = try XCTUnwrap(SIPStreamSocket.readMessage(conn, timeout: 5), "no INVITE on the connection")
        XCTAssertEqual(got.method, "INVITE")
        XCTAssertEqual(try got.topVia().transport, "TCP")
        XCTAssertEqual(try got.topVia().sentBy, "127.0.0.2:\(port2)")
    }
}
