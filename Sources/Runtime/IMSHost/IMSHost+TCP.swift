import Glibc
import IMS
import SIP

/// Connections the IMS opens toward phones for requests too large for UDP (RFC 3261
/// §18.1.1; the core decides, see IMSTransportSelection.swift), while they connect: the
/// requests written into them are kept until the connection is up, so a failure can be
/// reported back to the core with each of them. Loop-confined, like its IMSHost.
final class IMSOutgoingTCP {
    struct Pending {
        var peer: SIPPeer
        var messages: [[UInt8]]
        var timedOut = false
    }
    var pending: [StreamID: Pending] = [:]
    /// A SYN nobody answers (a host that drops it) is given up after this long.
    static let connectTimeout: Duration = .seconds(10)
    /// Timer keys of connect timeouts: this base plus the stream number (key 1 is the core's tick).
    static let timerBase: UInt64 = 1 << 40
}

extension IMSHost {
    /// Tells the core which peers TCP cannot reach: those on the in-process inner path, which
    /// carries the phones' UDP only.
    func installTCPPolicy() {
        core.tcpUnavailableReason = { [unowned self] p in
            self.innerPeers[SIPPeer(address: p.address, port: p.port, transport: .udp)] == nil ? nil
                : "reached over the in-process inner path, which carries UDP only (TCP needs the TUN path: --tun)"
        }
    }

    /// Writes to the TCP connection with `peer`, opening one when there is none.
    func sendOverTCP(_ bytes: [UInt8], to peer: SIPPeer, ctx: ServiceContext) {
        if let s = streamByPeer[peer] {
            outgoingTCP.pending[s]?.messages.append(bytes)
            bytes.withUnsafeBytes { ctx.write(s, $0) }
            return
        }
        guard peer.transport == .tcp, let addr = try? SocketAddress(host: peer.address, port: peer.port) else {
            logger.error(.sip, "no transport toward \(peer) for \(Self.firstLine(bytes))")
            return
        }
        do {
            let s = try ctx.connectTCP(addr)
            streamByPeer[peer] = s
            peerByStream[s] = peer
            outgoingTCP.pending[s] = .init(peer: peer, messages: [bytes])
            bytes.withUnsafeBytes { ctx.write(s, $0) }   // buffered until connected
            ctx.armTimer(key: IMSOutgoingTCP.timerBase + s.rawValue, after: IMSOutgoingTCP.connectTimeout)
            logger.info(.sip, "TCP connect to \(addr) for \(Self.firstLine(bytes)) (\(bytes.count) bytes, RFC 3261 §18.1.1)",
                        dir: .to, ue: peer.description)
        } catch {
            var refused = false
            if case .system(_, _, let e) = error { refused = Self.isReset(e) }
            logger.error(.sip, "TCP connect to \(addr) failed at once: \(error)", dir: .to, ue: peer.description)
            perform(core.tcpDeliveryFailed(bytes, to: peer, refused: refused, error: "\(error)", now: Self.seconds()))
        }
    }

    /// `streamOpened`: an outgoing connection is established; its requests are on their way.
    func tcpStreamOpened(_ s: StreamID) {
        guard let p = outgoingTCP.pending.removeValue(forKey: s) else { return }
        context?.cancelTimer(key: IMSOutgoingTCP.timerBase + s.rawValue)
        // Keep the peer as the core named it (the socket may spell an IPv6 address otherwise).
        if let other = peerByStream[s], other != p.peer { streamByPeer[other] = nil }
        streamByPeer[p.peer] = s
        peerByStream[s] = p.peer
        logger.info(.sip, "TCP connected to \(p.peer), \(p.messages.count) request(s) sent", dir: .to, ue: p.peer.description)
    }

    /// `streamClosed`: a connection that never came up hands its requests back to the core
    /// (a reset → retry over UDP; otherwise a transport error).
    func tcpStreamClosed(_ s: StreamID, error: RuntimeError?) {
        guard let p = outgoingTCP.pending.removeValue(forKey: s) else { return }
        context?.cancelTimer(key: IMSOutgoingTCP.timerBase + s.rawValue)
        var refused = false
        let why: String
        if p.timedOut {
            why = "TCP connect to \(p.peer) timed out after \(IMSOutgoingTCP.connectTimeout)"
        } else if case .system(let call, _, let e)? = error {
            refused = Self.isReset(e)
            why = "TCP \(call) to \(p.peer): \(String(cString: strerror(e))) (errno \(e))"
        } else {
            why = "TCP connection to \(p.peer) closed before it was established"
        }
        logger.error(.sip, why + "; \(p.messages.count) request(s) not delivered over TCP", dir: .to, ue: p.peer.description)
        let now = Self.seconds()
        for m in p.messages { perform(core.tcpDeliveryFailed(m, to: p.peer, refused: refused, error: why, now: now)) }
    }

    /// A connect timeout fired: closing the stream reports it through `tcpStreamClosed`.
    func tcpConnectTimerFired(_ key: UInt64) -> Bool {
        guard key >= IMSOutgoingTCP.timerBase else { return false }
        let s = StreamID(rawValue: key - IMSOutgoingTCP.timerBase)
        guard outgoingTCP.pending[s] != nil else { return true }
        outgoingTCP.pending[s]?.timedOut = true
        context?.connection(s)?.close()
        return true
    }

    /// A TCP reset (ECONNREFUSED) or ICMP protocol unreachable (ENOPROTOOPT): RFC 3261 §18.1.1's
    /// cases for retrying over UDP.
    static func isReset(_ e: Int32) -> Bool { e == ECONNREFUSED || e == ENOPROTOOPT }
}
