import SIP

/// One voice call, either side: INVITE with an SDP offer, reliable provisional responses and
/// PRACK (RFC 3262), QoS preconditions confirmed by UPDATE (RFC 3312, RFC 3311), ACK, BYE;
/// and the answering side for phone-to-phone calls.
struct Call: Sendable {
    enum Phase: Sendable, Equatable { case inviting, early, established, terminating }
    struct Retransmit: Sendable { var message: SIPMessage; var at: Double; var interval: Double; var giveUpAt: Double }

    var dialog: Dialog
    var isCaller: Bool
    var invite: SIPMessage
    var inviteCSeq: UInt32
    var phase: Phase
    var localSDP: SessionDescription
    var remoteSDP: SessionDescription?
    /// UAC: the RSeq of the last reliable provisional response we PRACKed.
    var lastRSeq: UInt32?
    var updateSent = false
    var ack: SIPMessage?
    /// UAS: 2xx retransmission until the ACK (RFC 3261 §13.3.1.4).
    var retransmit: Retransmit?
    /// UAS: a reliable 180 is out and the 200 waits for its PRACK.
    var awaitingPrack = false
    /// RFC 4028 timer of the established call (SIPUserAgent+SessionTimer.swift).
    var sessionTimer: CallSessionTimer?
}

public enum SIPUAError: Error, Equatable, Sendable, CustomStringConvertible {
    case callInProgress
    case badTarget(String)
    public var description: String {
        switch self {
        case .callInProgress: "a call is already in progress"
        case .badTarget(let t): "not a usable call target: \(t)"
        }
    }
}

extension SIPUserAgent {
    /// Calls `target` ("tel:666", "666", "sip:...", "urn:service:sos") with an SDP offer.
    public mutating func invite(_ target: String, now: Double) throws -> [SIPUAOutput] {
        guard call == nil else { throw SIPUAError.callInProgress }
        let text = target.first.map { $0.isNumber || $0 == "+" } == true ? "tel:" + target : target
        guard let uri = try? SIPAnyURI(text) else { throw SIPUAError.badTarget(target) }
        let impu = "<\(config.impu)>"
        let d = Dialog(callID: ids.callID(host: config.localAddress), localTag: ids.tag(), remoteTag: nil, localURI: impu,
                       remoteURI: "<\(uri)>", remoteTarget: uri, routeSet: [], localCSeq: 1)
        var pre: [SessionDescription.Precondition] = []
        if config.preconditions {
            // RFC 3312 §5 / TS 24.229 §6.1.2: our resources are not yet confirmed when offering.
            pre = [.init(kind: "curr", side: "local", direction: "none"), .init(kind: "curr", side: "remote", direction: "none"),
                   .init(kind: "des", strength: "mandatory", side: "local", direction: "sendrecv"),
                   .init(kind: "des", strength: "none", side: "remote", direction: "sendrecv")]
        }
        let sdp = SessionDescription(sessionID: ids.next() % 1_000_000_000, version: 1, address: config.localAddress,
                                     port: config.rtpPort, codecs: config.codecs, preconditions: pre)
        var m = baseRequest("INVITE", uri: uri, from: d.fromHeader, to: d.toHeader, callID: d.callID, cseq: 1, route: preloadedRoute)
        m.addHeader("Contact", contact())
        m.addHeader("P-Preferred-Identity", impu)
        m.addHeader("P-Access-Network-Info", "IEEE-802.11")
        m.addHeader("Supported", config.preconditions ? "100rel, precondition, timer" : "100rel, timer")
        m.addHeader("Accept", "application/sdp")
        m.addHeader("Allow", SIPUserAgent.allow)
        m.addHeader("User-Agent", config.userAgent)
        if let se = config.sessionExpires {
            m.addHeader("Session-Expires", String(max(se, config.minSE)))
            m.addHeader("Min-SE", String(config.minSE))
        }
        m.addHeader("Content-Type", "application/sdp")
        m.body = sdp.bytes
        var dialog = d
        dialog.routeSet = preloadedRoute
        call = Call(dialog: dialog, isCaller: true, invite: m, inviteCSeq: 1, phase: .inviting, localSDP: sdp)
        return sendRequest(m, now: now)
    }

