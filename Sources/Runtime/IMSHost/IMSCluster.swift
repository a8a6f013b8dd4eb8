import Config
import Foundation
import IMS
import SIP
import Synchronization
import Wire

/// The IMS on every loop of a group: one `IMSHost` shard per loop, each with its own
/// `IMSCore`. Every SIP message goes to the shard its Call-ID hashes to, so the transactions
/// and dialogs of a call (echo, proxied between phones, MT) live on one loop and take no
/// lock; the registrar state (bindings, challenges, Gm SAs) is one `IMSRegistrarStore` that
/// every shard reads and writes under a short lock, so a REGISTER's second step, a call to a
/// phone registered elsewhere and `users_get` see the same registrations. A registration
/// change that reg-event subscribers on other shards watch is posted to those shards.
///
/// Transports: one dispatching reader per UDP `sip_addr` (`UDPDispatcher`, replies leave
/// from that socket on the shard's own thread); TCP listeners and connections on loop 0,
/// whose byte streams are framed there and dispatched per message (writes hop back to
/// loop 0); the in-process inner path (phones behind the ePDG) on loop 0 too, as is the echo
/// media of calls from those phones. Echo media of other phones is bound on the shard's loop.
public final class IMSCluster: @unchecked Sendable {
    // @unchecked: `shards[i]` is confined to loop i; `udp`, `served`, `bound`, `unbound` are written once
    // in `start` before traffic; `stream` and the inner path are loop-0 confined; `innerPeers`
    // is a Mutex.
    public let group: EventLoopGroup
    public let store = IMSRegistrarStore()
    public private(set) var shards: [IMSHost] = []
    public let logger: Logger
    private let socketAddresses: [SocketAddress]
    /// The `sip_addr` address (`addr`) each socket address serves, when bound on another one
    /// (`bind_addr`); a socket bound on a configured address serves that one.
    private let advertised: [String?]
    /// Bound SIP sockets with the `sip_addr` address each serves (written once in `start`).
    private var served: [(socket: SocketAddress, address: String, udp: Int)] = []
    public let inner: InProcessInnerNetwork?
    private var udp: [UDPDispatcher] = []
    private(set) var stream: IMSStreamTransport?
    /// Peers reached through the in-process inner path, with the IMSI owning the tunnel.
    private let innerPeers = Mutex<[SIPPeer: String]>([:])
    /// Echo media served on the in-process path (loop 0 only).
    private var innerEchoes: [String: (RTPEcho, [InProcessInnerNetwork.Endpoint])] = [:]
    /// `sip_addr` addresses bound here, and those not on this host (for the summary).
    public private(set) var bound: [String] = []
    public private(set) var unbound: [String] = []

    public init(group: EventLoopGroup, socketAddresses: [SocketAddress], advertised: [String?] = [],
                inner: InProcessInnerNetwork?, logger: Logger) {
        self.group = group
        self.socketAddresses = socketAddresses
        self.advertised = advertised
        self.inner = inner
        self.logger = logger
    }

    /// The shard configuration: shard `i` of `n` allocates echo media ports in its own slice
    /// of `port_min`..`port_max` (of every `sip_addr` entry's range), so shards never hand out
    /// the same port.
    public static func shardConfig(_ c: IMS.IMSConfig, shard i: Int, of n: Int) -> IMS.IMSConfig {
        var out = c
        if let r = slice(c.mediaPortMin...max(c.mediaPortMin, c.mediaPortMax), shard: i, of: n) {
            out.mediaPortMin = r.lowerBound; out.mediaPortMax = r.upperBound
        }
        for (a, r) in c.mediaPortRanges { out.mediaPortRanges[a] = slice(r, shard: i, of: n) ?? r }
        return out
    }

    /// Shard `i`'s even-aligned part of `range` (the last shard takes the remainder); nil when
    /// there is one shard or the range is too small to split.
    static func slice(_ range: ClosedRange<UInt16>, shard i: Int, of n: Int) -> ClosedRange<UInt16>? {
        let lo = Int(range.lowerBound & ~1), hi = Int(range.upperBound)
        let span = ((hi - lo) / max(1, n)) & ~1
        guard n > 1, span >= 2 else { return nil }
        return UInt16(lo + i * span)...(i == n - 1 ? UInt16(hi) : UInt16(lo + (i + 1) * span))
    }

