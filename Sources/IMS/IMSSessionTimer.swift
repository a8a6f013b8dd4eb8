import SIP

/// RFC 4028 session timer state of one echo dialog, where the IMS is the UAS.
struct EchoSessionTimer: Sendable, Equatable {
    /// The negotiated interval and refresher (uac = the phone, uas = us).
    var expires: SIPSessionExpires
    /// We are the refresher: send the refresh at this time (§10, half the interval).
    var refreshAt: Double?
    /// The phone is the refresher: send BYE at this time if no refresh came (§10).
    var byeAt: Double?
    /// When the session expires without a refresh (both roles).
    var expiresAt: Double
    /// The Via branch of our refresh in progress, if any.
    var refreshBranch: String?

    var weRefresh: Bool { expires.refresher == .uas }
    var nextDeadline: Double? { [refreshAt, byeAt, weRefresh ? expiresAt : nil].compactMap { $0 }.min() }
}

/// The outcome of RFC 4028 negotiation on a request (UAS §9, proxy §8.1).
enum SessionTimerDecision: Equatable {
    /// 422 Session Interval Too Small with our Min-SE.
    case tooSmall(minSE: UInt32)
    /// Use a session timer with this interval (and refresher, for a UAS).
    case use(SIPSessionExpires)
    /// No session timer for this request.
    case none
}

extension IMSCore {
    /// Whether the request's sender supports session timers (`timer` in Supported or Require).
    static func supportsTimer(_ m: SIPMessage) -> Bool {
        m.optionTags("Supported").contains("timer") || m.optionTags("Require").contains("timer")
    }

    /// UAS negotiation (RFC 4028 §9) for an INVITE or UPDATE that starts or refreshes a session.
    /// A Session-Expires below our Min-SE is refused with 422 when the phone supports timers,
    /// else raised to our minimum (a UAC without timer support cannot act on a 422). The
    /// refresher the request names is kept; otherwise we choose (uas if the phone cannot refresh).
    func negotiateSessionTimer(_ req: SIPMessage) -> SessionTimerDecision {
        let cfg = config.sessionTimer
        let uacSupports = IMSCore.supportsTimer(req)
        let floor = max(cfg.minSE, SIPSessionExpires.minSE(req) ?? 0)
        var se: SIPSessionExpires
        if let offered = SIPSessionExpires(req) {
            se = offered
            if se.interval < cfg.minSE {
                if uacSupports { return .tooSmall(minSE: cfg.minSE) }
                se.interval = cfg.minSE
            }
        } else {
            guard cfg.force else { return .none }
            se = SIPSessionExpires(interval: max(cfg.interval, floor))
        }
        if !uacSupports { se.refresher = .uas } else if se.refresher == nil { se.refresher = cfg.refresher }
        return .use(se)
    }

    /// Adds the session timer headers of a 2xx (§9): Session-Expires with the refresher, and
    /// Require: timer when the phone must refresh.
    static func addSessionTimer(_ se: SIPSessionExpires, to r: inout SIPMessage) {
        r.setHeader("Session-Expires", se.description)
        if se.refresher == .uac { r.addHeader("Require", "timer") }
        r.addHeader("Supported", "timer")
    }

    /// A 422 with our Min-SE (§8.1, §9).
    func tooSmallResponse(to req: SIPMessage, minSE: UInt32, toTag: String? = nil) -> SIPMessage {
        var r = makeResponse(to: req, code: 422, reason: "Session Interval Too Small", toTag: toTag)
        r.addHeader("Min-SE", String(minSE))
        return r
    }

    /// (Re)starts the session timer of an echo dialog once a 2xx carrying `se` is sent (or
    /// received, for our own refresh): §10 times, counted from now.
    func armSessionTimer(_ id: String, _ se: SIPSessionExpires?, now: Double) {
        guard var call = echoCalls[id] else { return }
        guard let se else { call.session = nil; echoCalls[id] = call; return }
        var t = EchoSessionTimer(expires: se, expiresAt: now + Double(se.interval))
        if t.weRefresh { t.refreshAt = now + se.refreshAfter } else { t.byeAt = now + se.byeAfter }
        call.session = t
        echoCalls[id] = call
    }

    /// Due session timer work of an echo dialog: our refresh, or BYE when the phone's refresh
    /// did not come (or ours failed) in time.
    func sessionTimerTick(_ id: String, now: Double) -> [IMSAction] {
        guard var call = echoCalls[id], var t = call.session, call.phase == .active else { return [] }
        if let bye = t.byeAt, bye <= now {
            return byeEcho(id, now: now, reason: "session timer expired: no refresh from the phone within \(t.expires.interval) s (RFC 4028 §10, BYE at \(Int(t.expires.byeAfter)) s)")
        }
        if t.weRefresh, t.expiresAt <= now {
            return byeEcho(id, now: now, reason: "session timer expired: our refreshes got no 2xx within \(t.expires.interval) s (RFC 4028 §10)")
        }
        guard let r = t.refreshAt, r <= now else { return [] }
        t.refreshAt = nil
        let (req, branch) = refreshRequest(&call, se: t.expires)
        t.refreshBranch = branch
        call.session = t
        echoCalls[id] = call
        return sendRequest(req, to: call.peer, now: now)
    }

