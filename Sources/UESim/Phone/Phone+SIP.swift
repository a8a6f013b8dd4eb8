import AKA
import IKEv2
import SIP
import Wire
import Crypto

/// The IMS side of the phone: SIP over inner UDP through the tunnel, the call and its media.
extension Phone {
    func startSIP(usim: USIM, now: Double) -> [PhoneAction] {
        guard let inner = innerAddress, let p = pcscf else { return [] }
        let plmn = config.plmn
        var c = SIPUAConfig.derived(imsi: config.sim.imsi, mcc: plmn.mcc, mnc: plmn.mnc, localAddress: inner.description,
                                    pcscf: SIPPeer(address: p.description, port: 5060, transport: .udp))
        c.localPort = config.sipPort
        c.rtpPort = config.rtpPort
        c.password = config.sipPassword
        c.preconditions = config.preconditions
        c.sessionExpires = config.sessionExpires
        c.minSE = config.minSE
        c.idSeed = config.idSeed ?? SecureRandom.uint64()
        if let imei = config.imei, imei.count >= 14 {
            let d = Array(imei)
            c.instanceID = "<urn:gsma:imei:\(String(d[0..<8]))-\(String(d[8..<14]))-0>"
        }
        var u = SIPUserAgent(config: c, usim: usim)
        let o = u.register(now: now)
        ua = u
        return handleSIP(o, now: now)
    }

    func sipDatagram(_ bytes: [UInt8], from: SIPPeer, now: Double) -> [PhoneAction] {
        // Parsed once, for the trace and the user agent both.
        guard var u = ua, let m = try? SIPMessage(parsing: bytes) else { return [] }
        var out: [PhoneAction] = []
        if config.traces {
            out.append(.trace(PhoneTrace(at: now, direction: .received, layer: "SIP", summary: Phone.describeSIP(m))))
        }
        let o = u.receive(m, from: from, now: now)
        ua = u
        return out + handleSIP(o, now: now)
    }

    /// Sends what the user agent asks and moves the scenario on from its events.
    func handleSIP(_ outputs: [SIPUAOutput], now: Double) -> [PhoneAction] {
        var out: [PhoneAction] = []
        for o in outputs {
            switch o {
            case let .send(m, peer):
                guard let dst = IPAddress(peer.address),
                      let pkt = innerUDP(to: dst, sport: config.sipPort, dport: peer.port, payload: m.serialized()) else { continue }
                if config.traces { out.append(.trace(PhoneTrace(at: now, direction: .sent, layer: "SIP", summary: Phone.describeSIP(m)))) }
                out += sendInner(pkt)
            case let .event(e):
                out += sipEvent(e, now: now)
            }
            if !isActive { break }
        }
        return out
    }

    func sipEvent(_ e: SIPUAEvent, now: Double) -> [PhoneAction] {
        switch e {
        case let .registered(expires, serviceRoute, uris):
            guard current?.step == .register else { return [] }
            let detail = (challenges.isEmpty ? "no challenge" : challenges.joined(separator: ", ") + " challenge") + ", expires \(expires)" + (uris.first.map { ", \($0)" } ?? "") + (serviceRoute.isEmpty ? "" : ", Service-Route \(serviceRoute[0])")
            var out = pass(detail, now: now, next: .subscribe)
            out += withUA(now: now) { $0.subscribeRegEvent(now: now) }
            return out
        case let .registrationFailed(status, reason):
            return fail("\(status) \(reason)", now: now)
        case .akaMACFailure:
            return fail("AKA MAC failure: the network is not authentic", now: now)
        case let .subscribed(expires):
            guard current?.step == .subscribe else { return [] }
            if config.scenario == .register { return pass("expires \(expires)", now: now) + complete(now: now) }
            var out = pass("expires \(expires)", now: now, next: .invite)
            let target = config.profile.callTarget ?? config.callTarget
            do { out += try withUAThrowing(now: now) { try $0.invite(target, now: now) } } catch { out += fail("\(error)", now: now) }
            return out
        case let .subscriptionFailed(status, reason):
            return fail("SUBSCRIBE: \(status) \(reason)", now: now)
        case let .notified(subState, regState):
            return record(PhoneEvent(step: .notify, start: now, end: now, verdict: regState == "active" ? .pass : .info("registration \(regState ?? "?")"),
                                     detail: "Subscription-State \(subState), registration \(regState ?? "?")"))
        case let .incomingCall(from):
            return record(PhoneEvent(step: .note, start: now, end: now, verdict: .info("incoming call"), detail: "from \(from), answered"))
        case let .callEstablished(m):
            guard current?.step == .invite else {
                // The answering side of a phone-to-phone call: echo the caller's RTP back.
                media = m
                return record(PhoneEvent(step: .note, start: now, end: now, verdict: .info("incoming call up"),
                                         detail: "\(m.codec) PT \(m.payloadType) from \(m.address):\(m.port), echoing"))
            }
            media = m
            var out = pass("\(m.codec)/\(m.clockRate) PT \(m.payloadType) to \(m.address):\(m.port)", now: now, next: .media)
            out += startMedia(m, now: now)
            return out
        case let .callFailed(status, reason):
            guard current?.step == .invite || current?.step == .media || current?.step == .bye else { return [] }
            return fail("call: \(status) \(reason)", now: now)
        case let .callEnded(byRemote):
            guard current?.step == .bye else {
                media = nil
                return record(PhoneEvent(step: .note, start: now, end: now, verdict: .info("call ended"), detail: byRemote ? "by the peer" : "locally"))
            }
            return pass("200 OK", now: now) + complete(now: now)
        case let .timedOut(method):
            return current == nil ? [] : fail("no response to \(method)", now: now)
        case .akaSyncFailure:
            return record(PhoneEvent(step: .note, start: now, end: now, verdict: .info("IMS AKA sync failure"), detail: "REGISTER re-sent with auts="))
        case let .challenged(algorithm):
            challenges.append(algorithm)
            return []
        case .callProgress, .prackSent, .updateSent, .deregistered, .sessionRefreshed, .sessionExpired:
            return []
        }
    }

