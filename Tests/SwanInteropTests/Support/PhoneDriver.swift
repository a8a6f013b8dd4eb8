import AKA
import ESP
import Foundation
import Glibc
import IKEv2
import Wire

/// Our IKEv2 initiator (the simulated phone's: EAP-AKA with a software USIM) and a userspace
/// ESP pair on real UDP sockets 500/4500 in the phone's namespace, driven by this test thread.
final class PhoneDriver {
    let ike: IKEInitiator
    let s500: Int32
    let s4500: Int32
    var espIn = ESPDataPlane()
    var espOut: ESPSecurityAssociation?
    var child: ChildSADescription?
    var logs: [String] = []
    var inner: [[UInt8]] = []
    var established = false
    /// Wireshark UAT rows (ikev2_decryption_table, esp_sa) for the SAs this phone made.
    var keyRows: (ike: [String], esp: [String]) = ([], [])
    let start = Date()

    var now: Double { Date().timeIntervalSince(start) }

    init(ns: String, local: String, epdg: String, config: IKEInitiatorConfig, usim: USIM) throws {
        s500 = try NetnsSocket.udp4(in: ns, address: local, port: 500)
        s4500 = try NetnsSocket.udp4(in: ns, address: local, port: 4500)
        guard let l = IPAddress(local), let r = IPAddress(epdg) else { throw NetnsSocket.Failure(description: "bad address") }
        ike = IKEInitiator(config: config, usim: usim, local: IKEEndpoint(l, 500), remote: IKEEndpoint(r, 500), now: 0)
    }

    deinit { close(s500); close(s4500) }

    func perform(_ actions: [IKEAction]) {
        for a in actions {
            switch a {
            case let .send(bytes, from, to):
                if from.port == 500 && to.port == 500 {
                    NetnsSocket.send(s500, bytes, to: to.address.description, port: to.port)
                } else {
                    NetnsSocket.send(s4500, UDPEncapsulation.nonESPMarker + bytes, to: to.address.description, port: to.port)
                }
            case let .installChildSA(c):
                install(c)
            case let .log(e):
                logs.append(e.description)
            case let .ikeSAEstablished(info):
                established = true
                keyRows.ike.append(WiresharkIKEv2Table.row(spii: info.spiI, spir: info.spiR, encryption: info.suite.encryption,
                                                          skEi: info.keys.SK_ei, skEr: info.keys.SK_er, integrity: info.suite.integrity,
                                                          skAi: info.keys.SK_ai, skAr: info.keys.SK_ar))
            case let .ikeSADeleted(_, _, reason):
                logs.append("IKE SA deleted: \(reason)")
            default:
                break
            }
        }
    }

    func install(_ c: ChildSADescription) {
        do {
            let inT = try ESPTransform(encryption: c.suite.encryption, encryptionKey: c.inboundEncryptionKey,
                                       integrity: c.suite.integrity, integrityKey: c.inboundIntegrityKey)
            let outT = try ESPTransform(encryption: c.suite.encryption, encryptionKey: c.outboundEncryptionKey,
                                        integrity: c.suite.integrity, integrityKey: c.outboundIntegrityKey)
            let inSA = ESPSecurityAssociation(spi: c.inboundSPI, direction: .inbound, transform: inT,
                                              esn: c.suite.extendedSequenceNumbers, owner: "phone")
            let outSA = ESPSecurityAssociation(spi: c.outboundSPI, direction: .outbound, transform: outT,
                                               esn: c.suite.extendedSequenceNumbers, owner: "phone")
            espIn.sad.addInbound(inSA)
            espOut = outSA
            keyRows.esp.append(WiresharkESPSA.row(sa: inSA, source: c.remote.address.description, destination: c.local.address.description))
            keyRows.esp.append(WiresharkESPSA.row(sa: outSA, source: c.local.address.description, destination: c.remote.address.description))
            child = c
        } catch {
            logs.append("cannot install Child SA: \(error)")
        }
    }

    /// Handles datagrams and timers until `done` or `seconds` pass.
    @discardableResult
    func run(seconds: Double, until done: () -> Bool) -> Bool {
        let end = now + seconds
        while now < end {
            if done() { return true }
            if let w = ike.wakeup, w <= now { perform(ike.poll(now: now)) }
            guard let (fd, bytes, addr, port) = NetnsSocket.receive([s500, s4500], timeoutMs: 100), let src = IPAddress(addr) else { continue }
            let from = IKEEndpoint(src, port)
            let to = IKEEndpoint(ike.local.address, fd == s500 ? 500 : 4500)
            if fd == s500 {
                perform(ike.handle(datagram: bytes, from: from, to: to, now: now))
                continue
            }
            for r in espIn.receive(udpPayload: bytes) {
                switch r {
                case let .ike(message): perform(ike.handle(datagram: message, from: from, to: to, now: now))
                case let .deliver(packet, _, _): inner.append(packet)
                case let .dropped(spi, reason): logs.append("ESP dropped spi=\(spi.map { String($0, radix: 16) } ?? "-"): \(reason)")
                default: break
                }
            }
        }
        return done()
    }

    func connect(seconds: Double = 20) -> Bool {
        perform(ike.start(now: now))
        return run(seconds: seconds) {
            if case .failed = ike.state { return true }
            return established && child != nil
        } && established
    }

