import Config
import Foundation
import IMS
import SIP
import Wire

/// One IMS shard on one event loop: runs a sans-I/O `IMSCore` holding the transactions and
/// dialogs of the Call-IDs that hash to this loop, its timers, and the echo media sockets of
/// its calls. `IMSCluster` reads the SIP sockets and the in-process path, hands each message
/// to its shard, and carries the shard's SIP back out. Loop-confined.
public final class IMSHost: ServiceHandler, Service, @unchecked Sendable {
    // @unchecked: every member is used on the loop thread only.
    public let name = "ims"
    public let core: IMSCore
    public let logger: Logger
    /// The cluster this shard belongs to (transports, other shards).
    unowned let cluster: IMSCluster
    private var context: ServiceContext?
    /// Echo media bound as UDP sockets on this loop (calls from phones outside the process).
    private var mediaSockets: [String: [UDPSocket]] = [:]
    private var mediaBySocket: [ObjectIdentifier: String] = [:]
    private var echoes: [String: RTPEcho] = [:]
    /// Echo media of this shard's calls served on the in-process inner path (by loop 0).
    private var innerMedia: Set<String> = []
    /// The UDP socket the message being handled came in on, and its sender: the responses we
    /// send that peer meanwhile leave from it (RFC 3581 §4: from the address and port the
    /// request was received on). Other UDP leaves from the address `IMSCore.sourceAddress` names.
    private var arrival: (peer: SIPPeer, socket: UDPSendHandle)?
    /// The deadline the timer is armed for.
    private var armedDeadline: Double?
    public private(set) var events: [IMSEvent] = []
    /// Evidence hooks: SIP messages in the log (FROM/TO, IMSI), `--events` lines.
    public var evidence: CoreEvidence?

    init(core: IMSCore, cluster: IMSCluster, logger: Logger) {
        self.core = core
        self.cluster = cluster
        self.logger = logger
    }

    public func start(on loop: EventLoop) throws {
        context = ServiceContext(loop: loop, logger: logger, handler: self)
    }

    public func stop() {
        context?.closeAll()
        context = nil
    }

    // MARK: input (on this loop)

    /// A whole SIP message (UDP datagram, a message framed from TCP, or from the in-process
    /// path with the IMSI that owns the tunnel); `local`: the `sip_addr` address it came to;
    /// `socket`: the UDP socket it came in on.
    func receive(_ bytes: [UInt8], from peer: SIPPeer, owner: String?, local: String? = nil, socket: UDPSendHandle? = nil) {
        evidence?.sip(bytes, peer: peer, outgoing: false, imsi: owner)
        arrival = socket.map { (peer, $0) }
        defer { arrival = nil }
        perform(core.receive(datagram: bytes, from: peer, to: local, now: Self.seconds()))
    }

    /// Another shard changed a registration this shard's reg-event subscribers watch.
    func registrationChanged(impi: String) {
        perform(core.registrationChanged(impi: impi, now: Self.seconds()))
    }

    /// Only echo media sockets are bound on a shard's own context.
    public func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {
        guard let id = mediaBySocket[ObjectIdentifier(socket)], var e = echoes[id] else { return }
        let kind: RTPEcho.Kind = socket.localAddress.port % 2 == 0 ? .rtp : .rtcp
        if let back = e.receive(Array(bytes), from: peer.host, port: peer.port, kind: kind), let dst = try? SocketAddress(host: back.address, port: back.port) {
            back.bytes.withUnsafeBytes { socket.send($0, to: dst) }
        }
        echoes[id] = e
    }

    public func timerFired(_ key: UInt64, context: ServiceContext) {
        perform(core.tick(now: Self.seconds()))
    }

    // MARK: actions

