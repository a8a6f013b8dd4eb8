import Foundation
import XCTest
import AKA
import Crypto
import Wire
import IKEv2
import ESP
@testable import Analysis

/// A Milenage HSS with an SQN counter and resync, as the ePDG sees it.
final class TestHSS: AuthenticationVectorSource {
    var subscribers: [String: (alg: AuthenticationAlgorithm, seq: UInt64)] = [:]
    func add(imsi: String, k: [UInt8], opc: [UInt8], seq: UInt64) throws {
        subscribers[imsi] = (.milenage(try Milenage(k: k, opc: opc)), seq)
    }
    func vector(imsi: String) throws -> AuthenticationVector {
        guard var s = subscribers[imsi] else { throw AuthenticationVectorError.userUnknown }
        s.seq += 1
        subscribers[imsi] = s
        return try s.alg.vector(rand: SecureRandom.bytes(16), sqn: try SQN(seq: s.seq, ind: 0), amf: [0x00, 0x00])
    }
    func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard let s = subscribers[imsi] else { throw AuthenticationVectorError.userUnknown }
        let ms = try AUTS.recoverSQN(algorithm: s.alg, rand: rand, auts: auts)
        subscribers[imsi] = (s.alg, ms.seq())
    }
}

final class TestPool: InnerAddressPool {
    var next: UInt8 = 2
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        defer { next += 1 }
        return InnerAddresses(ipv4: wantIPv4 ? IPAddress(v4: 198, 51, 100, next) : nil,
                              ipv6: wantIPv6 ? IPAddress("2001:db8:0:\(next)::1") : nil, ipv6PrefixLength: 64)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) {}
}

/// Builds a realistic capture: the real IKEv2 initiator (phone with a USIM) and responder
/// (ePDG with an HSS) exchange datagrams that are written as IPv4/UDP packets on the
/// "outer" interface; then SIP and RTP are ESP-sealed with the Child SA's keys (outer) and
/// written in clear on the "inner" interface, as the ePDG's capture has them. The key rows
/// are written with `KeyLogWriter` as the ePDG would.
final class CaptureBuilder {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010123456789"

    let dir: String
    let capturePath: String
    let keyDir: String
    let pcap: PcapNGWriter
    let outerIf: Int, innerIf: Int
    let ueEnd: IKEEndpoint
    let epdgEnd: IKEEndpoint
    let hss = TestHSS()
    let pool = TestPool()
    let policy: IKEResponderPolicy
    let epdg: IKEResponder
    var ue: IKEInitiator!
    var keyLog: KeyLogWriter
    var now = 1_760_000_000.0
    var epdgActions: [IKEAction] = []
    var ueActions: [IKEAction] = []
    var child: ChildSADescription?
    var toEPDG: ESPSecurityAssociation?
    var toUE: ESPSecurityAssociation?
    var ipID: UInt16 = 1
    let pcscf: [UInt8] = [198, 51, 100, 1]

