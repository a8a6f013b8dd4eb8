import SIP

/// A call answered by the IMS itself (echo list): UAS side of INVITE with 100rel (RFC 3262),
/// preconditions (RFC 3312) completed by UPDATE (RFC 3311), then 180/200, ACK and BYE.
struct EchoCall: Sendable {
    enum Phase: Sendable { case waitingPRACK, waitingUpdate, answered, active }

    let callID: String
    let localTag: String
    let invite: SIPMessage
    let peer: SIPPeer
    var media: IMSMediaSession
    var answerSDP: SDPSession
    let use100rel: Bool
    let usePrecondition: Bool
    var preconditionsMet: Bool
    var phase: Phase
    var sdpSent = false
    var sessionID: UInt64
    var sdpVersion: UInt64
    var rseq: UInt32 = 0
    // RFC 3262 §3: retransmit the reliable provisional until PRACK.
    var reliableProvisional: SIPMessage? = nil
    var relInterval: Double = 0
    var relNext: Double? = nil
    var relGiveUp: Double = 0
    // RFC 3261 §13.3.1.4: retransmit the 2xx until ACK.
    var okResponse: SIPMessage? = nil
    var okInterval: Double = 0
    var okNext: Double? = nil
    var okGiveUp: Double = 0
    /// RFC 4028: what the INVITE negotiated (put in the 2xx), then the running timer.
    var negotiatedTimer: SIPSessionExpires? = nil
    var session: EchoSessionTimer? = nil
    /// The dialog as we (its UAS) send requests in it: refreshes and BYE.
    var dialog: SIPDialog? = nil

    var nextDeadline: Double? { [relNext, okNext, session?.nextDeadline].compactMap { $0 }.min() }
}

extension IMSCore {
    /// A new INVITE that is not proxied: echo entries, or 404/480 for other targets.
    func handleInitialInvite(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        var out = respond(makeResponse(to: m, code: 100), now: now, fallback: peer)
        guard let uri = m.requestURI, let from = try? m.from(), let callID = try? m.callID() else {
            return out + reply(m, 400, peer: peer, now: now)
        }
        let entry = echoEntry(for: uri)
        let callerRegistered = isRegisteredCaller(m, peer: peer)
        guard callerRegistered || (entry?.anonymous ?? false) else { return out + reply(m, 403, peer: peer, now: now) }
        guard let entry else {
            return out + reply(m, isKnownIMPU(uri) ? 480 : 404, peer: peer, now: now)
        }
        if let code = entry.code { return out + reply(m, code, peer: peer, now: now) }

        guard m.contentType == "application/sdp", let offer = try? SDPSession(parsing: m.body) else {
            return out + reply(m, 488, peer: peer, now: now)
        }
        let timer = negotiateSessionTimer(m)
        if case .tooSmall(let minSE) = timer {
            return out + respond(tooSmallResponse(to: m, minSE: minSE), now: now, fallback: peer)
        }
        let local = arrivalAddress(from: peer)
        guard let port = allocateMediaPort(on: local) else { return out + reply(m, 503, peer: peer, now: now) }
        let sessionID = UInt64(now * 1000) & 0xFFFF_FFFF
        let answer: SDPAnswerer.Answer
        do {
            answer = try SDPAnswerer().answer(offer: offer, localAddress: local, localPort: port, sessionID: sessionID, version: 1)
        } catch {
            releaseMediaPort(port)
            var r = makeResponse(to: m, code: 488)
            r.addHeader("Warning", "304 \(config.sipAddresses.first ?? "ims") \"\(error)\"")
            return out + respond(r, now: now, fallback: peer)
        }
        let tags = m.optionTags("Supported").union(m.optionTags("Require"))
        let use100rel = tags.contains("100rel") && (config.use100rel || m.optionTags("Require").contains("100rel"))
        let offerAudio = offer.media.first { $0.media == "audio" && $0.port != 0 }
        let pre = offerAudio.map(SDPPreconditions.init)
        let usePrecondition = use100rel && config.precondition == .on && tags.contains("precondition") && (pre?.isPresent ?? false)
        let media = IMSMediaSession(id: callID, localAddress: local, localRTPPort: port, localRTCPPort: port + 1,
                                    remoteAddress: answer.remoteAddress, remoteRTPPort: answer.remoteRTPPort,
                                    remoteRTCPPort: answer.remoteRTCPPort, payloadType: answer.payloadType, encoding: answer.encoding)
        var call = EchoCall(callID: callID, localTag: newToken(), invite: m, peer: peer, media: media,
                            answerSDP: answer.sdp, use100rel: use100rel, usePrecondition: usePrecondition,
                            preconditionsMet: pre?.currentLocal == "sendrecv", phase: .waitingPRACK,
                            sessionID: sessionID, sdpVersion: 1)
        if case .use(let se) = timer { call.negotiatedTimer = se }
        out.append(.openMedia(media))
        out.append(.event(.callStarted(callID: callID, from: from.uri.description, to: uri.description, kind: "echo")))
        if use100rel {
            // 183 Session Progress with the answer, sent reliably (RSeq), waiting for PRACK.
            call.rseq = 1
            var r = dialogResponse(to: m, code: 183, call: call)
            r.addHeader("Require", usePrecondition ? "100rel, precondition" : "100rel")
            r.addHeader("RSeq", String(call.rseq))
            r.addHeader("Content-Type", "application/sdp")
            r.body = call.answerSDP.serialized()
            call.sdpSent = true
            call.reliableProvisional = r
            call.relInterval = config.timers.t1
            call.relNext = peer.transport.isReliable ? nil : now + config.timers.t1
            call.relGiveUp = now + config.timers.timeout
            echoCalls[callID] = call
            return out + respond(r, now: now, fallback: peer)
        }
        echoCalls[callID] = call
        return out + answerEcho(callID, now: now)
    }

