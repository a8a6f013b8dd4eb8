import SIP

/// RFC 4028 session timer of the phone's call: offered in the INVITE (Session-Expires, Min-SE,
/// Supported: timer), a 422 answered by asking again with its Min-SE, refreshes sent by UPDATE
/// at half the interval when we are the refresher, refreshes from the network answered with
/// Session-Expires, and BYE at interval - min(32, interval/3) when none comes (§10).
struct CallSessionTimer: Sendable, Equatable {
    var interval: UInt32
    var weRefresh: Bool
    var refreshAt: Double?
    var byeAt: Double?
    /// CSeq of our refresh UPDATE in progress.
    var refreshCSeq: UInt32?

    var nextDeadline: Double? { [refreshAt, byeAt].compactMap { $0 }.min() }
}

extension SIPUserAgent {
    /// Starts (or restarts) the timer from a 2xx or a refresh: `weRefresh` per the roles.
    mutating func armSessionTimer(_ se: SIPSessionExpires?, weRefresh: Bool, now: Double) {
        guard var c = call else { return }
        guard let se else { c.sessionTimer = nil; call = c; return }
        var t = CallSessionTimer(interval: se.interval, weRefresh: weRefresh)
        if weRefresh { t.refreshAt = now + se.refreshAfter } else { t.byeAt = now + se.byeAfter }
        c.sessionTimer = t
        call = c
    }

    /// Our 2xx to a request that carried (or should carry) a session timer, as UAS (§9): the
    /// interval asked (raised to our Min-SE), the refresher asked or, if open, the requester
    /// when it supports timers. Returns what was put in the response and whether we refresh.
    func answerSessionTimer(_ req: SIPMessage, into r: inout SIPMessage) -> (SIPSessionExpires, Bool)? {
        let supports = req.optionTags("Supported").contains("timer") || req.optionTags("Require").contains("timer")
        var se: SIPSessionExpires
        if let asked = SIPSessionExpires(req) {
            se = asked
            se.interval = max(se.interval, config.minSE)
        } else if let mine = config.sessionExpires {
            se = SIPSessionExpires(interval: max(mine, SIPSessionExpires.minSE(req) ?? 0))
        } else {
            return nil
        }
        if se.refresher == nil || !supports { se.refresher = supports ? .uac : .uas }
        r.setHeader("Session-Expires", se.description)
        if se.refresher == .uac { r.addHeader("Require", "timer") }
        return (se, se.refresher == .uas)
    }

    /// Due session timer work: our refresh UPDATE, or BYE when the network's refresh is late.
    mutating func sessionTimerTick(now: Double) -> [SIPUAOutput] {
        guard var c = call, c.phase == .established, var t = c.sessionTimer else { return [] }
        if let bye = t.byeAt, bye <= now {
            c.sessionTimer = nil
            call = c
            return [.event(.sessionExpired(interval: t.interval))] + hangUp(now: now)
        }
        guard let at = t.refreshAt, at <= now else { return [] }
        t.refreshAt = nil
        // If our refresh gets no 2xx the session still ends at the §10 time.
        t.byeAt = at - SIPSessionExpires(interval: t.interval).refreshAfter + SIPSessionExpires(interval: t.interval).byeAfter
        t.refreshCSeq = c.dialog.localCSeq + 1
        c.sessionTimer = t
        call = c
        let se = SIPSessionExpires(interval: t.interval, refresher: .uac)   // uac = us, the sender
        return sendInDialog("UPDATE", headers: [("Session-Expires", se.description), ("Min-SE", String(config.minSE)),
                                                ("Supported", "timer"), ("Contact", contact())], now: now)
    }

    /// A response to our refresh UPDATE: a 2xx re-arms with what it says (uac = us); 422 asks
    /// again with its Min-SE (§7.3).
    mutating func handleRefreshResponse(_ r: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard let code = r.statusCode, code >= 200, var c = call, var t = c.sessionTimer else { return [] }
        t.refreshCSeq = nil
        c.sessionTimer = t
        call = c
        if (200..<300).contains(code) {
            let se = SIPSessionExpires(r)
            armSessionTimer(se, weRefresh: se?.refresher != .uas, now: now)
            return [.event(.sessionRefreshed(interval: se?.interval ?? 0, byUs: true))]
        }
        if code == 422, let floor = SIPSessionExpires.minSE(r) {
            t.interval = max(t.interval, floor)
            t.refreshAt = now
            c.sessionTimer = t
            call = c
            return sessionTimerTick(now: now)
        }
        return []
    }

    /// The INVITE was refused with 422 (§7.3): the same INVITE again with the Min-SE asked
    /// for, a new CSeq and branch. Nil when the 422 names no usable Min-SE.
    mutating func retryAfter422(_ r: SIPMessage, now: Double) -> [SIPUAOutput]? {
        guard var c = call, c.isCaller, c.phase == .inviting || c.phase == .early, let floor = SIPSessionExpires.minSE(r),
              floor > (SIPSessionExpires(c.invite)?.interval ?? 0) else { return nil }
        var m = c.invite
        c.inviteCSeq += 1
        c.dialog.localCSeq = c.inviteCSeq
        m.setHeader("Via", "SIP/2.0/UDP \(config.hostPort);branch=\(ids.branch());rport")
        m.setHeader("CSeq", "\(c.inviteCSeq) INVITE")
        m.setHeader("Session-Expires", String(floor))
        m.setHeader("Min-SE", String(floor))
        c.invite = m
        c.phase = .inviting
        call = c
        return sendRequest(m, now: now)
    }
}
