import Foundation
import Glibc
import IKEv2
import Synchronization

/// The ePDG on every loop of a group: one `EPDGService` shard per loop, each owning the
/// IKE SAs and ESP SAs of its UEs, so the packet path takes no lock. One dispatching
/// reader per port hands each datagram to its shard by a key that stays with the UE:
/// our IKE SPI (SPIr; SPIi for IKE_SA_INIT) and our inbound ESP SPI, both chosen to hash
/// to the owning shard. The inner network (TUN or in-process IMS) lives on loop 0;
/// packets toward a UE are routed to its shard by inner address.
public final class EPDGCluster: @unchecked Sendable {
    // @unchecked: `shards[i]` is confined to loop i; `handles` is written once before
    // traffic starts; `routes` is a Mutex.
    public let group: EventLoopGroup
    public private(set) var shards: [EPDGService] = []
    public private(set) var ikeAddress: SocketAddress
    public private(set) var natTAddress: SocketAddress
    private var ikeReader: UDPDispatcher?
    private var natTReader: UDPDispatcher?
    /// Plain ESP (IP protocol 50) on loop 0, when the process may open raw sockets.
    public private(set) var rawESP: RawESPSocket?
    /// Why plain ESP is not served (no privilege, IPv6 address), for the summary.
    public private(set) var rawESPUnavailable: String?
    private var handles: (ike: UDPSendHandle, natT: UDPSendHandle)?
    private let routes = Mutex<[[UInt8]: (shard: Int, count: Int)]>([:])
    public let inner: InnerNetwork

    /// `makeShard(i)` runs on loop i and returns that shard's service (its responder made there).
    public init(group: EventLoopGroup, ikeAddress: SocketAddress, natTAddress: SocketAddress, inner: InnerNetwork) {
        self.group = group
        self.ikeAddress = ikeAddress
        self.natTAddress = natTAddress
        self.inner = inner
    }

    /// The dispatch key of an IKE message: our SPI once chosen (SPIr; SPIi when the I flag is
    /// clear, i.e. the phone is the responder of an SA the ePDG made by rekeying, RFC 7296
    /// §3.1), else SPIi of the IKE_SA_INIT.
    static func ikeKey(_ b: UnsafeRawBufferPointer, offset: Int) -> UInt64 {
        guard b.count >= offset + 20 else { return 0 }
        var spiI: UInt64 = 0, spiR: UInt64 = 0
        for i in 0..<8 { spiI = spiI << 8 | UInt64(b[offset + i]); spiR = spiR << 8 | UInt64(b[offset + 8 + i]) }
        let senderIsInitiator = b[offset + 19] & 0x08 != 0
        if !senderIsInitiator, spiI != 0 { return spiI }
        return spiR != 0 ? spiR : spiI
    }

    /// NAT-T port: IKE after the non-ESP marker, else ESP keyed by its SPI (ours).
    static func natTKey(_ b: UnsafeRawBufferPointer) -> UInt64 {
        guard b.count >= 4 else { return 0 }
        let spi = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        return spi == 0 ? ikeKey(b, offset: 4) : UInt64(spi)
    }