    /// Makes the shards on their loops (`makeCore(i, store)` runs on loop i), binds the SIP
    /// sockets and starts dispatching. Addresses not on this host are skipped (`unbound`).
    public func start(evidence: CoreEvidence?, makeCore: @escaping @Sendable (Int, IMSRegistrarStore) -> IMSCore) throws {
        let n = group.loops.count
        for i in 0..<n {
            let loop = group.loops[i]
            let host: IMSHost = try loop.submit { [self] in
                let core = makeCore(i, store)
                if n > 1 { core.ownsCallID = { [group] id in group.shard(for: IMSCluster.callIDKey(id)) == i } }
                // RFC 3261 §18.1.1: the in-process inner path carries the phones' UDP only.
                core.tcpUnavailableReason = { [unowned self] p in
                    innerOwner(of: SIPPeer(address: p.address, port: p.port, transport: .udp)) == nil ? nil
                        : "reached over the in-process inner path, which carries UDP only (TCP needs the TUN path: --tun)"
                }
                let h = IMSHost(core: core, cluster: self, logger: logger)
                h.evidence = evidence
                try h.start(on: loop)
                return h
            }
            shards.append(host)
        }
        let configured = Set(shards.first?.core.config.sipAddresses ?? [])
        for (i, a) in socketAddresses.enumerated() {
            let served = (i < advertised.count ? advertised[i] : nil) ?? (configured.contains(a.host) ? a.host : nil)
            do {
                let d = try UDPDispatcher.start(a, group: group, options: Self.sipSocket, key: { b, _ in IMSCluster.callIDKey(b) }) { [weak self] loop, handle, bytes, peer in
                    guard let self else { return }
                    self.shards[loop.index].receive(bytes, from: SIPPeer(address: peer.host, port: peer.port, transport: .udp), owner: nil,
                                                    local: served, socket: handle)
                }
                udp.append(d)
                if let served { self.served.append((d.localAddress, served, udp.count - 1)) }
                bound.append("\(a)")
            } catch let e as RuntimeError {
                if case .addressNotAvailable = e { unbound.append("\(a)"); continue }
                throw e
            }
        }
        let boundAddresses = udp.map(\.localAddress)
        stream = try group.loops[0].submit { [self] in
            let t = IMSStreamTransport(cluster: self, loop: group.loops[0], logger: logger)
            for a in boundAddresses { try t.context.listenTCP(a) }
            if let inner { listenInner(inner) }
            t.armIdleSweep()
            return t
        }
    }

    /// SIP over UDP: 4 MiB socket buffers (the kernel caps them at net.core.rmem_max/wmem_max).
    /// A burst waits for the reader, and replies to a slow peer wait in its queue (charged
    /// to our send buffer on loopback), instead of being dropped into a 500 ms retransmission.
    static let sipSocket = UDPSocket.Options(receiveBufferSize: 4 << 20, sendBufferSize: 4 << 20)

    /// The P-CSCF addresses on the in-process path (loop 0).
    private func listenInner(_ inner: InProcessInnerNetwork) {
        guard let config = shards.first?.core.config else { return }
        for a in config.sipAddresses {
            guard let ip = Self.bytes(a) else { continue }
            inner.listen(.init(address: ip, port: config.sipPort(for: a))) { [unowned self] d in
                let peer = SIPPeer(address: Self.text(d.source.address), port: d.source.port, transport: .udp)
                innerPeers.withLock { $0[peer] = d.owner }
                let key = d.payload.withUnsafeBytes { IMSCluster.callIDKey($0) }
                dispatch(d.payload, from: peer, owner: d.owner, key: key, local: a)
            }
        }
    }

    /// Closes the sockets, then stops every shard (on its loop).
    public func stop() {
        for d in udp { d.close() }
        udp.removeAll()
        if let t = stream { _ = try? group.loops[0].submit { t.context.closeAll() } }
        stream = nil
        for (i, s) in shards.enumerated() { _ = try? group.loops[i].submit { s.stop() } }
    }

