import SIP

/// RFC 4028 §8 at the proxy between two phones: the IMS keeps its Min-SE, may shorten an
/// interval (never below the request's Min-SE), inserts one into an initial INVITE that has
/// none (`force`), and adds Session-Expires/Require: timer to a 2xx whose UAS ignored the
/// timer when the caller supports it, so the caller refreshes. In-dialog refreshes pass
/// through unchanged unless their interval is below our Min-SE.
extension IMSCore {
    /// Applies §8.1 to a forwarded INVITE or UPDATE; `.tooSmall` means answer 422 instead.
    func proxySessionTimer(_ fwd: inout SIPMessage, initial: Bool) -> SessionTimerDecision {
        let cfg = config.sessionTimer
        let uacSupports = IMSCore.supportsTimer(fwd)
        let requestMin = SIPSessionExpires.minSE(fwd) ?? 0
        let floor = max(requestMin, cfg.minSE)
        var decided: SIPSessionExpires
        if var se = SIPSessionExpires(fwd) {
            if se.interval < cfg.minSE {
                // A caller with timer support can retry after a 422; one without cannot, so raise it.
                if uacSupports { return .tooSmall(minSE: cfg.minSE) }
                se.interval = cfg.minSE
            }
            // "A proxy MAY lower the value, but not below the Min-SE" — only on the initial INVITE,
            // so the phones' own refreshes keep the interval they agreed on.
            if initial, se.interval > cfg.interval { se.interval = max(cfg.interval, floor) }
            decided = se
        } else if initial, cfg.force {
            decided = SIPSessionExpires(interval: max(cfg.interval, floor))
        } else {
            return .none
        }
        if SIPSessionExpires(fwd) != decided { fwd.setHeader("Session-Expires", decided.description) }
        if requestMin < cfg.minSE, initial || fwd.hasHeader("Min-SE") { fwd.setHeader("Min-SE", String(floor)) }
        return .use(decided)
    }

    /// §8.2: a 2xx to a proxied INVITE without Session-Expires, when the caller supports timers:
    /// the caller becomes the refresher (Session-Expires with refresher=uac and Require: timer).
    func proxySessionTimerResponse(_ r: inout SIPMessage) {
        guard let code = r.statusCode, (200..<300).contains(code), let cs = try? r.cseq(), cs.method == "INVITE",
              let cid = try? r.callID(), let se = proxiedSessionTimers[cid], SIPSessionExpires(r) == nil else { return }
        r.addHeader("Session-Expires", SIPSessionExpires(interval: se.interval, refresher: .uac).description)
        r.addHeader("Require", "timer")
    }
}
