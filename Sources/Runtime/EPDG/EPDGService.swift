import Config
import Crypto
import ESP
import Foundation
import IKEv2
import Wire

/// One shard of the ePDG, on one event loop: the IKE SAs and ESP SAs of its UEs. The
/// `EPDGCluster` feeds it the datagrams of its SPIs (IKE on UDP 500 and the NAT-T port,
/// ESP in UDP or plain) and sends what it returns; it feeds the sans-I/O `IKEResponder`
/// and `ESPDataPlane` and carries out their actions.
public final class EPDGService: ServiceHandler, @unchecked Sendable {
    // @unchecked: loop-confined; every member is touched on `context.loop` only.
    /// Where IKE (port 500) and NAT-T (4500) listen: the addresses the cluster bound
    /// (port 0 in the config gives ephemeral ports, as tests and the demo use).
    public private(set) var ikeAddress: SocketAddress
    public private(set) var natTAddress: SocketAddress
    public let responder: IKEResponder
    public private(set) var dataPlane = ESPDataPlane()
    public let inner: InnerNetwork
    public let logger: Logger
    public let keyLog: KeyLogSink?
    /// `ikev2.key=1` / `ipsec.key=1` in log_options: SK_* and ESP keys in the log.
    public let keyLogging: Bool
    private var context: ServiceContext?
    /// Outer endpoint of each outbound SPI (where the UE's ESP goes).
    private var outerBySPI: [UInt32: SocketAddress] = [:]
    private var pollTimerArmed: Double?
    /// Counters for the summary and tests.
    public private(set) var established = 0
    /// How datagrams leave (set by `startShard`): `natT` says whether from the NAT-T port.
    public typealias Transmit = (_ bytes: [UInt8], _ to: SocketAddress, _ natT: Bool) -> Void
    private var transmit: Transmit?
    /// Told when a UE's inner addresses become reachable through this ePDG (or stop being),
    /// so a sharded host can route packets toward UEs to the right loop.
    public var onInnerRoute: ((_ addresses: [[UInt8]], _ reachable: Bool) -> Void)?
    private var routesBySPI: [UInt32: [[UInt8]]] = [:]
    /// `dont_fragment`: outer packets carry DF, so inner packets that do not fit the path
    /// get ICMP "fragmentation needed"/"packet too big" back, or are fragmented (IPv4 without DF).
    public var dontFragment = true
    /// The outer path MTU toward phones (Ethernet by default).
    public var pathMTU = 1500
    /// Source of the ICMP errors: the ePDG's gateway addresses on the PDN.
    public var gatewayV4: [UInt8] = [192, 0, 0, 1]
    public var gatewayV6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    public private(set) var tooBigDrops = 0
    /// Told when a phone set up an IKE SA with INITIAL_CONTACT (its IMSI), so a sharded
    /// host can drop that subscriber's stale SAs on the other shards.
    public var onInitialContact: ((_ imsi: String) -> Void)?
    /// Sends plain ESP (IP protocol 50) when the host has a raw socket; Child SAs without
    /// UDP encapsulation (no NAT, ports 500/500) use it.
    public var transmitRawESP: (([UInt8], SocketAddress) -> Void)?
    private var plainESP: Set<UInt32> = []
    /// Outbound ESP SPIs of each IKE SA (by SPIi), so an address change moves them all.
    private var outSPIsByIKE: [UInt64: Set<UInt32>] = [:]
    /// Our IKE SPI (SPIr, or SPIi once the ePDG rekeyed the SA) of each inbound ESP SPI, and when its traffic was last reported
    /// to IKE (at most once a second), so DPD stays quiet while ESP flows.
    private var ikeSPIrByInboundSPI: [UInt32: UInt64] = [:]
    private var trafficNotedAt: [UInt64: Double] = [:]
    /// Evidence hooks (capture, key files, decoded logs, events); nil costs one check per packet.
    public var evidence: CoreEvidence?

    public init(ikeAddress: SocketAddress, natTAddress: SocketAddress, responder: IKEResponder,
                inner: InnerNetwork, logger: Logger, keyLog: KeyLogSink? = nil, keyLogging: Bool = false) {
        self.keyLogging = keyLogging
        self.ikeAddress = ikeAddress
        self.natTAddress = natTAddress
        self.responder = responder
        self.inner = inner
        self.logger = logger
        self.keyLog = keyLog
    }

