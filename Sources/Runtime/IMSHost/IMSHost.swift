import Config
import Foundation
import IMS
import SIP
import Wire

/// Runs the sans-I/O `IMSCore` on an event loop: SIP over UDP and TCP on the `sip_addr`
/// sockets that exist on this host, SIP over the in-process inner path (the P-CSCF
/// addresses the ePDG hands out), and the echo media ports. Loop-confined.
public final class IMSHost: ServiceHandler, Service, @unchecked Sendable {
    // @unchecked: every member is used on the loop thread only.
    public let name = "ims"
    public let core: IMSCore
    public let logger: Logger
    private let socketAddresses: [SocketAddress]
    private let inner: InProcessInnerNetwork?
    var context: ServiceContext?
    /// Peers reached through the in-process inner path (their SIP goes back that way).
    var innerPeers: [SIPPeer: String] = [:]
    var streamByPeer: [SIPPeer: StreamID] = [:]
    var peerByStream: [StreamID: SIPPeer] = [:]
    /// Connections we are opening for large requests (IMSHost+TCP.swift).
    let outgoingTCP = IMSOutgoingTCP()
    private var echoes: [String: (RTPEcho, [InProcessInnerNetwork.Endpoint])] = [:]
    private var mediaSockets: [String: [UDPSocket]] = [:]
    /// Addresses that could not be bound (not on this host): reported in the summary.
    public private(set) var unbound: [String] = []
    public private(set) var bound: [String] = []
    public private(set) var events: [IMSEvent] = []
    /// Evidence hooks: SIP messages in the log (FROM/TO, IMSI), `--events` lines.
    public var evidence: CoreEvidence?

    public init(core: IMSCore, socketAddresses: [SocketAddress], inner: InProcessInnerNetwork?, logger: Logger) {
        self.core = core
        self.socketAddresses = socketAddresses
        self.inner = inner
        self.logger = logger
    }

    public func start(on loop: EventLoop) throws {
        let ctx = ServiceContext(loop: loop, logger: logger, handler: self)
        context = ctx
        installTCPPolicy()
        for a in socketAddresses {
            do {
                try ctx.bindUDP(a)
                try ctx.listenTCP(a)
                bound.append("\(a)")
            } catch let e as RuntimeError {
                if case .addressNotAvailable = e { unbound.append("\(a)"); continue }
                throw e
            }
        }
        if let inner {
            for a in core.config.sipAddresses {
                guard let ip = Self.bytes(a) else { continue }
                inner.listen(.init(address: ip, port: core.config.sipPort)) { [unowned self] d in
                    let peer = SIPPeer(address: Self.text(d.source.address), port: d.source.port, transport: .udp)
                    self.innerPeers[peer] = d.owner
                    self.evidence?.sip(d.payload, peer: peer, outgoing: false, imsi: d.owner)
                    self.perform(self.core.receive(datagram: d.payload, from: peer, now: Self.seconds()))
                }
            }
        }
    }

    public func stop() {
        context?.closeAll()
        context = nil
    }

    // MARK: socket input

    public func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {
        if let echo = mediaSockets.first(where: { $0.value.contains { $0 === socket } })?.key {
            echoMedia(id: echo, bytes: Array(bytes), fromHost: peer.host, port: peer.port, socket: socket)
            return
        }
        let p = SIPPeer(address: peer.host, port: peer.port, transport: .udp)
        evidence?.sip(Array(bytes), peer: p, outgoing: false, imsi: nil)
        perform(core.receive(datagram: Array(bytes), from: p, now: Self.seconds()))
    }

    public func streamOpened(_ stream: StreamID, peer: SocketAddress?, context: ServiceContext) {
        guard let peer else { return }
        let p = SIPPeer(address: peer.host, port: peer.port, transport: .tcp)
        streamByPeer[p] = stream; peerByStream[stream] = p
        tcpStreamOpened(stream)
    }

    public func stream(_ stream: StreamID, received bytes: UnsafeRawBufferPointer, context: ServiceContext) {
        guard let p = peerByStream[stream] else { return }
        evidence?.sip(Array(bytes), peer: p, outgoing: false, imsi: nil)
        perform(core.receive(stream: Array(bytes), from: p, now: Self.seconds()))
    }

    public func streamClosed(_ stream: StreamID, error: RuntimeError?, context: ServiceContext) {
        guard let p = peerByStream.removeValue(forKey: stream) else { return }
        streamByPeer[p] = nil
        core.connectionClosed(p)
        tcpStreamClosed(stream, error: error)
    }

    public func timerFired(_ key: UInt64, context: ServiceContext) {
        if tcpConnectTimerFired(key) { return }
        perform(core.tick(now: Self.seconds()))
    }

    // MARK: actions

