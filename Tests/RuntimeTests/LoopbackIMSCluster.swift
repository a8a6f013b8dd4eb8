import Foundation
import Glibc
import IMS
import SIP
import TestSupport
import XCTest
@testable import Runtime

/// The IMS hosting on real loopback sockets, without config files: `IMSCluster` over `loops`
/// event loops with one `sip_addr` per address of `addresses`, each on its own free port
/// (UDP and TCP), and subscribers `user1`... that register without authentication
/// (authent_type none), so transport tests need no digest round.
final class LoopbackIMSCluster {
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"
    let group: EventLoopGroup
    let cluster: IMSCluster
    let addresses: [String]
    let ports: [UInt16]
    /// The log lines (debug: every SIP message in and out), for failure messages.
    let lines = Collector<String>()
    var log: String { lines.values.suffix(60).joined(separator: "\n") }

    init(addresses: [String] = ["127.0.0.1"], loops: Int = 2, users: Int = 2, configure: (inout IMSConfig) -> Void = { _ in }) throws {
        self.addresses = addresses
        ports = try addresses.map(Self.freePort)
        var config = IMSConfig(domain: Self.domain, sipAddresses: addresses, sipPort: ports[0])
        for (a, p) in zip(addresses, ports) { config.sipPorts[a] = p }
        configure(&config)
        group = try EventLoopGroup(loopCount: loops, name: "ims-loopback")
        let lines = self.lines
        let logger = try Logger(defaultLevel: .debug, destination: .lines { lines.append($0) })
        cluster = IMSCluster(group: group, socketAddresses: try zip(addresses, ports).map { try SocketAddress(host: $0, port: $1) },
                             inner: nil, logger: logger)
        let shared = config
        try cluster.start(evidence: nil) { i, store in
            let subs = IMSMemorySubscribers(domain: Self.domain)
            for i in 1...users {
                subs.add(.init(subscriber: IMSSubscriber(impi: "user\(i)", impus: ["user\(i)"], authentType: .none), algorithm: nil))
            }
            return IMSCore(config: IMSCluster.shardConfig(shared, shard: i, of: loops), subscribers: subs, store: store, shard: i)
        }
    }

    /// A Call-ID starting with `prefix` that the cluster hands to shard `shard`.
    func callID(_ prefix: String, onShard shard: Int) -> String {
        var n = 0
        while group.shard(for: IMSCluster.callIDKey(prefix + "-\(n)")) != shard { n += 1 }
        return prefix + "-\(n)"
    }

    func stop() {
        cluster.stop()
        group.shutdown()
    }

    /// A port free for UDP and TCP on `address` (the kernel's choice, released).
    static func freePort(_ address: String) throws -> UInt16 {
        for _ in 0..<20 {
            let u = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(u) }
            try Sock.bind(u, try SocketAddress(host: address, port: 0), transport: "UDP")
            guard let port = Sock.localAddress(u)?.port else { continue }
            let t = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(t) }
            if (try? Sock.bind(t, try SocketAddress(host: address, port: port), transport: "TCP")) != nil { return port }
        }
        throw XCTSkip("no free port on \(address)")
    }
}

/// A phone's UDP socket on 127.0.0.1 for these tests: sends SIP, and receives it with the
/// address and port it came from.
final class LoopbackUDPPhone {
    let user: String
    let socket: BlockingUDP
    let port: UInt16
    var hostPort: String { "127.0.0.1:\(port)" }

    init(user: String) throws {
        self.user = user
        socket = try BlockingUDP(family: AF_INET, bindTo: try SocketAddress(host: "127.0.0.1", port: 0), timeoutMs: 3000)
        port = try XCTUnwrap(Sock.localAddress(socket.fd)).port
    }

    func send(_ m: SIPMessage, to address: String, port: UInt16) throws {
        socket.send(m.serialized(), to: try SocketAddress(host: address, port: port))
    }

    /// Where every message this phone received came from.
    private(set) var sources: [String] = []

    /// The next SIP message matching `accept` (within the 3 s receive timeout per datagram) and
    /// its source; NOTIFYs that do not match are answered 200 (as a phone does), others skipped.
    func receive(_ accept: (SIPMessage) -> Bool = { $0.statusCode != 100 }) throws -> (SIPMessage, SocketAddress)? {
        while let (b, from) = socket.receive() {
            guard let m = try? SIPMessage(parsing: b) else { continue }
            sources.append("\(from)")
            if accept(m) { return (m, from) }
            if m.method == "NOTIFY" { socket.send(respond(to: m, 200).serialized(), to: from) }
        }
        return nil
    }

    /// A response to `req` (Via, From, To with a tag, Call-ID, CSeq copied; RFC 3261 §8.2.6.2).
    func respond(to req: SIPMessage, _ code: Int) -> SIPMessage {
        SIPMessage.testResponse(to: req, code, toTag: user)
    }

    /// A request from this phone (Via with rport, Contact on its socket).
    func request(_ method: String, uri: String, to: String, callID: String, cseq: UInt32 = 1,
                 extra: [(String, String)] = []) throws -> SIPMessage {
        try SIPMessage.testRequest(method, uri: uri, via: "SIP/2.0/UDP \(hostPort);branch=z9hG4bK\(method.lowercased())\(callID)\(cseq);rport",
                                   from: "<sip:\(user)@\(LoopbackIMSCluster.domain)>;tag=\(user)\(port)", to: "<\(to)>", callID: callID,
                                   cseq: cseq, contact: "<sip:\(user)@\(hostPort)>", headers: extra)
    }

    /// REGISTER (no authentication) sent to `address`:`port`; the 200.
    func register(to address: String, port: UInt16, expires: Int = 600, cseq: UInt32 = 1, callID: String? = nil) throws -> SIPMessage? {
        let aor = "sip:\(user)@\(LoopbackIMSCluster.domain)"
        let m = try request("REGISTER", uri: "sip:" + LoopbackIMSCluster.domain, to: aor, callID: callID ?? "reg-\(user)-\(port)", cseq: cseq,
                            extra: [("Expires", String(expires))])
        try send(m, to: address, port: port)
        return try receive { $0.cseqMethod == "REGISTER" }.map(\.0)
    }
}

extension SIPMessage {
    /// The CSeq method (for picking responses).
    var cseqMethod: String? { (try? cseq())?.method }
}