    /// Ringing then 200 OK (with the SDP answer unless a reliable 183 carried it).
    func answerEcho(_ id: String, now: Double) -> [IMSAction] {
        guard var call = echoCalls[id] else { return [] }
        var out = respond(dialogResponse(to: call.invite, code: 180, call: call), now: now, fallback: call.peer)
        var ok = dialogResponse(to: call.invite, code: 200, call: call)
        ok.addHeader("Allow", IMSCore.allow)
        if let se = call.negotiatedTimer { IMSCore.addSessionTimer(se, to: &ok) }
        if !call.sdpSent {
            ok.addHeader("Content-Type", "application/sdp")
            ok.body = call.answerSDP.serialized()
            call.sdpSent = true
        }
        call.okResponse = ok
        call.okInterval = config.timers.t1
        call.okNext = now + config.timers.t1
        call.okGiveUp = now + config.timers.timeout
        call.phase = .answered
        echoCalls[id] = call
        armSessionTimer(id, call.negotiatedTimer, now: now)
        out += respond(ok, now: now, fallback: call.peer)
        return out
    }

    /// In-dialog requests and CANCEL for an echo call.
    func echoRequest(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        guard let id = try? m.callID(), var call = echoCalls[id], let method = m.method else { return [] }
        switch method {
        case "ACK":
            if call.phase == .answered {
                call.phase = .active
                call.okNext = nil
                echoCalls[id] = call
            }
            return []
        case "PRACK":
            // RAck: response-num CSeq-num method (RFC 3262 §7.2).
            let rack = m.header("RAck")?.split(separator: " ").map(String.init) ?? []
            guard call.phase == .waitingPRACK, rack.count == 3, UInt32(rack[0]) == call.rseq else {
                return reply(m, 481, peer: peer, now: now)
            }
            call.reliableProvisional = nil
            call.relNext = nil
            call.phase = call.usePrecondition && !call.preconditionsMet ? .waitingUpdate : .answered
            echoCalls[id] = call
            var out = respond(dialogResponse(to: m, code: 200, call: call), now: now, fallback: peer)
            if call.phase == .answered { out += answerEcho(id, now: now) }
            return out
        case "UPDATE", "INVITE":
            // An UPDATE completing preconditions, a session refresh, or a re-INVITE.
            var r = dialogResponse(to: m, code: 200, call: call)
            // Once answered, every re-INVITE/UPDATE is a session refresh (RFC 4028 §10).
            var refresh: SIPSessionExpires? = nil
            let isRefresh = call.phase == .answered || call.phase == .active
            if isRefresh {
                switch negotiateSessionTimer(m) {
                case .tooSmall(let minSE):
                    return respond(tooSmallResponse(to: m, minSE: minSE, toTag: call.localTag), now: now, fallback: peer)
                case .use(let se):
                    refresh = se
                    IMSCore.addSessionTimer(se, to: &r)
                case .none: break
                }
            }
            if m.contentType == "application/sdp", let offer = try? SDPSession(parsing: m.body) {
                let audio = offer.media.first { $0.media == "audio" && $0.port != 0 }
                let ready = audio.map { SDPPreconditions($0).currentLocal == "sendrecv" } ?? true
                call.sdpVersion += 1
                guard let a = try? SDPAnswerer().answer(offer: offer, localAddress: call.media.localAddress,
                                                        localPort: call.media.localRTPPort, sessionID: call.sessionID,
                                                        version: call.sdpVersion, peerReady: ready) else {
                    return reply(m, 488, peer: peer, now: now)
                }
                call.answerSDP = a.sdp
                if ready { call.preconditionsMet = true }
                var out: [IMSAction] = []
                if a.remoteAddress != call.media.remoteAddress || a.remoteRTPPort != call.media.remoteRTPPort {
                    call.media.remoteAddress = a.remoteAddress
                    call.media.remoteRTPPort = a.remoteRTPPort
                    call.media.remoteRTCPPort = a.remoteRTCPPort
                    out.append(.openMedia(call.media))
                }
                r.addHeader("Content-Type", "application/sdp")
                r.body = a.sdp.serialized()
                if method == "INVITE" { r.addHeader("Allow", IMSCore.allow) }
                echoCalls[id] = call
                // Only a 2xx refreshes the session (RFC 4028 §10).
                if isRefresh { armSessionTimer(id, refresh, now: now) }
                out += respond(r, now: now, fallback: peer)
                if method == "UPDATE", call.phase == .waitingUpdate, call.preconditionsMet { out += answerEcho(id, now: now) }
                return out
            }
            if method == "INVITE" {
                r.addHeader("Content-Type", "application/sdp")
                r.body = call.answerSDP.serialized()
            }
            if isRefresh { armSessionTimer(id, refresh, now: now) }
            return respond(r, now: now, fallback: peer)
        case "BYE":
            let out = respond(dialogResponse(to: m, code: 200, call: call), now: now, fallback: peer)
            return out + endEcho(id, reason: "BYE")
        case "CANCEL":
            var out = respond(makeResponse(to: m, code: 200, toTag: call.localTag), now: now, fallback: peer)
            if call.phase == .waitingPRACK || call.phase == .waitingUpdate || (call.phase == .answered && call.okResponse == nil) {
                out += respond(dialogResponse(to: call.invite, code: 487, call: call), now: now, fallback: peer)
                out += endEcho(id, reason: "CANCEL")
            }
            return out
        default:
            return reply(m, 200, peer: peer, now: now)
        }
    }