    /// Runs a user-agent call on our copy and handles what it returns.
    func withUA(now: Double, _ f: (inout SIPUserAgent) -> [SIPUAOutput]) -> [PhoneAction] {
        guard var u = ua else { return [] }
        let o = f(&u)
        ua = u
        return handleSIP(o, now: now)
    }

    func withUAThrowing(now: Double, _ f: (inout SIPUserAgent) throws -> [SIPUAOutput]) throws -> [PhoneAction] {
        guard var u = ua else { return [] }
        let o = try f(&u)
        ua = u
        return handleSIP(o, now: now)
    }

    // MARK: media

    func startMedia(_ m: RemoteMedia, now: Double) -> [PhoneAction] {
        let ptime = 0.02
        var s = RTPStream(sender: RTPSender(ssrc: SecureRandom.uint32(), payloadType: m.payloadType, clockRate: m.clockRate, packetTime: ptime,
                                            initialSequence: UInt16(truncatingIfNeeded: SecureRandom.uint32()),
                                            initialTimestamp: SecureRandom.uint32()),
                          duration: config.mediaDuration)
        let pkts = s.start(now: now)
        rtp = s
        return sendRTP(pkts, to: m) + [.trace(PhoneTrace(at: now, direction: .sent, layer: "RTP",
                                                          summary: "\(s.packetCount) packets PT \(m.payloadType) every 20 ms to \(m.address):\(m.port)"))]
    }

    func sendRTP(_ packets: [[UInt8]], to m: RemoteMedia) -> [PhoneAction] {
        guard let dst = IPAddress(m.address) else { return [] }
        return packets.flatMap { p in innerUDP(to: dst, sport: config.rtpPort, dport: m.port, payload: p).map { sendInner($0) } ?? [] }
    }

    /// Sends due RTP; once all is sent and echoes had time to come back, judges the echo and hangs up.
    func mediaTick(now: Double) -> [PhoneAction] {
        guard var s = rtp, let m = media, current?.step == .media else { return [] }
        let pkts = s.tick(now: now)
        rtp = s
        var out = sendRTP(pkts, to: m)
        if s.finishedSending, mediaEndAt == nil { mediaEndAt = now + 0.5 }
        if let end = mediaEndAt, now >= end {
            mediaEndAt = nil
            let r = s.report(now: now, grace: 0.5)
            out.append(.trace(PhoneTrace(at: now, direction: .received, layer: "RTP", summary: r.description)))
            guard r.passed else { return out + fail("echo: \(r)", now: now) }
            out += pass(r.description, now: now, next: .bye)
            out += withUA(now: now) { $0.hangUp(now: now) }
        }
        return out
    }

    static func describeSIP(_ m: SIPMessage) -> String {
        let cseq = m.header("CSeq").map { " (\($0))" } ?? ""
        switch m.startLine {
        case let .request(method, uri): return "\(method) \(uri)" + cseq
        case let .response(code, reason): return "\(code) \(reason)" + cseq
        }
    }
}