    // MARK: dispatch

    /// Hands a message to the shard owning `key` (from loop 0: TCP, in-process path).
    func dispatch(_ bytes: [UInt8], from peer: SIPPeer, owner: String?, key: UInt64, local: String?) {
        let i = group.shard(for: key)
        onLoop(i) { [self] in shards[i].receive(bytes, from: peer, owner: owner, local: local) }
    }

    /// The `sip_addr` address a connection accepted on local address `a` serves: the socket
    /// bound there, else one bound on the wildcard address with its port.
    func servedAddress(forLocal a: SocketAddress?) -> String? {
        guard let a else { return nil }
        if let s = served.first(where: { $0.socket == a }) { return s.address }
        return served.first { $0.socket.port == a.port && ($0.socket.host == "0.0.0.0" || $0.socket.host == "::") }?.address
    }

    /// Which of `peers` a transaction or a registration binding still uses, asked of every
    /// shard on its loop; `done` runs on loop 0 once all have answered.
    func peersInUse(_ peers: [SIPPeer], done: @escaping @Sendable (Set<SIPPeer>) -> Void) {
        let tally = InUseTally(remaining: shards.count)
        for (i, s) in shards.enumerated() {
            _ = group.loops[i].execute { [self] in
                let busy = Set(peers.filter { s.core.usesConnection(to: $0) })
                onLoop0 { if let all = tally.add(busy) { done(all) } }
            }
        }
    }

    // MARK: transports (any shard)

    /// The IMSI whose tunnel reaches `peer`, when it is on the in-process path.
    func innerOwner(of peer: SIPPeer) -> String? {
        guard inner != nil else { return nil }
        return innerPeers.withLock { $0[peer] }
    }

    /// Sends SIP toward `to`: the in-process path, a UDP socket, or its TCP connection. UDP
    /// leaves from our address `local` (`IMSCore.sourceAddress`), on any shard: the phone hears
    /// from the address and port it registered with; a TCP connection we open is bound to it.
    func send(_ bytes: [UInt8], to: SIPPeer, from local: String?, innerOwner owner: String?) -> Bool {
        if let owner, let inner, let dst = Self.bytes(to.address), let config = shards.first?.core.config,
           case let a = local ?? config.localAddress(for: to), let src = Self.bytes(a) {
            let port = config.sipPort(for: a)
            onLoop0 { inner.send(bytes, from: .init(address: src, port: port), to: .init(address: dst, port: to.port), owner: owner) }
            return true
        }
        if to.transport == .udp, let dst = try? SocketAddress(host: to.address, port: to.port) {
            guard let d = servingSocket(local) ?? udp.first(where: { $0.localAddress.family == dst.family })
                    ?? udp.first(where: { $0.localAddress.family == AF_INET6 }),
                  let h = d.sendHandle else { return false }
            h.send(bytes, to: dst)
            return true
        }
        guard let t = stream else { return false }
        onLoop0 { t.write(bytes, to: to, from: local) }
        return true
    }

    /// With several `sip_addr` sockets: the one bound for our address `a` and its port, which
    /// the message names (Via, Contact), so the peer hears from where we said we are.
    private func servingSocket(_ a: String?) -> UDPDispatcher? {
        guard served.count > 1, let a, let config = shards.first?.core.config else { return nil }
        let port = config.sipPort(for: a)
        return served.first { $0.address == a && $0.socket.port == port }.map { udp[$0.udp] }
    }

    /// A request the stream transport could not deliver over TCP goes back to the shard that
    /// sent it (the one owning its Call-ID): retried over UDP after a reset, else a transport error.
    func tcpDeliveryFailed(_ bytes: [UInt8], to peer: SIPPeer, refused: Bool, error: String) {
        let i = group.shard(for: bytes.withUnsafeBytes { IMSCluster.callIDKey($0) })
        onLoop(i) { [self] in shards[i].perform(shards[i].core.tcpDeliveryFailed(bytes, to: peer, refused: refused, error: error, now: IMSHost.seconds())) }
    }