    func echoTick(_ id: String, now: Double) -> [IMSAction] {
        guard var call = echoCalls[id] else { return [] }
        var out: [IMSAction] = []
        if let t = call.relNext, t <= now, let r = call.reliableProvisional {
            if now >= call.relGiveUp {
                // No PRACK (RFC 3262 §3): reject the INVITE.
                out += respond(dialogResponse(to: call.invite, code: 504, call: call), now: now, fallback: call.peer)
                return out + endEcho(id, reason: "no PRACK")
            }
            call.relInterval *= 2
            call.relNext = now + call.relInterval
            out += respond(r, now: now, fallback: call.peer)
        }
        if let t = call.okNext, t <= now, let ok = call.okResponse {
            if now >= call.okGiveUp {
                return out + endEcho(id, reason: "no ACK")
            }
            call.okInterval = min(2 * call.okInterval, config.timers.t2)
            call.okNext = now + call.okInterval
            out += respond(ok, now: now, fallback: call.peer)
        }
        echoCalls[id] = call
        return out + sessionTimerTick(id, now: now)
    }

    func endEcho(_ id: String, reason: String) -> [IMSAction] {
        guard let call = echoCalls.removeValue(forKey: id) else { return [] }
        releaseMediaPort(call.media.localRTPPort)
        return [.closeMedia(id: id), .event(.callEnded(callID: id, reason: reason))]
    }

    /// A response inside the echo dialog: our To tag and Contact.
    func dialogResponse(to req: SIPMessage, code: Int, call: EchoCall) -> SIPMessage {
        var r = makeResponse(to: req, code: code, toTag: call.localTag)
        if code > 100, code < 300 { r.addHeader("Contact", "<" + ourURI(for: call.peer, local: call.media.localAddress) + ">") }
        return r
    }

    /// An even RTP port (RTCP the next one) from the media range of our address `local`.
    func allocateMediaPort(on local: String) -> UInt16? {
        let range = config.mediaPortRange(for: local)
        let lo = range.lowerBound & ~1
        let hi = range.upperBound
        guard hi > lo else { return nil }
        let slots = Int(hi - lo) / 2
        for _ in 0..<max(slots, 1) {
            let p = nextMediaPort[lo] ?? lo
            nextMediaPort[lo] = (p &+ 2 >= hi || p &+ 2 < lo) ? lo : p + 2
            if !usedMediaPorts.contains(p) {
                usedMediaPorts.insert(p)
                return p
            }
        }
        return nil
    }

    func releaseMediaPort(_ p: UInt16) { usedMediaPorts.remove(p) }
}