    func perform(_ actions: [IMSAction]) {
        guard let ctx = context else { return }
        for a in actions {
            switch a {
            case let .send(bytes, to):
                if let e = evidence { e.sip(bytes, peer: to, outgoing: true, imsi: innerPeers[to]) }
                else { logger.debug(.sip, "\(Self.firstLine(bytes))", dir: .to, ue: to.description) }
                if let owner = innerPeers[to], let inner, let dst = Self.bytes(to.address), let src = Self.bytes(core.config.localAddress(for: to)) {
                    inner.send(bytes, from: .init(address: src, port: core.config.sipPort), to: .init(address: dst, port: to.port), owner: owner)
                } else if to.transport == .udp, let dst = try? SocketAddress(host: to.address, port: to.port) {
                    bytes.withUnsafeBytes { _ = ctx.send($0, to: dst) }
                } else {
                    sendOverTCP(bytes, to: to, ctx: ctx)
                }
            case let .openMedia(session):
                openMedia(session, ctx: ctx)
            case let .closeMedia(id):
                if let (_, endpoints) = echoes.removeValue(forKey: id) { for e in endpoints { inner?.unlisten(e) } }
                for s in mediaSockets.removeValue(forKey: id) ?? [] { s.close() }
            case let .closeConnection(peer):
                if let s = streamByPeer[peer] { ctx.close(s) }
            case let .event(e):
                events.append(e)
                logger.info(.ims, "\(e)")
                evidence?.imsEvent(e)
            }
        }
        // `events` keeps the newest ones only: a long run (or a bench) must not grow without bound.
        if events.count > IMSHost.eventLimit { events.removeFirst(events.count - IMSHost.eventLimit / 2) }
        if let d = core.nextDeadline {
            ctx.armTimer(key: 1, after: .milliseconds(max(0, Int64((d - Self.seconds()) * 1000))))
        }
    }

    /// The echo number's media: every RTP and RTCP packet goes back to where it came from.
    private func openMedia(_ s: IMSMediaSession, ctx: ServiceContext) {
        logger.info(.ims, "echo media \(s.id): \(s.localAddress):\(s.localRTPPort) <-> \(s.remoteAddress):\(s.remoteRTPPort) \(s.encoding)")
        let echo = RTPEcho(expectedAddress: s.remoteAddress)
        if let inner, innerPeers.keys.contains(where: { $0.address == s.remoteAddress }), let local = Self.bytes(s.localAddress) {
            let eps = [InProcessInnerNetwork.Endpoint(address: local, port: s.localRTPPort),
                       InProcessInnerNetwork.Endpoint(address: local, port: s.localRTCPPort)]
            echoes[s.id] = (echo, eps)
            for (i, ep) in eps.enumerated() {
                inner.listen(ep) { [unowned self] d in
                    guard var (e, list) = self.echoes[s.id] else { return }
                    if let back = e.receive(d.payload, from: Self.text(d.source.address), port: d.source.port, kind: i == 0 ? .rtp : .rtcp),
                       let dst = Self.bytes(back.address) {
                        inner.send(back.bytes, from: ep, to: .init(address: dst, port: back.port), owner: d.owner)
                    }
                    list = self.echoes[s.id]?.1 ?? list
                    self.echoes[s.id] = (e, list)
                }
            }
        } else {
            do {
                let rtp = try ctx.bindUDP(try SocketAddress(host: s.localAddress, port: s.localRTPPort))
                let rtcp = try ctx.bindUDP(try SocketAddress(host: s.localAddress, port: s.localRTCPPort))
                mediaSockets[s.id] = [rtp, rtcp]
                echoes[s.id] = (echo, [])
            } catch {
                logger.error(.ims, "cannot open echo media \(s.localAddress):\(s.localRTPPort): \(error)")
            }
        }
    }

    private func echoMedia(id: String, bytes: [UInt8], fromHost: String, port: UInt16, socket: UDPSocket) {
        guard var (e, eps) = echoes[id] else { return }
        let kind: RTPEcho.Kind = socket.localAddress.port % 2 == 0 ? .rtp : .rtcp
        if let back = e.receive(bytes, from: fromHost, port: port, kind: kind), let dst = try? SocketAddress(host: back.address, port: back.port) {
            back.bytes.withUnsafeBytes { socket.send($0, to: dst) }
        }
        eps = echoes[id]?.1 ?? eps
        echoes[id] = (e, eps)
    }

    // MARK: helpers

    /// How many of the latest IMS events `events` holds.
    public static let eventLimit = 4096

    static func seconds() -> Double { Double(MonotonicClock.now()) / 1e9 }

    static func firstLine(_ b: [UInt8]) -> String {
        String(decoding: b.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(120), as: UTF8.self)
    }

    static func bytes(_ text: String) -> [UInt8]? { ConfigIPAddress(text)?.bytes }

    static func text(_ b: [UInt8]) -> String {
        IPAddress(bytes: b)?.description ?? ""
    }
}