    /// The addresses a sharded host bound for this service.
    func setBoundAddresses(ike: SocketAddress, natT: SocketAddress) { ikeAddress = ike; natTAddress = natT }

    /// No sockets of its own: the cluster's dispatchers feed `receive` on `loop` and
    /// `transmit` sends. The context runs this shard's timers.
    public func startShard(on loop: EventLoop, transmit: @escaping Transmit) {
        context = ServiceContext(loop: loop, logger: logger, handler: self)
        self.transmit = transmit
        inner.attach { [unowned self] packet in self.sendToUE(packet) }
    }

    /// Sends INFORMATIONAL DELETE for every IKE SA, then cancels the timers.
    public func stop() {
        guard let ctx = context else { return }
        let now = Self.seconds()
        for sa in responder.allSAs {
            perform(responder.delete(spiR: sa.localSPI, now: now))
        }
        ctx.closeAll()
        context = nil
    }

    // MARK: input

    /// ServiceHandler requirement; a shard binds no socket, so datagrams come via `receive`.
    public func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {
        receive(bytes, from: peer, natT: socket.localAddress == natTAddress)
    }

    /// One datagram that arrived on the IKE port or (`natT`) the NAT-T port.
    public func receive(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, natT: Bool) {
        let now = Self.seconds()
        if !natT {
            handleIKE(Array(bytes), from: peer, to: ikeAddress, now: now)
            return
        }
        let local = natTAddress
        let kind = UDPEncapsulation.classify(bytes)
        if case .ike = kind {} else { evidence?.outerReceived(bytes, from: peer, to: local) }
        switch kind {
        case .keepalive:
            return
        case let .ike(offset):
            handleIKE(Array(bytes[offset...]), from: peer, to: local, now: now)
        case let .malformed(why):
            logger.debug(.ipsec, "dropped datagram from \(peer): \(why)", dir: .from)
        case .esp:
            handleESP(bytes, from: peer)
        }
    }

    /// Plain ESP (IP protocol 50) from a phone that does not use UDP encapsulation.
    public func receiveRawESP(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress) {
        evidence?.outerReceived(bytes, from: peer, to: ikeAddress)
        handleESP(bytes, from: peer)
    }

    private func handleESP(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress) {
        for r in dataPlane.receive(udpPayload: Array(bytes)) {
            switch r {
            case let .deliver(packet, spi, owner):
                evidence?.inner(packet, owner: owner)
                inner.fromUE(packet, owner: owner)
                if let spiR = ikeSPIrByInboundSPI[spi] {
                    let now = Self.seconds()
                    if now - (trafficNotedAt[spiR] ?? 0) >= 1 {
                        trafficNotedAt[spiR] = now
                        responder.noteTraffic(spiR: spiR, now: now)
                    }
                }
            case let .dropped(spi, reason):
                logger.debug(.ipsec, "drop ESP from \(peer) spi=\(spi.map { "0x" + Hex.spi($0) } ?? "-"): \(reason.rawValue)", dir: .from)
            case let .rekeyNeeded(spi):
                logger.info(.ipsec, "SA 0x\(Hex.spi(spi)) reached its soft byte lifetime")
            case .ike, .keepalive: break
            }
        }
    }

    private func handleIKE(_ message: [UInt8], from peer: SocketAddress, to local: SocketAddress, now: Double) {
        guard let f = Self.endpoint(peer), let t = Self.endpoint(local) else { return }
        let actions = responder.handle(datagram: message, from: f, to: t, now: now)
        evidence?.ikeReceived(message, from: peer, to: local, natT: local == natTAddress, responder: responder)
        perform(actions)
    }

    public func timerFired(_ key: UInt64, context: ServiceContext) {
        pollTimerArmed = nil
        perform(responder.poll(now: Self.seconds()))
    }

    /// Drops the subscriber's SAs here because another shard saw INITIAL_CONTACT.
    public func dropStale(imsi: String) {
        perform(responder.dropStale(imsi: imsi))
    }

