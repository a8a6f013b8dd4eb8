import Foundation
import Glibc
import SIP
import TestSupport
import XCTest
@testable import Runtime

/// A SIP phone on real loopback sockets for transport tests: UDP on 127.0.0.1:port and, when
/// asked, a TCP listener on the same port (RFC 3261 §18.2.1: a UA listens on both), MD5
/// registration, and blocking reads with timeouts. Test-thread only.
final class LoopbackSIPPhone {
    let port: UInt16
    let udp: Int32
    private(set) var listener: Int32 = -1
    let user: String
    var hostPort: String { "127.0.0.1:\(port)" }

    init(user: String, listenTCP: Bool, tcpBacklog: Int32 = 4) throws {
        self.user = user
        port = try LoopbackIMS.freePort()
        udp = try Self.socket(SOCK_DGRAM, port: port)
        if listenTCP {
            listener = try Self.socket(SOCK_STREAM, port: port)
            guard Glibc.listen(listener, tcpBacklog) == 0 else { throw XCTSkip("cannot listen on TCP 127.0.0.1:\(port)") }
        }
    }

    deinit {
        close(udp)
        if listener >= 0 { close(listener) }
    }

    static func socket(_ type: __socket_type, port: UInt16, address: String = "127.0.0.1") throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(type.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard fd >= 0, (try? Sock.bind(fd, try SocketAddress(host: address, port: port), transport: "test")) != nil else {
            close(fd)
            throw XCTSkip("cannot bind \(address):\(port)")
        }
        return fd
    }

    func send(_ m: SIPMessage, toPort: UInt16, address: String = "127.0.0.1") throws {
        let to = try SocketAddress(host: address, port: toPort)
        _ = m.serialized().withUnsafeBytes { b in to.withSockAddr { sendto(udp, b.baseAddress, b.count, 0, $0, $1) } }
    }

    /// The next SIP message on the UDP socket (nil after `timeout`).
    func receiveUDP(timeout: Double) -> SIPMessage? {
        guard SIPStreamSocket.wait(udp, timeout) else { return nil }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(udp, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return try? SIPMessage(parsing: Array(buf[0..<n]))
    }

    /// Waits for a message matching `accept` on UDP, skipping others (100 Trying...).
    func receiveUDP(timeout: Double, where accept: (SIPMessage) -> Bool) -> SIPMessage? {
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            guard let m = receiveUDP(timeout: until.timeIntervalSinceNow) else { return nil }
            if accept(m) { return m }
        }
        return nil
    }

    /// A connection the IMS opened to our TCP listener (nil after `timeout`).
    func acceptTCP(timeout: Double) -> Int32? {
        guard listener >= 0, SIPStreamSocket.wait(listener, timeout) else { return nil }
        let c = accept(listener, nil, nil)
        return c >= 0 ? c : nil
    }

    /// Fills the listener's accept queue with connections nobody accepts, so that the kernel
    /// drops further SYNs: a peer that never answers a connection attempt. Returns the sockets.
    func fillAcceptQueue(_ count: Int = 3) throws -> [Int32] {
        let to = try SocketAddress(host: "127.0.0.1", port: port)
        return (0..<count).map { _ in
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = to.withSockAddr { connect(fd, $0, $1) }
            usleep(50_000)
            return fd
        }
    }

    /// REGISTER over UDP to `imsAddress`:`imsPort` (or over the TCP connection `tcp`) with MD5 digest (the 401 answered
    /// once); true on 200.
    func register(password: String, imsPort: UInt16, imsAddress: String = "127.0.0.1", domain: String = LoopbackIMS.domain,
                  tcp: Int32? = nil) throws -> Bool {
        try SIPDigestRegistration.register(user: user, password: password, domain: domain, request: { cseq, auth in
            try SIPMessage.testRequest("REGISTER", uri: "sip:" + domain,
                                       via: "SIP/2.0/\(tcp == nil ? "UDP" : "TCP") \(hostPort);branch=z9hG4bKreg\(port)\(cseq);rport",
                                       from: "<sip:\(user)@\(domain)>;tag=r\(port)", to: "<sip:\(user)@\(domain)>",
                                       callID: "reg-\(port)@127.0.0.1", cseq: cseq, contact: "<sip:\(user)@\(hostPort)>",
                                       headers: [("Expires", "600")] + (auth.map { [("Authorization", $0)] } ?? []))
        }, exchange: { m in
            guard let tcp else {
                try send(m, toPort: imsPort, address: imsAddress)
                return receiveUDP(timeout: 5, where: { ($0.statusCode ?? 0) >= 200 })
            }
            SIPStreamSocket.write(m, to: tcp)
            return SIPStreamSocket.readMessage(tcp, timeout: 5)
        })
    }

    /// An INVITE to `target` from this phone with a padded SDP offer (many codecs, as phones
    /// send), so that it is over `minimumSize` bytes.
    func largeInvite(to target: String, callID: String, minimumSize: Int = 1500) throws -> SIPMessage {
        var m = try SIPMessage.testRequest("INVITE", uri: target, via: "SIP/2.0/UDP \(hostPort);branch=z9hG4bK\(callID);rport",
                                           from: "<sip:\(user)@\(LoopbackIMS.domain)>;tag=c\(port)", to: "<\(target)>", callID: callID,
                                           contact: "<sip:\(user)@\(hostPort)>",
                                           headers: [("Supported", "100rel, timer"), ("Content-Type", "application/sdp")])
        var sdp = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
        var codecs = 8
        while true {
            let pts = (0..<codecs).map { 96 + $0 }
            var lines = sdp + ["m=audio 40000 RTP/AVP " + pts.map(String.init).joined(separator: " ")]
            for pt in pts { lines += ["a=rtpmap:\(pt) AMR-WB/16000/1", "a=fmtp:\(pt) mode-change-capability=2;max-red=0"] }
            m.body = Array(((lines + ["a=sendrecv"]).joined(separator: "\r\n") + "\r\n").utf8)
            if m.serialized().count >= minimumSize || codecs > 30 { sdp = lines; break }
            codecs += 4
        }
        return m
    }
}