    /// Ends the call: BYE once established, CANCEL while the INVITE is pending (RFC 3261 §9).
    public mutating func hangUp(now: Double) -> [SIPUAOutput] {
        guard var c = call else { return [] }
        if c.phase == .established {
            c.phase = .terminating
            call = c
            return sendInDialog("BYE", now: now)
        }
        guard c.isCaller else { return [] }
        var cancel = SIPMessage.request("CANCEL", uri: c.invite.requestURI ?? .other("sip:invalid"))
        for name in ["Via", "Max-Forwards", "Route", "From", "To", "Call-ID"] {
            for v in c.invite.headerLines(name) { cancel.addHeader(name, v) }
        }
        cancel.addHeader("CSeq", "\(c.inviteCSeq) CANCEL")
        c.phase = .terminating
        call = c
        return sendRequest(cancel, now: now)
    }

    /// A request inside the call's dialog (RFC 3261 §12.2.1.1): next CSeq, route set, remote target.
    mutating func sendInDialog(_ method: String, headers: [(String, String)] = [], sdp: SessionDescription? = nil,
                               now: Double) -> [SIPUAOutput] {
        guard var c = call else { return [] }
        c.dialog.localCSeq += 1
        var m = baseRequest(method, uri: c.dialog.remoteTarget, from: c.dialog.fromHeader, to: c.dialog.toHeader,
                            callID: c.dialog.callID, cseq: c.dialog.localCSeq, route: c.dialog.routeSet)
        for (k, v) in headers { m.addHeader(k, v) }
        m.addHeader("User-Agent", config.userAgent)
        if let sdp {
            m.addHeader("Content-Type", "application/sdp")
            m.body = sdp.bytes
        }
        call = c
        return sendRequest(m, now: now)
    }

    // MARK: UAC

    mutating func handleInviteResponse(_ r: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard var c = call, c.isCaller, (try? r.callID()) == c.dialog.callID, let code = r.statusCode,
              (try? r.cseq())?.sequence == c.inviteCSeq else { return [] }
        if code == 100 { return [] }
        if code == 422, let retry = retryAfter422(r, now: now) { return retry }
        if code >= 300 {
            call = nil
            if c.phase == .terminating && code == 487 { return [.event(.callEnded(byRemote: false))] }
            return [.event(.callFailed(status: code, reason: r.startLineReason ?? ""))]
        }
        if !r.body.isEmpty, r.contentType == "application/sdp", let sdp = try? SessionDescription(parsing: r.body) {
            c.remoteSDP = sdp
        }
        if (try? r.to())?.tag != nil { c.dialog.update(from: r, isUAC: true) }
        var out: [SIPUAOutput] = []
        if code < 200 {
            if c.phase == .inviting { c.phase = .early }
            call = c
            out.append(.event(.callProgress(status: code)))
            if r.optionTags("Require").contains("100rel"), let rseq = (try? r.integer("RSeq")) ?? nil,
               c.lastRSeq.map({ rseq == $0 &+ 1 }) ?? true {
                // RFC 3262 §4: PRACK each new reliable provisional response, in RSeq order.
                c.lastRSeq = rseq
                call = c
                out += sendInDialog("PRACK", headers: [("RAck", "\(rseq) \(c.inviteCSeq) INVITE")], now: now)
                out.append(.event(.prackSent(rseq: rseq)))
            }
            return out
        }
        // 2xx: ACK it (again, for a retransmission) on a transaction of its own (RFC 3261 §13.2.2.4).
        c.dialog.established = true
        if c.ack == nil {
            c.ack = baseRequest("ACK", uri: c.dialog.remoteTarget, from: c.dialog.fromHeader, to: c.dialog.toHeader,
                                callID: c.dialog.callID, cseq: c.inviteCSeq, route: c.dialog.routeSet)
        }
        if let ack = c.ack { out.append(.send(ack, to: config.pcscf)) }
        let wasEstablished = c.phase == .established || c.phase == .terminating
        if !wasEstablished { c.phase = .established }
        call = c
        guard !wasEstablished else { return out }
        // RFC 4028 §7.2: the 2xx says who refreshes (uac = us, the INVITE's sender).
        let se = SIPSessionExpires(r)
        armSessionTimer(se, weRefresh: se?.refresher == .uac, now: now)
        if let media = c.remoteSDP.flatMap(RemoteMedia.init) {
            out.append(.event(.callEstablished(media)))
        } else {
            out.append(.event(.callFailed(status: code, reason: "2xx without a usable SDP answer")))
            out += hangUp(now: now)
        }
        return out
    }

