import Crypto
import ESP
import IKEv2
import SIP
import Wire

/// The SWu side of the phone: IKE actions to datagrams and steps, the Child SA into ESP SAs.
extension Phone {
    func ikeDatagram(_ bytes: [UInt8], from: IKEEndpoint, to: IKEEndpoint, now: Double) -> [PhoneAction] {
        guard let ike else { return [] }
        var out: [PhoneAction] = config.traces ? [.trace(PhoneTrace(at: now, direction: .received, layer: "IKEv2", summary: Phone.describeIKE(bytes)))] : []
        out += handleIKE(ike.handle(datagram: bytes, from: from, to: to, now: now), now: now)
        return out
    }

    /// Performs IKE actions, then follows the initiator's state into steps.
    func handleIKE(_ actions: [IKEAction], now: Double) -> [PhoneAction] {
        var out = mapIKE(actions, now: now)
        guard let ike, finished == nil else {
            if let ike { lastIKEState = ike.state }
            return out
        }
        let state = ike.state
        defer { lastIKEState = ike.state }
        if state == lastIKEState { return out }
        switch state {
        case .authSent where current?.step == .ikeSAInit:
            out += pass(ike.suite.map { "\($0)" + (ike.natDetected ? ", NAT detected" : "") } ?? "", now: now, next: .ikeAuth)
        case .established:
            if config.profile.rejectsAuthInFirstAuthResponse, ike.responderUsedCertificate {
                return out + fail("the ePDG sent AUTH in its first IKE_AUTH response; this phone needs omit_auth_in_first_auth_rsp", now: now)
            }
            out += pass((config.profile.eapMethod == .akaPrime ? "EAP-AKA'" : "EAP-AKA") + ", MSK AUTH verified"
                        + (ike.secondAuthentication.map { "; second authentication \($0), SK_p AUTH verified" } ?? ""), now: now, next: .childSA)
            out += tunnelUp(now: now)
        case let .failed(reason, notify):
            var why = reason + (notify.map { reason.contains($0.name) ? "" : " (\($0.name))" } ?? "")
            if let p = eapProblem { why += " after the phone's " + Phone.explainEAPProblem(p) }
            out += fail(why, now: now)
        default: break
        }
        return out
    }

    /// Maps IKE actions to host actions; installs Child SAs.
    func mapIKE(_ actions: [IKEAction], now: Double) -> [PhoneAction] {
        var out: [PhoneAction] = []
        for a in actions {
            switch a {
            case let .send(bytes, from, to):
                // RFC 3948 §2.2: IKE on the NAT-T port carries the non-ESP marker.
                let marker = to.port == config.natTPort
                if config.traces { out.append(.trace(PhoneTrace(at: now, direction: .sent, layer: "IKEv2", summary: Phone.describeIKE(bytes)))) }
                out.append(.sendIKE(marker ? UDPEncapsulation.nonESPMarker + bytes : bytes, from: from, to: to))
            case let .installChildSA(c):
                installChild(c, now: now)
            case .deleteChildSA(let inSPI, _):
                espIn.sad.removeInbound(spi: inSPI)
                espOut = nil
            case let .armTimer(at):
                ikeWake = min(ikeWake ?? at, at)
            case let .log(l):
                // The USIM's or EAP peer's own verdict explains a later EAP-Failure.
                if l.layer == "eap", l.level <= .warning { eapProblem = l.message }
                out.append(.log(l.description))
            case let .ikeSADeleted(_, _, reason):
                // The ePDG (or a dead peer) ended the tunnel under a running scenario.
                if finished == nil, current?.step != .ikeDelete, ike?.state == .established {
                    out += fail("IKE SA closed: \(reason)", now: now)
                }
            case .ikeSAEstablished, .ikeSARekeyed, .ikeSARedundant, .peerAddressChanged:
                break
            }
        }
        if let w = ike?.wakeup { ikeWake = w }
        return out
    }

    func installChild(_ c: ChildSADescription, now: Double) {
        do {
            let inT = try ESPTransform(encryption: c.suite.encryption, encryptionKey: c.inboundEncryptionKey,
                                       integrity: c.suite.integrity, integrityKey: c.inboundIntegrityKey)
            let outT = try ESPTransform(encryption: c.suite.encryption, encryptionKey: c.outboundEncryptionKey,
                                        integrity: c.suite.integrity, integrityKey: c.outboundIntegrityKey)
            espIn.sad.addInbound(ESPSecurityAssociation(spi: c.inboundSPI, direction: .inbound, transform: inT,
                                                        esn: c.suite.extendedSequenceNumbers, owner: config.sim.imsi, now: now))
            espOut = ESPSecurityAssociation(spi: c.outboundSPI, direction: .outbound, transform: outT,
                                            esn: c.suite.extendedSequenceNumbers, owner: config.sim.imsi, now: now)
            child = c
        } catch {
            child = nil
        }
    }

