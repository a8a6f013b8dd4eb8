import IMS
import SIP

/// SIP over TCP on loop 0: accepts connections on every bound `sip_addr`, opens connections
/// toward phones for large requests (IMSStreamTransport+Outgoing.swift), frames each byte
/// stream by Content-Length, and hands every message to its Call-ID's shard; shards' writes
/// come back here. A connection the framer cannot follow is closed.
///
/// Every connection gets TCP keepalive (`tcp_keepalive`, `tcp_keepcount`: the kernel ends a
/// connection to a phone that vanished). One that carried no SIP either way for
/// `tcp_idle_timeout` is closed unless a registration binding or a transaction is with its
/// peer: a phone registered over TCP keeps its connection (the RFC 5626 flow it expects to be
/// reached on), whatever the idle time (IMSStreamTransport+Idle.swift).
final class IMSStreamTransport: ServiceHandler, @unchecked Sendable {
    // @unchecked: loop-0 confined.
    unowned let cluster: IMSCluster
    let context: ServiceContext
    let logger: Logger
    var streamByPeer: [SIPPeer: StreamID] = [:]
    var peerByStream: [StreamID: SIPPeer] = [:]
    var framers: [StreamID: SIPStreamFramer] = [:]
    /// Connections we are opening for large requests, until they are up.
    var outgoing: [StreamID: IMSOutgoingTCP.Pending] = [:]
    /// When each connection last carried SIP (either way), in `IMSHost.seconds()`.
    var lastActivity: [StreamID: Double] = [:]
    /// The `sip_addr` address each accepted connection came to.
    var servedAddress: [StreamID: String] = [:]

    init(cluster: IMSCluster, loop: EventLoop, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
        self.context = ServiceContext(loop: loop, logger: logger)
        context.handler = self
    }

    func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {}

    func streamOpened(_ stream: StreamID, peer: SocketAddress?, context: ServiceContext) {
        if outgoingOpened(stream) { return }
        guard let peer else { return }
        let p = SIPPeer(address: peer.host, port: peer.port, transport: .tcp)
        streamByPeer[p] = stream; peerByStream[stream] = p
        framers[stream] = SIPStreamFramer()
        lastActivity[stream] = IMSHost.seconds()
        servedAddress[stream] = cluster.servedAddress(forLocal: context.connection(stream)?.localAddress)
        applyKeepalive(stream)
    }

    func stream(_ stream: StreamID, received bytes: UnsafeRawBufferPointer, context: ServiceContext) {
        guard let p = peerByStream[stream], var f = framers[stream] else { return }
        f.append(bytes)
        let local = servedAddress[stream]
        while true {
            do {
                guard let frame = try f.nextFrame() else { break }
                switch frame {
                case .ping:
                    // RFC 5626 §4.4.1: a CRLFCRLF ping between messages gets a CRLF pong (the
                    // phone checks its flow with it); it keeps the connection but is not SIP activity.
                    SIPStreamFramer.pong.withUnsafeBytes { context.write(stream, $0) }
                case .message(let msg):
                    lastActivity[stream] = IMSHost.seconds()
                    cluster.dispatch(msg, from: p, owner: nil, key: msg.withUnsafeBytes { IMSCluster.callIDKey($0) }, local: local)
                }
            } catch {
                logger.error(.sip, "TCP stream from \(p) cannot be framed (\(error)): closing it", ue: p.description)
                framers[stream] = nil
                context.close(stream)
                return
            }
        }
        framers[stream] = f
    }

    func streamClosed(_ stream: StreamID, error: RuntimeError?, context: ServiceContext) {
        framers[stream] = nil
        lastActivity[stream] = nil
        servedAddress[stream] = nil
        outgoingClosed(stream, error: error)
        guard let p = peerByStream.removeValue(forKey: stream) else { return }
        streamByPeer[p] = nil
    }

    /// Writes to the connection with `peer`, opening one from our address `local` when there is
    /// none (RFC 3261 §18.1.1).
    func write(_ bytes: [UInt8], to peer: SIPPeer, from local: String? = nil) {
        if let s = streamByPeer[peer] {
            lastActivity[s] = IMSHost.seconds()
            outgoing[s]?.messages.append(bytes)
            bytes.withUnsafeBytes { context.write(s, $0) }
            return
        }
        connect(bytes, to: peer, from: local)
    }

    func timerFired(_ key: UInt64, context: ServiceContext) {
        if key == IMSStreamIdle.sweepKey { sweepIdle() } else { connectTimerFired(key) }
    }

    func close(_ peer: SIPPeer) {
        if let s = streamByPeer[peer] { context.close(s) }
    }
}