    /// After the PRACK's 200: confirm our QoS with an UPDATE if the answer left it unconfirmed.
    mutating func handlePrackResponse(_ r: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard let code = r.statusCode, (200..<300).contains(code), var c = call, c.isCaller, config.preconditions, !c.updateSent,
              let remote = c.remoteSDP, remote.remoteAwaitsOurResources, c.phase != .established else { return [] }
        // RFC 3312 §5.1: local QoS now met; the peer's local status is what its answer said.
        let peerLocal = remote.preconditions.first { $0.kind == "curr" && $0.side == "local" }?.direction ?? "none"
        var sdp = c.localSDP
        sdp.version += 1
        sdp.preconditions = [.init(kind: "curr", side: "local", direction: "sendrecv"), .init(kind: "curr", side: "remote", direction: peerLocal),
                             .init(kind: "des", strength: "mandatory", side: "local", direction: "sendrecv"),
                             .init(kind: "des", strength: "mandatory", side: "remote", direction: "sendrecv")]
        c.localSDP = sdp
        c.updateSent = true
        call = c
        return sendInDialog("UPDATE", headers: [("Contact", contact())], sdp: sdp, now: now) + [.event(.updateSent)]
    }

    mutating func handleUpdateResponse(_ r: SIPMessage, now: Double) -> [SIPUAOutput] {
        if let rc = call?.sessionTimer?.refreshCSeq, (try? r.cseq())?.sequence == rc { return handleRefreshResponse(r, now: now) }
        guard let code = r.statusCode, (200..<300).contains(code), var c = call, !r.body.isEmpty,
              let sdp = try? SessionDescription(parsing: r.body) else { return [] }
        c.remoteSDP = sdp
        call = c
        return []
    }

    // MARK: UAS

    mutating func handleIncomingInvite(_ req: SIPMessage, now: Double) -> [SIPUAOutput] {
        if let c = call {
            // A re-INVITE in our dialog gets our current SDP; anything else finds us busy.
            guard (try? req.callID()) == c.dialog.callID else { return respond(response(486, to: req, toTag: ids.tag()), now: now) }
            var ok = response(200, to: req, toTag: c.dialog.localTag)
            ok.addHeader("Contact", contact())
            var refreshed: [SIPUAOutput] = []
            if SIPSessionExpires(req) != nil, let (se, weRefresh) = answerSessionTimer(req, into: &ok) {
                armSessionTimer(se, weRefresh: weRefresh, now: now)
                refreshed = [.event(.sessionRefreshed(interval: se.interval, byUs: false))]
            }
            ok.addHeader("Content-Type", "application/sdp")
            ok.body = c.localSDP.bytes
            return respond(ok, now: now) + refreshed
        }
        let tag = ids.tag()
        guard config.autoAnswer else { return respond(response(480, to: req, toTag: tag), now: now) }
        guard !req.body.isEmpty, let offer = try? SessionDescription(parsing: req.body),
              let from = try? req.from(), let to = try? req.to(), let callID = try? req.callID(), let cs = try? req.cseq() else {
            return respond(response(488, to: req, toTag: tag), now: now)
        }
        var local = SIPAddress(uri: to.uri); local.displayName = to.displayName
        var remote = SIPAddress(uri: from.uri); remote.displayName = from.displayName
        let target = (try? req.contacts())?.first?.uri ?? from.uri
        let rr = ((try? req.headerValues("Record-Route")) ?? []).map(String.init)
        var d = Dialog(callID: callID, localTag: tag, remoteTag: from.tag, localURI: local.description, remoteURI: remote.description,
                       remoteTarget: target, routeSet: rr, localCSeq: 0)
        d.established = true
        let answer = answerSDP(to: offer, version: 1)
        var c = Call(dialog: d, isCaller: false, invite: req, inviteCSeq: cs.sequence, phase: .early, localSDP: answer, remoteSDP: offer)
        var out: [SIPUAOutput] = [.event(.incomingCall(from: from.uri.description))]
        out += respond(response(100, to: req), now: now)
        var ringing = response(180, to: req, toTag: tag)
        ringing.addHeader("Contact", contact())
        for r in rr { ringing.addHeader("Record-Route", r) }
        if req.optionTags("Require").contains("100rel") {
            ringing.addHeader("Require", "100rel")
            ringing.addHeader("RSeq", "1")
            c.awaitingPrack = true
        }
        call = c
        out += respond(ringing, now: now)
        if !c.awaitingPrack { out += sendAnswer(now: now) }
        return out
    }

