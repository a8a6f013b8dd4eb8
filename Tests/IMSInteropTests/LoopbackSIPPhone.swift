import AKA
import Foundation
import Glibc
import SIP
import XCTest

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
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr(address)
        let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard fd >= 0, ok == 0 else { close(fd); throw XCTSkip("cannot bind \(address):\(port)") }
        return fd
    }

    func send(_ m: SIPMessage, toPort: UInt16, address: String = "127.0.0.1") {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = toPort.bigEndian
        a.sin_addr.s_addr = inet_addr(address)
        let bytes = m.serialized()
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    static func wait(_ fd: Int32, _ timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(timeout * 1000)) > 0
    }

    /// The next SIP message on the UDP socket (nil after `timeout`).
    func receiveUDP(timeout: Double) -> SIPMessage? {
        guard Self.wait(udp, timeout) else { return nil }
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
        guard listener >= 0, Self.wait(listener, timeout) else { return nil }
        let c = accept(listener, nil, nil)
        return c >= 0 ? c : nil
    }

    /// Fills the listener's accept queue with connections nobody accepts, so that the kernel
    /// drops further SYNs: a peer that never answers a connection attempt. Returns the sockets.
    func fillAcceptQueue(_ count: Int = 3) -> [Int32] {
        (0..<count).map { _ in
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            usleep(50_000)
            return fd
        }
    }

    /// One SIP message read from a TCP connection. The bytes are peeked and only the message's
    /// own are taken, so a message that came in the same segment is left for the next call.
    static func readMessage(_ fd: Int32, timeout: Double) -> SIPMessage? {
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

    static func write(_ m: SIPMessage, to fd: Int32) {
        let b = m.serialized()
        _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// REGISTER over UDP to `imsAddress`:`imsPort` (or over the TCP connection `tcp`) with MD5 digest (the 401 answered
    /// once); true on 200.
    func register(password: String, imsPort: UInt16, imsAddress: String = "127.0.0.1", domain: String = LoopbackIMS.domain,
                  tcp: Int32? = nil) throws -> Bool {
        var auth: String? = nil
        for cseq in 1...2 {
            var m = SIPMessage.request("REGISTER", uri: try SIPAnyURI("sip:" + domain))
            m.addHeader("Via", "SIP/2.0/\(tcp == nil ? "UDP" : "TCP") \(hostPort);branch=z9hG4bKreg\(port)\(cseq);rport")
            m.addHeader("Max-Forwards", "70")
            m.addHeader("From", "<sip:\(user)@\(domain)>;tag=r\(port)")
            m.addHeader("To", "<sip:\(user)@\(domain)>")
            m.addHeader("Call-ID", "reg-\(port)@127.0.0.1")
            m.addHeader("CSeq", "\(cseq) REGISTER")
            m.addHeader("Contact", "<sip:\(user)@\(hostPort)>")
            m.addHeader("Expires", "600")
            if let auth { m.addHeader("Authorization", auth) }
            let r: SIPMessage?
            if let tcp {
                Self.write(m, to: tcp)
                r = Self.readMessage(tcp, timeout: 5)
            } else {
                send(m, toPort: imsPort, address: imsAddress)
                r = receiveUDP(timeout: 5, where: { ($0.statusCode ?? 0) >= 200 })
            }
            guard let r else { return false }
            if r.statusCode == 200 { return true }
            guard r.statusCode == 401, let h = r.header("WWW-Authenticate") else { return false }
            let wa = try SIPAuthHeader(parsing: Substring(h), header: "WWW-Authenticate")
            let realm = wa["realm"] ?? domain, nonce = wa["nonce"] ?? ""
            let uri = "sip:" + domain
            let resp = try DigestAuth.response(algorithm: .md5, username: user, realm: realm, password: Array(password.utf8),
                                               method: "REGISTER", uri: uri, nonce: nonce, nc: "00000001", cnonce: "c0ffee", qop: .auth)
            auth = "Digest username=\"\(user)\",realm=\"\(realm)\",nonce=\"\(nonce)\",uri=\"\(uri)\",response=\"\(resp)\",algorithm=MD5,cnonce=\"c0ffee\",qop=auth,nc=00000001"
        }
        return false
    }

    /// An INVITE to `target` from this phone with a padded SDP offer (many codecs, as phones
    /// send), so that it is over `minimumSize` bytes.
    func largeInvite(to target: String, callID: String, minimumSize: Int = 1500) throws -> SIPMessage {
        var m = SIPMessage.request("INVITE", uri: try SIPAnyURI(target))
        m.addHeader("Via", "SIP/2.0/UDP \(hostPort);branch=z9hG4bK\(callID);rport")
        m.addHeader("Max-Forwards", "70")
        m.addHeader("From", "<sip:\(user)@\(LoopbackIMS.domain)>;tag=c\(port)")
        m.addHeader("To", "<\(target)>")
        m.addHeader("Call-ID", callID)
        m.addHeader("CSeq", "1 INVITE")
        m.addHeader("Contact", "<sip:\(user)@\(hostPort)>")
        m.addHeader("Supported", "100rel, timer")
        m.addHeader("Content-Type", "application/sdp")
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