    /// Sends an inner IP packet through the tunnel (next header 4 or 41 by its version).
    func sendInner(_ packet: [UInt8]) {
        guard let sa = espOut, let c = child else { return }
        let nh: UInt8 = packet.first.map { $0 >> 4 == 6 ? 41 : 4 } ?? 4
        let sealed = packet.withUnsafeBytes { ESPPacket.seal($0, nextHeader: nh, sa: sa) }
        guard case let .success(esp) = sealed else { logs.append("ESP seal failed"); return }
        NetnsSocket.send(s4500, esp, to: c.remote.address.description, port: c.remote.port)
    }

    /// ICMP echo requests from the inner IPv4 address to `dst` through the tunnel; the number
    /// of matching echo replies that came back decrypted.
    func ping(_ dst: [UInt8], count: Int) -> Int {
        guard let src = ike.assigned?.ipv4?.bytes else { return 0 }
        return echoes(count: count, tag: "swan-phone",
                      request: { ICMP.echo4(src: src, dst: dst, id: 0x5157, seq: $0, payload: $1) },
                      isReply: { ICMP.isEchoReply4($0, from: dst, to: src, id: 0x5157, seq: $1, payload: $2) })
    }

    /// ICMPv6 echo requests from the inner IPv6 address to `dst` through the tunnel.
    func ping6(_ dst: [UInt8], count: Int) -> Int {
        guard let src = ike.assigned?.ipv6?.bytes else { return 0 }
        return echoes(count: count, tag: "swan-phone6",
                      request: { ICMP.echo6(src: src, dst: dst, id: 0x5158, seq: $0, payload: $1) },
                      isReply: { ICMP.isEchoReply6($0, from: dst, to: src, id: 0x5158, seq: $1, payload: $2) })
    }

    /// `count` echo requests one after another, each waiting up to 3 s for its reply.
    private func echoes(count: Int, tag: String, request: (UInt16, [UInt8]) -> [UInt8],
                        isReply: ([UInt8], UInt16, [UInt8]) -> Bool) -> Int {
        var ok = 0
        for seq in 0..<count {
            let payload = Array("\(tag)-\(seq)".utf8) + SecureRandomBytes.make(24)
            inner.removeAll()
            sendInner(request(UInt16(seq), payload))
            if run(seconds: 3, until: { inner.contains { isReply($0, UInt16(seq), payload) } }) { ok += 1 }
        }
        return ok
    }
}

enum SecureRandomBytes {
    static func make(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255) } }
}

/// IPv4 ICMP echo packets for the tunnel probe.
enum ICMP {
    static func checksum(_ b: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var i = b.startIndex
        while i < b.endIndex {
            let hi = UInt32(b[i]) << 8
            let lo = i + 1 < b.endIndex ? UInt32(b[i + 1]) : 0
            sum += hi | lo
            i += 2
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func echo4(src: [UInt8], dst: [UInt8], id: UInt16, seq: UInt16, payload: [UInt8]) -> [UInt8] {
        var icmp: [UInt8] = [8, 0, 0, 0, UInt8(id >> 8), UInt8(id & 0xff), UInt8(seq >> 8), UInt8(seq & 0xff)] + payload
        let c = checksum(icmp[...])
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xff)
        let total = 20 + icmp.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0x40, 0, 64, 1, 0, 0] + src + dst
        let ic = checksum(ip[...])
        ip[10] = UInt8(ic >> 8); ip[11] = UInt8(ic & 0xff)
        return ip + icmp
    }

    /// ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1) and the message.
    static func checksum6(src: [UInt8], dst: [UInt8], icmp: [UInt8]) -> UInt16 {
        let n = icmp.count
        let pseudo = src + dst + [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), 0, 0, 0, 58]
        return checksum((pseudo + icmp)[...])
    }

    static func echo6(src: [UInt8], dst: [UInt8], id: UInt16, seq: UInt16, payload: [UInt8]) -> [UInt8] {
        var icmp: [UInt8] = [128, 0, 0, 0, UInt8(id >> 8), UInt8(id & 0xff), UInt8(seq >> 8), UInt8(seq & 0xff)] + payload
        let c = checksum6(src: src, dst: dst, icmp: icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xff)
        return [0x60, 0, 0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xff), 58, 64] + src + dst + icmp
    }

    static func isEchoReply6(_ p: [UInt8], from: [UInt8], to: [UInt8], id: UInt16, seq: UInt16, payload: [UInt8]) -> Bool {
        guard p.count >= 48, p[0] >> 4 == 6, p[6] == 58, Array(p[8..<24]) == from, Array(p[24..<40]) == to else { return false }
        let b = Array(p[40...])
        return b[0] == 129 && UInt16(b[4]) << 8 | UInt16(b[5]) == id && UInt16(b[6]) << 8 | UInt16(b[7]) == seq
            && Array(b[8...]) == payload && checksum6(src: from, dst: to, icmp: b) == 0
    }

    static func isEchoReply4(_ p: [UInt8], from: [UInt8], to: [UInt8], id: UInt16, seq: UInt16, payload: [UInt8]) -> Bool {
        guard p.count >= 28, p[0] >> 4 == 4, p[9] == 1 else { return false }
        let ihl = Int(p[0] & 0x0f) * 4
        guard p.count >= ihl + 8, Array(p[12..<16]) == from, Array(p[16..<20]) == to else { return false }
        let icmp = p[ihl...]
        let b = Array(icmp)
        return b[0] == 0 && UInt16(b[4]) << 8 | UInt16(b[5]) == id && UInt16(b[6]) << 8 | UInt16(b[7]) == seq
            && Array(b[8...]) == payload && checksum(icmp) == 0
    }
}