    /// A packet from the inner network toward a UE: encrypt with the UE's outbound SA.
    public func sendToUE(_ packet: [UInt8]) {
        guard context != nil else { return }
        if dontFragment, let sa = packet.withUnsafeBytes({ dataPlane.sad.outbound(forInner: $0) }) {
            let t = sa.transform
            let outerHeaders = (packet.first.map { $0 >> 4 } == 6 ? 40 : 20) + 8
            let maxInner = pathMTU - outerHeaders - (8 + t.ivLength + t.icvLength + 2 + t.alignment - 1)
            switch InnerMTU.check(packet, maxInner: maxInner, gatewayV4: gatewayV4, gatewayV6: gatewayV6) {
            case .fits: break
            case let .fragments(parts):
                for p in parts { sendToUE(p) }
                return
            case let .tooBig(icmp):
                tooBigDrops += 1
                logger.debug(.ipsec, "inner packet of \(packet.count) bytes does not fit the tunnel (max \(maxInner)): ICMP too big sent back", dir: .to, ue: sa.owner)
                inner.fromUE(icmp, owner: sa.owner)
                return
            case .malformed:
                return
            }
        }
        switch dataPlane.send(inner: packet) {
        case let .success((payload, sa)):
            guard let to = outerBySPI[sa.spi] else { return }
            if plainESP.contains(sa.spi), let raw = transmitRawESP {
                evidence?.inner(packet, owner: sa.owner)
                raw(payload, to)
                return
            }
            if let e = evidence { e.inner(packet, owner: sa.owner); e.espSent(payload, from: natTAddress, to: to, owner: sa.owner) }
            send(payload, to: to, natT: true)
        case let .failure(reason):
            logger.debug(.ipsec, "cannot send inner packet toward a UE: \(reason.rawValue)", dir: .to)
        }
    }

    // MARK: actions

    /// Out through the cluster's sockets (`natT`: from the NAT-T port).
    private func send(_ bytes: [UInt8], to: SocketAddress, natT: Bool) {
        transmit?(bytes, to, natT)
    }