    /// IKE_AUTH done: the Child SA and CFG_REPLY decide the inner address and the P-CSCF.
    func tunnelUp(now: Double) -> [PhoneAction] {
        guard let ike, let c = child, espOut != nil else { return fail("no usable Child SA in the IKE_AUTH response", now: now) }
        let a = ike.assigned
        // Prefer IPv4 when both the address and a P-CSCF of that family were given.
        let chosen: (IPAddress, IPAddress)
        if let v4 = a?.ipv4, let p = a?.pcscf.first(where: { $0.isIPv4 }) {
            chosen = (v4, p)
        } else if let v6 = a?.ipv6, let p = a?.pcscf.first(where: { $0.isIPv6 }) {
            chosen = (v6, p)
        } else {
            return fail("CFG_REPLY lacks an inner address with a P-CSCF of the same family (got \(a.map { "\($0)" } ?? "none"))", now: now)
        }
        innerAddress = chosen.0
        pcscf = chosen.1
        let detail = "ESP \(c.suite) in=0x\(Hex.spi(c.inboundSPI)) out=0x\(Hex.spi(c.outboundSPI)), "
            + "inner \(chosen.0), P-CSCF \(chosen.1)" + (c.udpEncapsulation ? ", UDP-encapsulated" : "")
        if config.scenario == .attach { return pass(detail, now: now) + complete(now: now) }
        var out = pass(detail, now: now, next: .register)
        out += startSIP(usim: ike.usim, now: now)
        return out
    }

    /// Encrypts an inner packet toward the ePDG.
    func sendInner(_ packet: [UInt8]) -> [PhoneAction] {
        guard let sa = espOut, let c = child else { return [] }
        let nh: UInt8 = packet.first.map { $0 >> 4 == 6 ? 41 : 4 } ?? 4
        let sealed = packet.withUnsafeBytes { ESPPacket.seal($0, nextHeader: nh, sa: sa) }
        guard case let .success(esp) = sealed else { return [] }
        return [.sendESP(esp, from: c.local, to: c.remote, udpEncapsulated: c.udpEncapsulation)]
    }

    /// An inner IP packet out of the tunnel: SIP to the user agent, RTP to the echo checker.
    func innerPacket(_ inner: [UInt8], now: Double) -> [PhoneAction] {
        // No TCP stack here: a connection attempt (the IMS sending a large request over TCP,
        // RFC 3261 §18.1.1) is reset at once, as a closed port would, so it retries over UDP.
        if let rst = IPPacket.tcpReset(for: inner) { return sendInner(rst) }
        guard let u = IPPacket.parseUDP(inner), let src = IPAddress(bytes: u.src) else { return [] }
        if u.dport == config.sipPort, ua != nil {
            return sipDatagram(u.payload, from: SIPPeer(address: src.description, port: u.sport, transport: .udp), now: now)
        }
        if u.dport == config.rtpPort {
            if rtp != nil {
                rtp?.receive(u.payload, now: now)
            } else if media != nil, let back = innerUDP(to: src, sport: config.rtpPort, dport: u.sport, payload: u.payload) {
                // Answering side of a phone-to-phone call: loop the caller's media back to it.
                return sendInner(back)
            }
        }
        return []
    }

    /// Wraps a UDP payload in an inner IPv4/IPv6 header from our inner address.
    func innerUDP(to dst: IPAddress, sport: UInt16, dport: UInt16, payload: [UInt8]) -> [UInt8]? {
        guard let src = innerAddress, src.isIPv4 == dst.isIPv4 else { return nil }
        ipID &+= 1
        return src.isIPv4 ? IPPacket.udp4(src: src.bytes, dst: dst.bytes, sport: sport, dport: dport, payload: payload, id: ipID)
                          : IPPacket.udp6(src: src.bytes, dst: dst.bytes, sport: sport, dport: dport, payload: payload)
    }

    /// Why the phone's side refused the EAP challenge, in the words a tester needs.
    static func explainEAPProblem(_ log: String) -> String {
        if log.contains("AUTN MAC failure") {
            return "AKA-Authentication-Reject: the AUTN MAC does not verify with this SIM (wrong K, OP/OPc or algorithm, or another network's vector)"
        }
        if log.contains("AT_MAC") { return "EAP-AKA-Client-Error: the challenge's AT_MAC does not verify with this SIM's keys" }
        return log
    }

    /// "IKE_SA_INIT request #0" style summary of an IKE datagram.
    static func describeIKE(_ bytes: [UInt8]) -> String {
        guard let h = try? IKEMessage.peekHeader(bytes) else { return "\(bytes.count) bytes (not IKE)" }
        return "\(h.exchangeType) \(h.isResponse ? "response" : "request") #\(h.messageID)"
    }
}