    func closeConnection(_ peer: SIPPeer) {
        guard let t = stream else { return }
        onLoop0 { t.close(peer) }
    }

    /// Posts a registration change to the shards whose reg-event subscribers watch it.
    func registrationChanged(impi: String, shards targets: [Int]) {
        for i in targets where i < shards.count {
            _ = group.loops[i].execute { [self] in shards[i].registrationChanged(impi: impi) }
        }
    }

    private func onLoop0(_ body: @escaping @Sendable () -> Void) { onLoop(0, body) }

    /// Runs `body` on loop `i`: at once when already there, else posted to it.
    private func onLoop(_ i: Int, _ body: @escaping @Sendable () -> Void) {
        let loop = group.loops[i]
        if loop.inEventLoop { body() } else { _ = loop.execute(body) }
    }

    // MARK: echo media on the in-process path (loop 0)

    /// Serves the echo media of a call from a phone on the in-process path; false when the
    /// phone is not there (the shard binds UDP sockets itself).
    func openInnerEcho(_ s: IMSMediaSession) -> Bool {
        guard let inner, innerPeers.withLock({ $0.keys.contains { $0.address == s.remoteAddress } }),
              let local = Self.bytes(s.localAddress) else { return false }
        onLoop0 { [self] in
            let eps = [InProcessInnerNetwork.Endpoint(address: local, port: s.localRTPPort),
                       InProcessInnerNetwork.Endpoint(address: local, port: s.localRTCPPort)]
            innerEchoes[s.id] = (RTPEcho(expectedAddress: s.remoteAddress), eps)
            for (i, ep) in eps.enumerated() {
                inner.listen(ep) { [unowned self] d in
                    guard var (e, list) = innerEchoes[s.id] else { return }
                    if let back = e.receive(d.payload, from: Self.text(d.source.address), port: d.source.port, kind: i == 0 ? .rtp : .rtcp),
                       let dst = Self.bytes(back.address) {
                        inner.send(back.bytes, from: ep, to: .init(address: dst, port: back.port), owner: d.owner)
                    }
                    list = innerEchoes[s.id]?.1 ?? list
                    innerEchoes[s.id] = (e, list)
                }
            }
        }
        return true
    }

    func closeInnerEcho(_ id: String) {
        guard let inner else { return }
        onLoop0 { [self] in
            if let (_, eps) = innerEchoes.removeValue(forKey: id) { for e in eps { inner.unlisten(e) } }
        }
    }

    // MARK: views (from a thread outside the group)

    /// Runs `body` on every shard's loop and collects the results.
    public func onEveryShard<T: Sendable>(_ body: @escaping @Sendable (IMSHost) -> T) throws -> [T] {
        try shards.enumerated().map { i, s in try group.loops[i].submit { body(s) } }
    }

    /// Dialogs of every shard (`dialog_get`).
    public func dialogs() -> [IMSDialogInfo] {
        ((try? onEveryShard { $0.core.dialogs }) ?? []).flatMap { $0 }.sorted { $0.callID < $1.callID }
    }

    /// IMS events of every shard (shard by shard, each in order).
    public func events() -> [IMSEvent] { ((try? onEveryShard { $0.events }) ?? []).flatMap { $0 } }

    /// Registrations (shared by every shard).
    public var registrations: [IMSRegistration] { (try? group.loops[0].submit { [self] in shards[0].core.currentRegistrations }) ?? [] }

    /// Answers of `peersInUse` gathered on loop 0.
    private final class InUseTally: @unchecked Sendable {
        // @unchecked: used on loop 0 only.
        var remaining: Int
        var busy: Set<SIPPeer> = []
        init(remaining: Int) { self.remaining = remaining }
        /// Adds one shard's answer; the union once every shard answered.
        func add(_ b: Set<SIPPeer>) -> Set<SIPPeer>? {
            busy.formUnion(b); remaining -= 1
            return remaining == 0 ? busy : nil
        }
    }

    static func bytes(_ text: String) -> [UInt8]? { ConfigIPAddress(text)?.bytes }

    static func text(_ b: [UInt8]) -> String { IPAddress(bytes: b)?.description ?? "" }
}
