import XCTest
import AKA
import Crypto
import ESP
import IKEv2
import IMS
import SIP
import Wire
import TestSupport
@testable import UESim

/// One HSS/AuC for both EAP-AKA (ePDG) and IMS AKA (S-CSCF): a shared SQN per subscriber,
/// as a real HSS has, so the USIM sees one increasing sequence.
final class TestHSS: AuthenticationVectorSource, IMSSubscriberSource {
    struct Sub { var imsi: String; var alg: AuthenticationAlgorithm; var sqn: SQNGenerator; var impi: String }
    var subs: [String: Sub] = [:]
    let domain: String
    var vectors = 0, resyncs = 0
    init(domain: String) { self.domain = domain }

    func add(imsi: String, alg: AuthenticationAlgorithm, lastSQN: SQN = .zero) {
        subs[imsi] = Sub(imsi: imsi, alg: alg, sqn: SQNGenerator(last: lastSQN), impi: imsi + "@" + domain)
    }
    func next(_ imsi: String) throws -> AuthenticationVector {
        guard var s = subs[imsi] else { throw AuthenticationVectorError.userUnknown }
        let sqn = try s.sqn.next()
        subs[imsi] = s
        vectors += 1
        return try s.alg.vector(rand: SecureRandom.bytes(16), sqn: sqn, amf: [0x80, 0x00])
    }
    func resyncSQN(_ imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard var s = subs[imsi] else { throw AuthenticationVectorError.userUnknown }
        s.sqn.resynchronize(sqnMS: try AUTS.recoverSQN(algorithm: s.alg, rand: rand, auts: auts))
        subs[imsi] = s
        resyncs += 1
    }
    // SWm/SWx side
    func vector(imsi: String) throws -> AuthenticationVector { try next(imsi) }
    func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws { try resyncSQN(imsi, rand: rand, auts: auts) }
    // Cx side
    func imsi(ofIMPI impi: String) -> String? { subs.values.first { $0.impi == impi }?.imsi }
    func subscriber(impi: String) -> IMSSubscriber? { imsi(ofIMPI: impi).map { _ in IMSSubscriber(impi: impi, authentType: .akav1) } }
    func subscriber(impu: String) -> IMSSubscriber? {
        let key = IMSIdentity.key(impu)
        return subs.values.first { IMSIdentity.key("sip:" + $0.impi) == key }.map { IMSSubscriber(impi: $0.impi, authentType: .akav1) }
    }
    func authenticationVector(impi: String) throws -> AuthenticationVector {
        guard let i = imsi(ofIMPI: impi) else { throw AuthenticationVectorError.userUnknown }
        return try next(i)
    }
    func resynchronize(impi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard let i = imsi(ofIMPI: impi) else { throw AuthenticationVectorError.userUnknown }
        try resyncSQN(i, rand: rand, auts: auts)
    }
}

final class TestPool: InnerAddressPool {
    var next: UInt8 = 2
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        defer { next += 1 }
        return InnerAddresses(ipv4: wantIPv4 ? IPAddress(v4: 198, 18, 0, next) : nil, ipv6: wantIPv6 ? IPAddress("2001:db8:1:\(next)::1") : nil)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) {}
}

/// Phones ↔ ePDG (IKEv2 responder + ESP data plane) ↔ IMS core (P/S-CSCF, echo media), in
/// virtual time with 1 ms per hop. Everything the phone sends crosses the real codecs and ciphers.
final class CoreHarness {
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"
    static let pcscf = "198.51.100.10"
    static let pcscf6 = "2001:db8:5::10"

    static func udp(src: IPAddress, dst: IPAddress, sport: UInt16, dport: UInt16, payload: [UInt8]) -> [UInt8] {
        dst.isIPv4 ? IPPacket.udp4(src: src.bytes, dst: dst.bytes, sport: sport, dport: dport, payload: payload)
                   : IPPacket.udp6(src: src.bytes, dst: dst.bytes, sport: sport, dport: dport, payload: payload)
    }
    let epdgEnd: IKEEndpoint
    let hss = TestHSS(domain: CoreHarness.domain)
    let pool = TestPool()
    let epdg: IKEResponder
    var epdgESP = ESPDataPlane()
    /// ePDG Child SAs by the phone's inner address: how to reach it and whether UDP-encapsulated.
    var routes: [IPAddress: ChildSADescription] = [:]
    let ims: IMSCore
    var echoes: [UInt16: (RTPEcho, IMSMediaSession)] = [:]
    var phones: [Phone] = []
    var phoneByEndpoint: [IKEEndpoint: Phone] = [:]
    var queue: [(at: Double, seq: Int, work: Work)] = []
    var seq = 0
    var wakes: [ObjectIdentifier: Double] = [:]
    var actions: [ObjectIdentifier: [PhoneAction]] = [:]
    var now = 100.0
    var imsEvents: [IMSEvent] = []
    var epdgLogs: [String] = []

    enum Work {
        case ikeToEPDG([UInt8], from: IKEEndpoint, to: IKEEndpoint)
        case espToEPDG([UInt8])
        case toPhone(Phone, [UInt8], from: IKEEndpoint, to: IKEEndpoint, raw: Bool)
    }