    /// Our answer: the first offered speech codec we have, its telephone-event, preconditions met on our side.
    func answerSDP(to offer: SessionDescription, version: UInt64) -> SessionDescription {
        let mine = config.codecs
        let speech = offer.codecs.first { o in o.name.lowercased() != "telephone-event" && mine.contains { $0.name.lowercased() == o.name.lowercased() && $0.clockRate == o.clockRate } }
        var codecs: [SessionDescription.Codec] = speech.map { [$0] } ?? Array(offer.codecs.prefix(1))
        if let s = speech, let te = offer.codecs.first(where: { $0.name.lowercased() == "telephone-event" && $0.clockRate == s.clockRate }) {
            codecs.append(te)
        }
        var pre: [SessionDescription.Precondition] = []
        if offer.hasPreconditions {
            let peerLocal = offer.preconditions.first { $0.kind == "curr" && $0.side == "local" }?.direction ?? "none"
            pre = [.init(kind: "curr", side: "local", direction: "sendrecv"), .init(kind: "curr", side: "remote", direction: peerLocal),
                   .init(kind: "des", strength: "mandatory", side: "local", direction: "sendrecv"),
                   .init(kind: "des", strength: "mandatory", side: "remote", direction: "sendrecv")]
        }
        return SessionDescription(sessionID: offer.sessionID &+ 1, version: version, address: config.localAddress,
                                  port: config.rtpPort, codecs: codecs, preconditions: pre)
    }

    mutating func sendAnswer(now: Double) -> [SIPUAOutput] {
        guard var c = call, !c.isCaller else { return [] }
        var ok = response(200, to: c.invite, toTag: c.dialog.localTag)
        ok.addHeader("Contact", contact())
        for r in c.dialog.routeSet { ok.addHeader("Record-Route", r) }
        ok.addHeader("Supported", "100rel, timer")
        if let (se, weRefresh) = answerSessionTimer(c.invite, into: &ok) {
            c.sessionTimer = CallSessionTimer(interval: se.interval, weRefresh: weRefresh)
        }
        ok.addHeader("Allow", SIPUserAgent.allow)
        ok.addHeader("Content-Type", "application/sdp")
        ok.body = c.localSDP.bytes
        let t1 = config.timers.t1
        c.retransmit = Call.Retransmit(message: ok, at: now + t1, interval: t1, giveUpAt: now + config.timers.timeout)
        call = c
        return respond(ok, now: now)
    }

    mutating func retransmit2xx(now: Double) -> [SIPUAOutput] {
        guard var c = call, var rt = c.retransmit, rt.at <= now else { return [] }
        if now >= rt.giveUpAt {
            // RFC 3261 §13.3.1.4: no ACK within 64*T1 — end the dialog with a BYE.
            c.retransmit = nil
            c.phase = .established
            call = c
            return [.event(.callFailed(status: 408, reason: "no ACK for our 200 OK"))] + hangUp(now: now)
        }
        rt.interval = min(2 * rt.interval, config.timers.t2)
        rt.at = now + rt.interval
        c.retransmit = rt
        call = c
        return respond(rt.message, now: now)
    }

    mutating func handleAck(_ req: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard var c = call, !c.isCaller, callMatches(req) else { return [] }
        c.retransmit = nil
        let first = c.phase != .established
        c.phase = .established
        call = c
        if first, let t = c.sessionTimer {
            armSessionTimer(SIPSessionExpires(interval: t.interval), weRefresh: t.weRefresh, now: now)
        }
        guard first, let media = c.remoteSDP.flatMap(RemoteMedia.init) else { return [] }
        return [.event(.callEstablished(media))]
    }

    mutating func handlePrack(_ req: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard var c = call, callMatches(req) else { return respond(response(481, to: req), now: now) }
        var out = respond(response(200, to: req), now: now)
        if c.awaitingPrack {
            c.awaitingPrack = false
            call = c
            out += sendAnswer(now: now)
        }
        return out
    }

    mutating func handleUpdate(_ req: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard var c = call, callMatches(req) else { return respond(response(481, to: req), now: now) }
        var ok = response(200, to: req)
        ok.addHeader("Contact", contact())
        var refreshed: [SIPUAOutput] = []
        if c.phase == .established, SIPSessionExpires(req) != nil, let (se, weRefresh) = answerSessionTimer(req, into: &ok) {
            call = c
            armSessionTimer(se, weRefresh: weRefresh, now: now)
            c.sessionTimer = call?.sessionTimer
            refreshed = [.event(.sessionRefreshed(interval: se.interval, byUs: false))]
        }
        if !req.body.isEmpty, let offer = try? SessionDescription(parsing: req.body) {
            c.remoteSDP = offer
            c.localSDP = answerSDP(to: offer, version: c.localSDP.version + 1)
            ok.addHeader("Content-Type", "application/sdp")
            ok.body = c.localSDP.bytes
        }
        call = c
        return respond(ok, now: now) + refreshed
    }

    mutating func handleBye(_ req: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard callMatches(req) else { return respond(response(481, to: req), now: now) }
        call = nil
        return respond(response(200, to: req), now: now) + [.event(.callEnded(byRemote: true))]
    }
}