    /// Carries out the responder's actions (also for remote API requests, on this loop).
    func perform(_ actions: [IKEAction]) {
        guard let ctx = context else { return }
        evidence?.actions(actions, responder: responder)
        for a in actions {
            switch a {
            case let .send(bytes, from, to):
                guard let dst = Self.socketAddress(to) else { continue }
                // The responder answers on the socket the request came to; the non-ESP
                // marker goes on everything sent from the NAT-T socket (RFC 3948 §2.2).
                let src = from.port == natTAddress.port ? natTAddress : ikeAddress
                let framed = src == natTAddress ? UDPEncapsulation.nonESPMarker + bytes : bytes
                evidence?.ikeSent(bytes, from: src, to: dst, natT: src == natTAddress, responder: responder)
                send(framed, to: dst, natT: src == natTAddress)
            case let .installChildSA(d):
                install(d)
            case let .deleteChildSA(inSPI, outSPI):
                dataPlane.sad.removeInbound(spi: inSPI)
                if let r = ikeSPIrByInboundSPI.removeValue(forKey: inSPI), !ikeSPIrByInboundSPI.values.contains(r) { trafficNotedAt[r] = nil }
                dataPlane.sad.removeOutbound(spi: outSPI)
                outerBySPI[outSPI] = nil
                plainESP.remove(outSPI)
                for k in outSPIsByIKE.keys where outSPIsByIKE[k]?.remove(outSPI) != nil && outSPIsByIKE[k]?.isEmpty == true { outSPIsByIKE[k] = nil }
                if let r = routesBySPI.removeValue(forKey: outSPI) { onInnerRoute?(r, false) }
                logger.info(.ipsec, "Delete IPsec SA in=0x\(Hex.spi(inSPI)) out=0x\(Hex.spi(outSPI))")
            case let .armTimer(at):
                if pollTimerArmed == nil || at < pollTimerArmed! {
                    pollTimerArmed = at
                    let ms = max(0, Int64((at - Self.seconds()) * 1000))
                    ctx.armTimer(key: 1, after: .milliseconds(ms))
                }
            case let .log(e):
                let layer: LogLayer = e.layer == "eap" ? .eap : .ikev2
                let level: LogLevel = e.level == .error ? .error : e.level == .debug ? .debug : .info
                logger.log(layer, level, e.message, ue: Hex.spi(e.spiI))
            case let .ikeSAEstablished(info):
                established += 1
                if responder.sa(spiR: info.spiR)?.initialContact == true { onInitialContact?(info.imsi) }
                logger.info(.ikev2, "IKE SA established with \(info.remote) IMSI \(info.imsi) APN \(info.apn) \(info.suite)", ue: info.imsi)
                // SK_* with ikev2.key=1: logged by `evidence` right after IKE_SA_INIT.
                logKeys(info)
            case let .peerAddressChanged(spiI, _, remote, _):
                // NAT rebinding or MOBIKE: the SA's ESP follows the phone to its new address.
                guard let to = Self.socketAddress(remote) else { break }
                var moved = 0
                for spi in outSPIsByIKE[spiI] ?? [] where outerBySPI[spi] != nil { outerBySPI[spi] = to; moved += 1 }
                logger.info(.ipsec, "peer now at \(remote): \(moved) outbound SA(s) follow", ue: Hex.spi(spiI))
            case let .ikeSARekeyed(oldI, oldR, info):
                // Our SPI of the old SA was SPIr or (if the ePDG had rekeyed it) SPIi.
                for (k, v) in ikeSPIrByInboundSPI where v == oldR || v == oldI { ikeSPIrByInboundSPI[k] = info.localSPI }
                trafficNotedAt[oldR] = nil; trafficNotedAt[oldI] = nil
                if let spis = outSPIsByIKE.removeValue(forKey: oldI) { outSPIsByIKE[info.spiI, default: []].formUnion(spis) }
                logger.info(.ikev2, "IKE SA \(Hex.spi(oldI))/\(Hex.spi(oldR)) rekeyed to \(Hex.spi(info.spiI))/\(Hex.spi(info.spiR)) \(info.suite), initiated by the \(info.isInitiator ? "ePDG" : "UE")", ue: info.imsi)
                logKeys(info)
            case let .ikeSARedundant(info):
                logger.info(.ikev2, "IKE SA \(Hex.spi(info.spiI))/\(Hex.spi(info.spiR)) is redundant (simultaneous rekey): kept until its Delete is answered", ue: info.imsi)
                logKeys(info)
            case let .ikeSADeleted(spiI, _, reason):
                logger.info(.ikev2, "IKE SA \(Hex.spi(spiI)) deleted: \(reason)")
            }
        }
        evidence?.actionsCarriedOut(actions)
    }

    /// An IKE SA's SK_* in the log (with key logging, unless `evidence` logs them) and its
    /// row in the key log, so captures of it decrypt.
    private func logKeys(_ info: IKESAInfo) {
        if keyLogging && evidence == nil {
            logger.info(.ikev2, "SK_d=\(info.keys.SK_d.hex) SK_ai=\(info.keys.SK_ai.hex) SK_ar=\(info.keys.SK_ar.hex) SK_ei=\(info.keys.SK_ei.hex) SK_er=\(info.keys.SK_er.hex) SK_pi=\(info.keys.SK_pi.hex) SK_pr=\(info.keys.SK_pr.hex)", ue: info.imsi)
        }
        keyLog?.ikeSA(WiresharkIKEv2Table.row(spii: info.spiI, spir: info.spiR, encryption: info.suite.encryption,
                                              skEi: info.keys.SK_ei, skEr: info.keys.SK_er, integrity: info.suite.integrity,
                                              skAi: info.keys.SK_ai, skAr: info.keys.SK_ar))
    }