    /// Our session refresh (§7.4 as the refresher): UPDATE or re-INVITE with the SDP we last
    /// sent, unchanged (same o= version), and Session-Expires naming us as refresher.
    func refreshRequest(_ call: inout EchoCall, se: SIPSessionExpires) -> (SIPMessage, String) {
        let method = config.sessionTimer.method.uppercased() == "INVITE" ? "INVITE" : "UPDATE"
        let branch = IMSCore.branchPrefix + newToken()
        var m = inDialogRequest(&call, method, branch: branch)
        // In our request we are the UAC: refresher=uac names us (RFC 4028 §7.4).
        m.addHeader("Session-Expires", SIPSessionExpires(interval: se.interval, refresher: .uac).description)
        m.addHeader("Min-SE", String(config.sessionTimer.minSE))
        m.addHeader("Supported", "timer")
        m.addHeader("Content-Type", "application/sdp")
        m.body = call.answerSDP.serialized()
        return (m, branch)
    }

    /// A request we send inside an echo dialog (we are its UAS): §12.2.1.1 from the dialog the
    /// INVITE made, with our Contact.
    func inDialogRequest(_ call: inout EchoCall, _ method: String, branch: String) -> SIPMessage {
        if call.dialog == nil { call.dialog = try? SIPDialog(uas: call.invite, localTag: call.localTag) }
        let via = dialogVia(call.peer, local: call.media.localAddress, branch: branch)
        var m: SIPMessage
        if var d = call.dialog {
            m = d.request(method, via: via, sequence: method == "ACK" ? d.localSequence : nil)
            call.dialog = d
        } else {
            // An INVITE without Contact or From tag: address what we have.
            m = SIPMessage.request(method, uri: (try? call.invite.from().uri) ?? .other("sip:invalid"))
            m.addHeader("Via", via.description)
            m.addHeader("Max-Forwards", "70")
            m.addHeader("Call-ID", call.callID)
            m.addHeader("CSeq", "1 " + method)
        }
        m.addHeader("Contact", "<" + ourURI(for: call.peer, local: call.media.localAddress) + ">")
        return m
    }

    /// Responses to our requests inside an echo dialog (refresh UPDATE/re-INVITE, BYE).
    func echoResponse(_ r: SIPMessage, now: Double) -> [IMSAction] {
        guard let id = try? r.callID(), var call = echoCalls[id], let code = r.statusCode, code >= 200,
              let cs = try? r.cseq(), var t = call.session, let branch = try? r.topVia().branch, branch == t.refreshBranch else { return [] }
        t.refreshBranch = nil
        call.session = t
        echoCalls[id] = call
        var out: [IMSAction] = []
        if cs.method == "INVITE", code < 300 {
            // ACK the 2xx of our re-INVITE (RFC 3261 §13.2.2.4).
            var ack = inDialogRequest(&call, "ACK", branch: IMSCore.branchPrefix + newToken())
            ack.setHeader("CSeq", String(cs.sequence) + " ACK")
            echoCalls[id] = call
            out += sendRequest(ack, to: call.peer, now: now)
        }
        switch code {
        case 200..<300:
            // §7.2: the 2xx's Session-Expires is what holds now; none means no session timer.
            // It names roles of our request (uac = us); the dialog state names the phone uac.
            var se = SIPSessionExpires(r)
            let theirs = se?.refresher
            se?.refresher = theirs == .uas ? .uac : .uas
            armSessionTimer(id, se, now: now)
        case 422:
            // §7.3: ask again with at least the Min-SE of the 422.
            let floor = SIPSessionExpires.minSE(r) ?? t.expires.interval
            t.expires.interval = max(t.expires.interval, floor)
            let (req, b) = refreshRequest(&call, se: t.expires)
            t.refreshBranch = b
            call.session = t
            echoCalls[id] = call
            out += sendRequest(req, to: call.peer, now: now)
        case 408, 481:
            // RFC 3261 §12.2.1.2: the dialog is gone.
            out += endEcho(id, reason: "refresh answered \(code): dialog terminated")
        default:
            break   // the session simply expires if no later refresh succeeds
        }
        return out
    }

    /// Ends an echo dialog from our side with a BYE, and says why.
    func byeEcho(_ id: String, now: Double, reason: String) -> [IMSAction] {
        guard var call = echoCalls[id] else { return [] }
        var bye = inDialogRequest(&call, "BYE", branch: IMSCore.branchPrefix + newToken())
        bye.removeHeaders("Contact")
        bye.addHeader("Reason", "SIP;cause=408;text=\"session timer expired\"")
        echoCalls[id] = call
        return sendRequest(bye, to: call.peer, now: now) + endEcho(id, reason: reason)
    }
}