    func perform(_ actions: [IMSAction]) {
        guard let ctx = context else { return }
        for a in actions {
            switch a {
            case let .send(bytes, to):
                let owner = cluster.innerOwner(of: to)
                if let e = evidence { e.sip(bytes, peer: to, outgoing: true, imsi: owner) }
                else { logger.debug(.sip, "\(Self.firstLine(bytes))", dir: .to, ue: to.description) }
                if let a = arrival, a.peer == to, owner == nil, IMSCore.isResponse(bytes),
                   let dst = try? SocketAddress(host: to.address, port: to.port) {
                    _ = a.socket.send(bytes, to: dst)
                } else if !cluster.send(bytes, to: to, from: core.sourceAddress(of: bytes, toward: to), innerOwner: owner) {
                    logger.error(.sip, "no transport toward \(to) for \(Self.firstLine(bytes))")
                }
            case let .openMedia(session):
                openMedia(session, ctx: ctx)
            case let .closeMedia(id):
                if innerMedia.remove(id) != nil { cluster.closeInnerEcho(id) }
                for s in mediaSockets.removeValue(forKey: id) ?? [] { mediaBySocket[ObjectIdentifier(s)] = nil; s.close() }
                echoes[id] = nil
            case let .closeConnection(peer):
                cluster.closeConnection(peer)
            case let .registrationChanged(impi, shards):
                cluster.registrationChanged(impi: impi, shards: shards)
            case let .event(e):
                events.append(e)
                logger.info(.ims, "\(e)")
                evidence?.imsEvent(e)
            }
        }
        // `events` keeps the newest ones only: a long run (or a bench) must not grow without bound.
        if events.count > IMSHost.eventLimit { events.removeFirst(events.count - IMSHost.eventLimit / 2) }
        // Re-armed only when the deadline moved (most messages leave it where it was).
        if let d = core.nextDeadline, d != armedDeadline || ctx.armedTimerCount == 0 {
            armedDeadline = d
            ctx.armTimer(key: 1, after: .milliseconds(max(0, Int64((d - Self.seconds()) * 1000))))
        }
    }

    /// The echo number's media: every RTP and RTCP packet goes back to where it came from.
    /// Phones inside the process (their SIP came through the ePDG) get it on the in-process
    /// path, served on loop 0 where that path lives; others on UDP sockets of this loop.
    private func openMedia(_ s: IMSMediaSession, ctx: ServiceContext) {
        logger.info(.ims, "echo media \(s.id): \(s.localAddress):\(s.localRTPPort) <-> \(s.remoteAddress):\(s.remoteRTPPort) \(s.encoding)")
        if cluster.openInnerEcho(s) {
            innerMedia.insert(s.id)
            return
        }
        if mediaSockets[s.id] != nil {
            // A re-INVITE moved the phone's media: same local ports, a new expected peer.
            echoes[s.id] = RTPEcho(expectedAddress: s.remoteAddress)
            return
        }
        do {
            let rtp = try ctx.bindUDP(try SocketAddress(host: s.localAddress, port: s.localRTPPort), options: Self.mediaSocket)
            let rtcp = try ctx.bindUDP(try SocketAddress(host: s.localAddress, port: s.localRTCPPort), options: Self.mediaSocket)
            mediaSockets[s.id] = [rtp, rtcp]
            mediaBySocket[ObjectIdentifier(rtp)] = s.id
            mediaBySocket[ObjectIdentifier(rtcp)] = s.id
            echoes[s.id] = RTPEcho(expectedAddress: s.remoteAddress)
        } catch {
            logger.error(.ims, "cannot open echo media \(s.localAddress):\(s.localRTPPort): \(error)")
        }
    }

    // MARK: helpers

    /// Echo media sockets: RTP/RTCP datagrams are small, so small batch buffers (the default
    /// 32 × 64 KiB, twice, made each call's bind and close an mmap and munmap).
    static let mediaSocket = UDPSocket.Options(batchSize: 8, maxDatagramSize: 4096)

    /// How many of the latest IMS events `events` holds.
    public static let eventLimit = 4096

    static func seconds() -> Double { Double(MonotonicClock.now()) / 1e9 }

    static func firstLine(_ b: [UInt8]) -> String {
        String(decoding: b.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(120), as: UTF8.self)
    }
}