    init(policy: IKEResponderPolicy? = nil, epdgPort: UInt16 = 500, signer: IKEAuthSigner? = nil,
         sessionTimer: IMSSessionTimerConfig = IMSSessionTimerConfig()) {
        epdgEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), epdgPort)
        epdg = IKEResponder(policy: policy ?? IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!],
                                                                                   pcscfAddresses: [IPAddress(CoreHarness.pcscf)!]),
                                                                         APNPolicy(name: "EMERGENCY", pcscfAddresses: [IPAddress(CoreHarness.pcscf)!])]),
                            vectors: hss, pool: pool, signer: signer)
        var ic = IMSConfig(domain: CoreHarness.domain, sipAddresses: [CoreHarness.pcscf, CoreHarness.pcscf6],
                           echo: [IMSEchoEntry(impu: "tel:666"), IMSEchoEntry(impu: "urn:service:sos", anonymous: true)],
                           timers: SIPTimerValues())
        ic.sessionTimer = sessionTimer
        ims = IMSCore(config: ic, subscribers: hss)
        // The harness carries the phones' SIP as inner UDP only, like the in-process inner path.
        ims.tcpUnavailableReason = { _ in "the test harness carries UDP only" }
    }

    static let set1K = Vectors.bytes("465b5ce8b199b49faa5f0a2ee238a6bc")
    static let set1OPc = Vectors.bytes("cd63cb71954a9f4e48a5994e37a02baf")

    /// A phone with TS 35.208 set 1 keys, provisioned in the HSS.
    func addPhone(imsi: String = "001010000000001", profile: HandsetProfile = .android, port: UInt16 = 500, cardSQN: UInt64 = 0,
                  hssSQN: UInt64 = 0, scenario: PhoneConfig.Scenario = .call, mediaDuration: Double = 1, target: String = "tel:666",
                  teardown: Bool = true, traces: Bool = true, sessionExpires: UInt32? = 1800, minSE: UInt32 = 90) throws -> Phone {
        let alg = AuthenticationAlgorithm.milenage(try Milenage(k: Self.set1K, opc: Self.set1OPc))
        hss.add(imsi: imsi, alg: alg, lastSQN: try SQN(hssSQN))
        let local = IKEEndpoint(IPAddress(v4: 203, 0, 113, UInt8(50 + phones.count)), port)
        var cfg = PhoneConfig(sim: SIMCredentials(imsi: imsi, k: Self.set1K, opc: Self.set1OPc, sqn: cardSQN), mcc: "001", mnc: "01",
                              profile: profile, local: local, epdg: IKEEndpoint(epdgEnd.address, port), scenario: scenario,
                              callTarget: target, mediaDuration: mediaDuration)
        cfg.idSeed = UInt64(phones.count + 1)
        cfg.teardown = teardown
        cfg.traces = traces
        cfg.sessionExpires = sessionExpires
        cfg.minSE = minSE
        cfg.rtpPort = 50_000 + UInt16(2 * phones.count)
        let p = Phone(config: cfg)
        phones.append(p)
        phoneByEndpoint[local] = p
        return p
    }

    func post(_ w: Work, delay: Double = 0.001) {
        seq += 1
        queue.append((now + delay, seq, w))
    }

    func perform(_ p: Phone, _ acts: [PhoneAction]) {
        actions[ObjectIdentifier(p), default: []] += acts
        for a in acts {
            switch a {
            case let .sendIKE(bytes, from, to): post(.ikeToEPDG(bytes, from: from, to: to))
            case let .sendESP(bytes, _, _, _): post(.espToEPDG(bytes))
            case let .wake(at): wakes[ObjectIdentifier(p)] = at
            default: break
            }
        }
    }

    func performEPDG(_ acts: [IKEAction]) {
        for a in acts {
            switch a {
            case let .send(bytes, from, to):
                guard let p = phoneByEndpoint[IKEEndpoint(to.address, p500(to.port))] else { continue }
                let marker = from.port != 500 || to.port != 500
                post(.toPhone(p, marker ? UDPEncapsulation.nonESPMarker + bytes : bytes, from: from, to: to, raw: false))
            case let .installChildSA(c):
                let inners = [c.innerIPv4, c.innerIPv6].compactMap { $0 }
                guard !inners.isEmpty else { continue }
                let inT = try! ESPTransform(encryption: c.suite.encryption, encryptionKey: c.inboundEncryptionKey,
                                            integrity: c.suite.integrity, integrityKey: c.inboundIntegrityKey)
                let outT = try! ESPTransform(encryption: c.suite.encryption, encryptionKey: c.outboundEncryptionKey,
                                             integrity: c.suite.integrity, integrityKey: c.outboundIntegrityKey)
                epdgESP.sad.addInbound(ESPSecurityAssociation(spi: c.inboundSPI, direction: .inbound, transform: inT))
                epdgESP.sad.addOutbound(ESPSecurityAssociation(spi: c.outboundSPI, direction: .outbound, transform: outT,
                                                               trafficSelectors: inners.map { AddressRange(address: $0.bytes) }))
                for i in inners { routes[i] = c }
            case let .deleteChildSA(inSPI, outSPI):
                epdgESP.sad.removeInbound(spi: inSPI)
                epdgESP.sad.removeOutbound(spi: outSPI)
            case let .log(l): epdgLogs.append(l.message)
            default: break
            }
        }
    }

    /// Phones are keyed by their port-500 endpoint; NAT-T moves them to 4500 on the same address.
    func p500(_ port: UInt16) -> UInt16 { port == 4500 ? phoneByEndpoint.keys.first.map { $0.port } ?? 500 : port }

    /// An inner packet from the IMS side toward a phone, through the ePDG's ESP.
    func toPhoneInner(_ packet: [UInt8]) {
        guard let u = IPPacket.parseUDP(packet), let dst = IPAddress(bytes: u.dst), let c = routes[dst],
              let p = phones.first(where: { $0.innerAddress == dst }) else { return }
        guard case let .success((payload, _)) = epdgESP.send(inner: packet) else { return }
        post(.toPhone(p, payload, from: c.local, to: c.remote, raw: !c.udpEncapsulation))
    }

    func performIMS(_ acts: [IMSAction]) {
        for a in acts {
            switch a {
            case let .send(bytes, peer):
                guard let dst = IPAddress(peer.address) else { continue }
                toPhoneInner(Self.udp(src: IPAddress(dst.isIPv4 ? Self.pcscf : Self.pcscf6)!, dst: dst, sport: 5060, dport: peer.port, payload: bytes))
            case let .openMedia(s): echoes[s.localRTPPort] = (RTPEcho(expectedAddress: s.remoteAddress), s)
            case let .closeMedia(id): echoes = echoes.filter { $0.value.1.id != id }
            case let .event(e): imsEvents.append(e)
            case .closeConnection, .registrationChanged: break
            }
        }
    }

    func deliver(_ w: Work) {
        switch w {
        case let .ikeToEPDG(bytes, from, to):
            var b = bytes
            if to.port != 500 {
                guard case .ike(let off) = UDPEncapsulation.classify(bytes) else {
                    // ESP on the NAT-T port.
                    deliver(.espToEPDG(bytes)); return
                }
                b = Array(bytes[off...])
            }
            performEPDG(epdg.handle(datagram: b, from: from, to: to, now: now))
        case let .espToEPDG(bytes):
            for r in epdgESP.receive(udpPayload: bytes) {
                guard case let .deliver(inner, _, _) = r, let u = IPPacket.parseUDP(inner), let src = IPAddress(bytes: u.src) else { continue }
                if let dst = IPAddress(bytes: u.dst), routes[dst] != nil {
                    toPhoneInner(inner)   // phone to phone (the kernel's routing between inner addresses)
                } else if u.dport == 5060 {
                    performIMS(ims.receive(datagram: u.payload, from: SIPPeer(address: src.description, port: u.sport, transport: .udp), now: now))
                } else if let (e0, s) = echoes[u.dport] {
                    var echo = e0
                    if let back = echo.receive(u.payload, from: src.description, port: u.sport, kind: .rtp), let d = IPAddress(back.address) {
                        toPhoneInner(Self.udp(src: IPAddress(s.localAddress)!, dst: d, sport: s.localRTPPort, dport: back.port, payload: back.bytes))
                    }
                    echoes[u.dport] = (echo, s)
                }
            }
        case let .toPhone(p, bytes, from, to, raw):
            perform(p, raw ? p.receiveESP(bytes, now: now) : p.receive(bytes, from: from, to: to, now: now))
        }
    }

    /// Runs until every phone is done or `limit` seconds of virtual time pass.
    func run(limit: Double = 120, start: Bool = true, untilQuiet: Bool = false) {
        if start { for p in phones { perform(p, p.start(now: now)) } }
        let end = now + limit
        while now < end, (!untilQuiet && phones.contains(where: { $0.finished == nil })) || !queue.isEmpty {
            var candidates = queue.map(\.at)
            candidates += phones.compactMap { wakes[ObjectIdentifier($0)] }
            if let w = epdg.nextWakeup { candidates.append(w) }
            if let w = ims.nextDeadline { candidates.append(w) }
            guard let next = candidates.min() else { break }
            now = max(now, next)
            queue.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
            while let first = queue.first, first.at <= now {
                queue.removeFirst()
                deliver(first.work)
            }
            for p in phones {
                if let w = wakes[ObjectIdentifier(p)], w <= now {
                    wakes[ObjectIdentifier(p)] = nil
                    perform(p, p.timer(now: now))
                }
            }
            if let w = epdg.nextWakeup, w <= now { performEPDG(epdg.poll(now: now)) }
            if let w = ims.nextDeadline, w <= now { performIMS(ims.tick(now: now)) }
        }
    }

    func events(_ p: Phone) -> [PhoneEvent] { p.events }
    func traces(_ p: Phone) -> [PhoneTrace] {
        (actions[ObjectIdentifier(p)] ?? []).compactMap { if case let .trace(t) = $0 { t } else { nil } }
    }
}
