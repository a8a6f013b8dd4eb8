import Glibc
import IMS
import SIP

/// Connections the IMS opens toward phones for requests too large for UDP (RFC 3261
/// §18.1.1; the core decides, see IMSTransportSelection.swift), while they connect: the
/// requests written into them are kept until the connection is up, so a failure can be
/// reported back to the shard that sent each of them.
enum IMSOutgoingTCP {
    struct Pending {
        var peer: SIPPeer
        var messages: [[UInt8]]
        var timedOut = false
    }
    /// A SYN nobody answers (a host that drops it) is given up after this long.
    static let connectTimeout: Duration = .seconds(10)
    /// Timer keys of connect timeouts: this base plus the stream number.
    static let timerBase: UInt64 = 1 << 40

    /// A TCP reset (ECONNREFUSED) or ICMP protocol unreachable (ENOPROTOOPT): RFC 3261 §18.1.1's
    /// cases for retrying over UDP.
    static func isReset(_ e: Int32) -> Bool { e == ECONNREFUSED || e == ENOPROTOOPT }
}

extension IMSStreamTransport {
    /// Opens a connection to `peer` and queues `bytes` on it (written once connected). It
    /// leaves from our address `local` (the `sip_addr` the peer's flow uses, which the request's
    /// Via names), from an ephemeral port.
    func connect(_ bytes: [UInt8], to peer: SIPPeer, from local: String? = nil) {
        guard peer.transport == .tcp, let addr = try? SocketAddress(host: peer.address, port: peer.port) else {
            logger.error(.sip, "no transport toward \(peer) for \(IMSHost.firstLine(bytes))")
            return
        }
        do {
            let source = local.flatMap { try? SocketAddress(host: $0, port: 0) }
            let s = try context.connectTCP(addr, from: source)
            streamByPeer[peer] = s
            peerByStream[s] = peer
            outgoing[s] = .init(peer: peer, messages: [bytes])
            lastActivity[s] = IMSHost.seconds()
            applyKeepalive(s)
            bytes.withUnsafeBytes { context.write(s, $0) }   // buffered until connected
            context.armTimer(key: IMSOutgoingTCP.timerBase + s.rawValue, after: IMSOutgoingTCP.connectTimeout)
            logger.info(.sip, "TCP connect to \(addr) for \(IMSHost.firstLine(bytes)) (\(bytes.count) bytes, RFC 3261 §18.1.1)",
                        dir: .to, ue: peer.description)
        } catch {
            var refused = false
            if case .system(_, _, let e) = error { refused = IMSOutgoingTCP.isReset(e) }
            logger.error(.sip, "TCP connect to \(addr) failed at once: \(error)", dir: .to, ue: peer.description)
            cluster.tcpDeliveryFailed(bytes, to: peer, refused: refused, error: "\(error)")
        }
    }

    /// `streamOpened` of a connection we opened: its requests are on their way. False for an
    /// accepted connection.
    func outgoingOpened(_ s: StreamID) -> Bool {
        guard let p = outgoing.removeValue(forKey: s) else { return false }
        context.cancelTimer(key: IMSOutgoingTCP.timerBase + s.rawValue)
        // Keep the peer as the core named it (the socket may spell an IPv6 address otherwise).
        streamByPeer[p.peer] = s
        peerByStream[s] = p.peer
        framers[s] = SIPStreamFramer()   // the phone's responses come back on this connection
        logger.info(.sip, "TCP connected to \(p.peer), \(p.messages.count) request(s) sent", dir: .to, ue: p.peer.description)
        return true
    }

    /// `streamClosed`: a connection that never came up hands its requests back to their shards
    /// (a reset → retry over UDP; otherwise a transport error).
    func outgoingClosed(_ s: StreamID, error: RuntimeError?) {
        guard let p = outgoing.removeValue(forKey: s) else { return }
        context.cancelTimer(key: IMSOutgoingTCP.timerBase + s.rawValue)
        var refused = false
        let why: String
        if p.timedOut {
            why = "TCP connect to \(p.peer) timed out after \(IMSOutgoingTCP.connectTimeout)"
        } else if case .system(let call, _, let e)? = error {
            refused = IMSOutgoingTCP.isReset(e)
            why = "TCP \(call) to \(p.peer): \(String(cString: strerror(e))) (errno \(e))"
        } else {
            why = "TCP connection to \(p.peer) closed before it was established"
        }
        logger.error(.sip, why + "; \(p.messages.count) request(s) not delivered over TCP", dir: .to, ue: p.peer.description)
        for m in p.messages { cluster.tcpDeliveryFailed(m, to: p.peer, refused: refused, error: why) }
    }

    /// A connect timeout: closing the stream reports it through `outgoingClosed`.
    func connectTimerFired(_ key: UInt64) {
        guard key >= IMSOutgoingTCP.timerBase else { return }
        let s = StreamID(rawValue: key - IMSOutgoingTCP.timerBase)
        guard outgoing[s] != nil else { return }
        outgoing[s]?.timedOut = true
        context.connection(s)?.close()
    }
}