    static func defaultPolicy(pcscf: [IPAddress] = [IPAddress("198.51.100.1")!]) -> IKEResponderPolicy {
        IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!], pcscfAddresses: pcscf)])
    }

    /// `udp4500`: IKE and ESP on UDP 4500 from the start (as behind a NAT), ESP UDP-encapsulated.
    init(name: String, policy: IKEResponderPolicy = CaptureBuilder.defaultPolicy(), udp4500: Bool = false, ueHost: UInt8 = 50) throws {
        ueEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, ueHost), udp4500 ? 4500 : 500)
        epdgEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), udp4500 ? 4500 : 500)
        dir = NSTemporaryDirectory() + "vowifi-analysis-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        keyDir = dir + "/wireshark"
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true)
        capturePath = dir + "/\(name).pcapng"
        pcap = try PcapNGWriter(path: capturePath)
        outerIf = pcap.addInterface(name: "outer")
        innerIf = pcap.addInterface(name: "inner")
        keyLog = try KeyLogWriter(directory: keyDir)
        self.policy = policy
        epdg = IKEResponder(policy: policy, vectors: hss, pool: pool)
        try hss.add(imsi: Self.imsi, k: Self.k, opc: Self.opc, seq: 10)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs the attach with the phone's K (wrong K → EAP failure) and configuration.
    func attach(config: IKEInitiatorConfig? = nil, k: [UInt8] = CaptureBuilder.k, lastSeq: UInt64 = 0) throws {
        let cfg = config ?? IKEInitiatorConfig(imsi: Self.imsi, mcc: "001", mnc: "01")
        let usim = try USIM(algorithm: .milenage(try Milenage(k: k, opc: Self.opc)), lastSQN: try SQN(seq: lastSeq, ind: 0))
        ue = IKEInitiator(config: cfg, usim: usim, local: ueEnd, remote: epdgEnd, now: now)
        exchange(ue.start(now: now), fromUE: true)
    }

    /// Delivers datagrams both ways until nobody has anything to say, writing each one.
    func exchange(_ first: [IKEAction], fromUE: Bool) {
        var pending: [(IKEAction, Bool)] = first.map { ($0, fromUE) }
        var rounds = 0
        while !pending.isEmpty && rounds < 200 {
            rounds += 1
            let (a, fromUE) = pending.removeFirst()
            if fromUE { ueActions.append(a) } else { epdgActions.append(a) }
            switch a {
            case let .send(bytes, from, to):
                now += 0.004
                let payload = (from.port != 500 || to.port != 500) ? [0, 0, 0, 0] + bytes : bytes
                pcap.write(interface: outerIf, packet: IPPacket.udp4(src: from.address.bytes, dst: to.address.bytes, sport: from.port, dport: to.port,
                                                                   payload: payload, id: nextID()), time: now, comment: "IMSI \(Self.imsi)")
                let reply = fromUE ? epdg.handle(datagram: bytes, from: from, to: to, now: now) : ue.handle(datagram: bytes, from: from, to: to, now: now)
                if fromUE { keyLog.log(actions: reply, responder: epdg) }   // as the ePDG's host does
                pending += reply.map { ($0, !fromUE) }
            case let .installChildSA(c) where !fromUE:
                child = c
                toEPDG = try? sa(spi: c.inboundSPI, key: c.inboundEncryptionKey, integ: c.inboundIntegrityKey, suite: c.suite)
                toUE = try? sa(spi: c.outboundSPI, key: c.outboundEncryptionKey, integ: c.outboundIntegrityKey, suite: c.suite)
            default:
                break
            }
        }
    }

    func sa(spi: UInt32, key: [UInt8], integ: [UInt8], suite: ESPSuite) throws -> ESPSecurityAssociation {
        let t = try ESPTransform(encryption: suite.encryption, encryptionKey: key, integrity: suite.integrity, integrityKey: integ)
        return ESPSecurityAssociation(spi: spi, direction: .outbound, transform: t, esn: suite.extendedSequenceNumbers)
    }

    func nextID() -> UInt16 { ipID &+= 1; return ipID }

    var ueInner: [UInt8] { child?.innerIPv4?.bytes ?? [198, 51, 100, 2] }

    /// Sends one inner UDP packet through the tunnel (ESP on outer, clear on inner).
    func inner(fromUE: Bool, sport: UInt16, dport: UInt16, payload: [UInt8], peer: [UInt8]? = nil, dt: Double = 0.01) throws {
        now += dt
        let other = peer ?? pcscf
        let packet = fromUE ? IPPacket.udp4(src: ueInner, dst: other, sport: sport, dport: dport, payload: payload, id: nextID())
                            : IPPacket.udp4(src: other, dst: ueInner, sport: sport, dport: dport, payload: payload, id: nextID())
        guard let sa = fromUE ? toEPDG : toUE else { throw XCTSkip("no Child SA") }
        let esp = try packet.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: sa) }.get()
        let (src, dst) = fromUE ? (ueEnd.address.bytes, epdgEnd.address.bytes) : (epdgEnd.address.bytes, ueEnd.address.bytes)
        let outer: [UInt8]
        if child?.udpEncapsulation == true {
            outer = IPPacket.udp4(src: src, dst: dst, sport: 4500, dport: 4500, payload: esp, id: nextID())
        } else {
            outer = Self.ipv4(proto: 50, src: src, dst: dst, payload: esp, id: nextID())
        }
        pcap.write(interface: outerIf, packet: outer, time: now, comment: "IMSI \(Self.imsi)")
        pcap.write(interface: innerIf, packet: packet, time: now, comment: "IMSI \(Self.imsi)")
    }

    /// An IPv4 packet of any protocol (here ESP, 50) with a correct header checksum.
    static func ipv4(proto: UInt8, src: [UInt8], dst: [UInt8], payload: [UInt8], id: UInt16) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 20)
        let total = 20 + payload.count
        p[0] = 0x45; p[2] = UInt8(total >> 8); p[3] = UInt8(total & 0xFF)
        p[4] = UInt8(id >> 8); p[5] = UInt8(id & 0xFF); p[6] = 0x40; p[8] = 64; p[9] = proto
        p.replaceSubrange(12..<16, with: src); p.replaceSubrange(16..<20, with: dst)
        let c = IPPacket.checksum(p)
        p[10] = UInt8(c >> 8); p[11] = UInt8(c & 0xFF)
        return p + payload
    }

    // MARK: SIP

    var cseq = 0
    func sipRequest(_ method: String, _ uri: String, callID: String, cseq: Int, fromUE: Bool = true, extra: [String] = [], body: String = "") -> [UInt8] {
        let via = fromUE ? "SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK\(method.lowercased())\(cseq)" : "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKnw\(cseq)"
        var lines = ["\(method) \(uri) SIP/2.0", "Via: \(via)", "Max-Forwards: 70",
                     "From: <sip:\(Self.imsi)@ims.mnc001.mcc001.3gppnetwork.org>;tag=ue1",
                     "To: <sip:\(Self.imsi)@ims.mnc001.mcc001.3gppnetwork.org>", "Call-ID: \(callID)", "CSeq: \(cseq) \(method)"]
        lines += extra
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(body.utf8.count)")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    func sipResponse(_ code: Int, _ reason: String, method: String, callID: String, cseq: Int, fromUE: Bool = false, extra: [String] = [], body: String = "") -> [UInt8] {
        let via = fromUE ? "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKnw\(cseq)" : "SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK\(method.lowercased())\(cseq)"
        var lines = ["SIP/2.0 \(code) \(reason)", "Via: \(via)",
                     "From: <sip:\(Self.imsi)@ims.mnc001.mcc001.3gppnetwork.org>;tag=ue1",
                     "To: <sip:\(Self.imsi)@ims.mnc001.mcc001.3gppnetwork.org>;tag=ims1", "Call-ID: \(callID)", "CSeq: \(cseq) \(method)"]
        lines += extra
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(body.utf8.count)")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    func sip(_ bytes: [UInt8], fromUE: Bool) throws { try inner(fromUE: fromUE, sport: 5060, dport: 5060, payload: bytes) }

    /// REGISTER → 401 → REGISTER (Authorization) → 200, with `finalCode` instead of 200 if given.
    func register(finalCode: Int = 200) throws {
        let domain = "sip:ims.mnc001.mcc001.3gppnetwork.org"
        try sip(sipRequest("REGISTER", domain, callID: "reg-1", cseq: 1, extra: ["Contact: <sip:198.51.100.2:5060>", "Expires: 600"]), fromUE: true)
        try sip(sipResponse(401, "Unauthorized", method: "REGISTER", callID: "reg-1", cseq: 1,
                            extra: ["WWW-Authenticate: Digest realm=\"ims\", nonce=\"AAAA\", algorithm=AKAv1-MD5"]), fromUE: false)
        try sip(sipRequest("REGISTER", domain, callID: "reg-1", cseq: 2,
                           extra: ["Contact: <sip:198.51.100.2:5060>", "Expires: 600",
                                   "Authorization: Digest username=\"\(Self.imsi)@ims\", realm=\"ims\", nonce=\"AAAA\", uri=\"\(domain)\", response=\"00\", algorithm=AKAv1-MD5"]), fromUE: true)
        try sip(sipResponse(finalCode, finalCode == 200 ? "OK" : "Unauthorized", method: "REGISTER", callID: "reg-1", cseq: 2,
                            extra: finalCode == 200 ? ["Contact: <sip:198.51.100.2:5060>;expires=600"] : []), fromUE: false)
    }

    func subscribe() throws {
        let uri = "sip:\(Self.imsi)@ims.mnc001.mcc001.3gppnetwork.org"
        try sip(sipRequest("SUBSCRIBE", uri, callID: "sub-1", cseq: 1, extra: ["Event: reg", "Expires: 600"]), fromUE: true)
        try sip(sipResponse(200, "OK", method: "SUBSCRIBE", callID: "sub-1", cseq: 1, extra: ["Expires: 600"]), fromUE: false)
        try sip(sipRequest("NOTIFY", "sip:198.51.100.2:5060", callID: "sub-1", cseq: 1, fromUE: false, extra: ["Event: reg", "Subscription-State: active"]), fromUE: false)
        try sip(sipResponse(200, "OK", method: "NOTIFY", callID: "sub-1", cseq: 1, fromUE: true), fromUE: true)
    }

    /// INVITE to the echo number, answered, RTP both ways (`echoLossEvery` drops echoes), BYE.
    func call(rtpPackets: Int = 50, echo: Bool = true, bye: Bool = true) throws {
        let uri = "sip:echo@ims.mnc001.mcc001.3gppnetwork.org"
        let offer = "v=0\r\no=- 1 1 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        let answer = "v=0\r\no=- 2 2 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        try sip(sipRequest("INVITE", uri, callID: "call-1", cseq: 1, extra: ["Contact: <sip:198.51.100.2:5060>"], body: offer), fromUE: true)
        try sip(sipResponse(100, "Trying", method: "INVITE", callID: "call-1", cseq: 1), fromUE: false)
        try sip(sipResponse(180, "Ringing", method: "INVITE", callID: "call-1", cseq: 1), fromUE: false)
        try sip(sipResponse(200, "OK", method: "INVITE", callID: "call-1", cseq: 1, extra: ["Contact: <sip:198.51.100.1:5060>"], body: answer), fromUE: false)
        try sip(sipRequest("ACK", "sip:198.51.100.1:5060", callID: "call-1", cseq: 1), fromUE: true)
        for i in 0..<rtpPackets {
            let rtp = Self.rtp(seq: UInt16(1000 + i), ssrc: 0x1122_3344, ts: UInt32(i * 160))
            try inner(fromUE: true, sport: 50000, dport: 40000, payload: rtp, dt: 0.02)
            if echo { try inner(fromUE: false, sport: 40000, dport: 50000, payload: Self.rtp(seq: UInt16(7000 + i), ssrc: 0x5566_7788, ts: UInt32(i * 160)), dt: 0.001) }
        }
        if bye {
            try sip(sipRequest("BYE", "sip:198.51.100.1:5060", callID: "call-1", cseq: 2), fromUE: true)
            try sip(sipResponse(200, "OK", method: "BYE", callID: "call-1", cseq: 2), fromUE: false)
        }
    }

    static func rtp(seq: UInt16, ssrc: UInt32, ts: UInt32) -> [UInt8] {
        var p: [UInt8] = [0x80, 0x00, UInt8(seq >> 8), UInt8(seq & 0xFF)]
        p += [UInt8(ts >> 24), UInt8((ts >> 16) & 0xFF), UInt8((ts >> 8) & 0xFF), UInt8(ts & 0xFF)]
        p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        return p + [UInt8](repeating: 0xD5, count: 160)
    }

    /// The phone deletes its IKE SA (INFORMATIONAL with D(IKE)); the ePDG answers.
    func detach() {
        now += 0.5
        exchange(ue.delete(now: now), fromUE: true)
    }

    func close() { pcap.close() }

    /// Analyzes the capture with the key directory as `vowifi analyze --keys` does.
    func analyze(policy: IKEResponderPolicy? = nil, logText: String? = nil, keys: Bool = true) throws -> AnalysisReport {
        close()
        let reader = try PcapNGReader(path: capturePath)
        let tables = keys ? KeyTables.load(directory: keyDir) : KeyTables()
        return FlowAnalyzer(options: .init(keys: tables, policy: policy, logText: logText)).analyze(packets: reader.packets, source: capturePath)
    }

    var epdgLog: String {
        epdgActions.compactMap { if case let .log(l) = $0 { l.description } else { nil } }.joined(separator: "\n")
    }
}