    private func install(_ d: ChildSADescription) {
        do {
            let inT = try ESPTransform(encryption: d.suite.encryption, encryptionKey: d.inboundEncryptionKey,
                                       integrity: d.suite.integrity, integrityKey: d.inboundIntegrityKey)
            let outT = try ESPTransform(encryption: d.suite.encryption, encryptionKey: d.outboundEncryptionKey,
                                        integrity: d.suite.integrity, integrityKey: d.outboundIntegrityKey)
            // The UE's inner addresses: inbound packets must come from them, outbound are routed by them.
            var ueRanges = d.remoteTS.map { AddressRange(start: $0.startAddress.bytes, end: $0.endAddress.bytes) }
            if let v4 = d.innerIPv4 { ueRanges.append(AddressRange(address: v4.bytes)) }
            if let v6 = d.innerIPv6 { ueRanges.append(AddressRange(address: v6.bytes)) }
            let lifetime = ESPLifetime(softSeconds: Double(d.lifetimeSeconds) * 0.9, hardSeconds: Double(d.lifetimeSeconds))
            let inbound = ESPSecurityAssociation(spi: d.inboundSPI, direction: .inbound, transform: inT,
                                                 esn: d.suite.extendedSequenceNumbers,
                                                 tunnelSource: d.remote.address.description, tunnelDestination: d.local.address.description,
                                                 trafficSelectors: ueRanges, lifetime: lifetime, owner: d.imsi)
            let routes = [d.innerIPv4, d.innerIPv6].compactMap { $0 }.map { AddressRange(address: $0.bytes) }
            let outbound = ESPSecurityAssociation(spi: d.outboundSPI, direction: .outbound, transform: outT,
                                                  esn: d.suite.extendedSequenceNumbers,
                                                  tunnelSource: d.local.address.description, tunnelDestination: d.remote.address.description,
                                                  trafficSelectors: routes.isEmpty ? ueRanges : routes, lifetime: lifetime, owner: d.imsi)
            dataPlane.sad.addInbound(inbound)
            dataPlane.sad.addOutbound(outbound)
            outerBySPI[d.outboundSPI] = Self.socketAddress(d.remote)
            outSPIsByIKE[d.ikeSPIi, default: []].insert(d.outboundSPI)
            ikeSPIrByInboundSPI[d.inboundSPI] = responder.sa(spiI: d.ikeSPIi, spiR: d.ikeSPIr)?.localSPI ?? d.ikeSPIr
            if !d.udpEncapsulation {
                if transmitRawESP == nil {
                    logger.error(.ipsec, "Child SA 0x\(Hex.spi(d.outboundSPI)) uses plain ESP (no NAT, ports 500/500) but this ePDG has no raw ESP socket (needs root or CAP_NET_RAW): the phone should force NAT-T", ue: d.imsi)
                }
                plainESP.insert(d.outboundSPI)
            }
            // The UE's addresses (a rekeyed Child SA may not repeat them: then its TSi).
            var routed = [d.innerIPv4, d.innerIPv6].compactMap { $0?.bytes }
            if routed.isEmpty { routed = d.remoteTS.map(\.startAddress.bytes) }
            routesBySPI[d.outboundSPI] = routed
            onInnerRoute?(routed, true)
            // The callbox tutorial's style (Evidence/IPsecSALog.swift).
            for line in IPsecSALog.lines(d, keys: keyLogging) { logger.info(.ipsec, line, ue: d.imsi) }
            for (sa, src, dst) in [(inbound, d.remote, d.local), (outbound, d.local, d.remote)] {
                keyLog?.espSA(WiresharkESPSA.row(sa: sa, source: src.address.description, destination: dst.address.description))
            }
        } catch {
            logger.error(.ipsec, "cannot install Child SA \(d): \(error)", ue: d.imsi)
        }
    }

    // MARK: conversions

    static func seconds() -> Double { Double(MonotonicClock.now()) / 1e9 }

    static func endpoint(_ a: SocketAddress) -> IKEEndpoint? {
        guard let ip = IPAddress(bytes: a.addressBytes) else { return nil }
        return IKEEndpoint(ip, a.port)
    }

    static func socketAddress(_ e: IKEEndpoint) -> SocketAddress? {
        try? SocketAddress(host: e.address.description, port: e.port)
    }
}

/// Receives Wireshark key rows as SAs come up (the Analysis layer's KeyLogWriter, or a test).
public protocol KeyLogSink: AnyObject {
    func ikeSA(_ row: String)
    func espSA(_ row: String)
}