    /// Makes the shards (on their loops), binds the two ports, and starts dispatching.
    public func start(makeShard: @escaping @Sendable (Int, InnerNetwork) -> EPDGService) throws {
        let n = group.loops.count
        for i in 0..<n {
            let loop = group.loops[i]
            let proxy = ShardInnerNetwork(cluster: self, shard: i)
            let shard: EPDGService = try loop.submit { [self] in
                let s = makeShard(i, proxy)
                s.responder.allocateESPSPI = { [group] in group.randomKey32(forShard: i) }
                s.responder.acceptsIKESPI = { [group] in group.shard(for: $0) == i }
                s.onInnerRoute = { [weak self] addrs, up in self?.route(addrs, shard: i, reachable: up) }
                s.onInitialContact = { [weak self] imsi in self?.dropStale(imsi: imsi, except: i) }
                s.startShard(on: loop) { [weak self] bytes, to, natT in
                    guard let h = self?.handles else { return }
                    _ = (natT ? h.natT : h.ike).send(bytes, to: to)
                }
                return s
            }
            shards.append(shard)
        }
        let ike = try UDPDispatcher.start(ikeAddress, group: group, key: { b, _ in Self.ikeKey(b, offset: 0) }) { [weak self] loop, _, bytes, peer in
            guard let self else { return }
            bytes.withUnsafeBytes { self.shards[loop.index].receive($0, from: peer, natT: false) }
        }
        let natT = try UDPDispatcher.start(natTAddress, group: group, key: { b, _ in Self.natTKey(b) }) { [weak self] loop, _, bytes, peer in
            guard let self else { return }
            bytes.withUnsafeBytes { self.shards[loop.index].receive($0, from: peer, natT: true) }
        }
        ikeReader = ike; natTReader = natT
        ikeAddress = ike.localAddress; natTAddress = natT.localAddress
        guard let hi = ike.sendHandle, let hn = natT.sendHandle else { throw RuntimeError.loopStopped }
        handles = (hi, hn)
        if shards.first?.dontFragment == true {
            // dont_fragment: DF on the outer packets (Linux IP_MTU_DISCOVER = IP_PMTUDISC_DO).
            var v: Int32 = 2
            for fd in [hi.fd, hn.fd] {
                _ = setsockopt(fd, Int32(IPPROTO_IP), 10, &v, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        for (i, s) in shards.enumerated() {
            let (a, b) = (ikeAddress, natTAddress)
            try group.loops[i].submit { s.setBoundAddresses(ike: a, natT: b) }
        }
        // Plain ESP: one raw socket on loop 0, each packet to the shard owning its SPI.
        let ikeHost = ikeAddress
        do {
            let raw = try group.loops[0].submit { [weak self] in
                try RawESPSocket.open(ikeHost, on: self!.group.loops[0]) { [weak self] b, peer in self?.dispatchRawESP(b, from: peer) }
            }
            rawESP = raw
            for (i, s) in shards.enumerated() {
                try group.loops[i].submit { s.transmitRawESP = { bytes, to in raw.send(bytes, to: to) } }
            }
        } catch {
            rawESPUnavailable = "\(error)"
        }
        // Packets toward UEs: to the shard that holds the UE's SAs.
        try group.loops[0].submit { [self] in inner.attach { [weak self] packet in self?.toUE(packet) } }
    }

    private func dispatchRawESP(_ b: UnsafeRawBufferPointer, from peer: SocketAddress) {
        guard b.count >= 8 else { return }
        let spi = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        let shard = group.shard(for: UInt64(spi))
        if shard == 0 { shards[0].receiveRawESP(b, from: peer); return }
        let bytes = Array(b)
        _ = group.loops[shard].execute { [self] in bytes.withUnsafeBytes { shards[shard].receiveRawESP($0, from: peer) } }
    }

    /// Sends DELETE for every IKE SA on every shard, then closes the ports.
    public func stop() {
        for (i, s) in shards.enumerated() { _ = try? group.loops[i].submit { s.stop() } }
        if let raw = rawESP { _ = try? group.loops[0].submit { raw.close() } }
        rawESP = nil
        ikeReader?.close(); natTReader?.close()
        ikeReader = nil; natTReader = nil
    }

    /// Established IKE SAs over all shards.
    public var established: Int {
        shards.enumerated().reduce(0) { sum, e in sum + ((try? group.loops[e.offset].submit { e.element.established }) ?? 0) }
    }

    /// INITIAL_CONTACT is subscriber-wide: the other shards drop the IMSI's older SAs.
    private func dropStale(imsi: String, except shard: Int) {
        for (j, s) in shards.enumerated() where j != shard {
            _ = group.loops[j].execute { s.dropStale(imsi: imsi) }
        }
    }

    // MARK: inner routing

    private func route(_ addresses: [[UInt8]], shard: Int, reachable: Bool) {
        routes.withLock { m in
            for a in addresses {
                let k = Self.routeKey(a)
                if reachable {
                    let c = m[k]?.count ?? 0
                    m[k] = (shard, c + 1)
                } else if let e = m[k] {
                    m[k] = e.count > 1 ? (e.shard, e.count - 1) : nil
                }
            }
        }
    }

    /// IPv4 addresses route as themselves; IPv6 by their /64 (the UE's prefix).
    static func routeKey(_ a: [UInt8]) -> [UInt8] { a.count == 16 ? Array(a.prefix(8)) : a }

    private func toUE(_ packet: [UInt8]) {
        guard let v = packet.first.map({ $0 >> 4 }) else { return }
        let dst: [UInt8]
        if v == 4, packet.count >= 20 { dst = Array(packet[16..<20]) }
        else if v == 6, packet.count >= 40 { dst = Array(packet[24..<32]) }
        else { return }
        guard let shard = routes.withLock({ $0[dst]?.shard }) else {
            // No UE holds this address: let shard 0 count and log the drop.
            shards.first?.sendToUE(packet)
            return
        }
        let loop = group.loops[shard]
        if loop.inEventLoop { shards[shard].sendToUE(packet) }
        else { _ = loop.execute { [self] in shards[shard].sendToUE(packet) } }
    }

    fileprivate func fromShard(_ packet: [UInt8], owner: String) {
        let loop0 = group.loops[0]
        if loop0.inEventLoop { inner.fromUE(packet, owner: owner) }
        else { _ = loop0.execute { [self] in inner.fromUE(packet, owner: owner) } }
    }
}

/// A shard's view of the inner network: hands decapsulated packets to loop 0.
final class ShardInnerNetwork: InnerNetwork, @unchecked Sendable {
    // @unchecked: immutable; the cluster does the hopping.
    unowned let cluster: EPDGCluster
    let shard: Int
    init(cluster: EPDGCluster, shard: Int) { self.cluster = cluster; self.shard = shard }
    func fromUE(_ packet: [UInt8], owner: String) { cluster.fromShard(packet, owner: owner) }
    /// The cluster routes packets toward UEs itself.
    func attach(sendToUE: @escaping ([UInt8]) -> Void) {}
}
