import Config
import IMS
import SIP

/// Maps the callbox IMS config (`sip_addr`, `domain`, `echo`, `precondition`…) to the
/// IMS core's own settings. Each `sip_addr` entry keeps its own SIP port and media range
/// (Config rejects two entries with one address).
public enum IMSConfigMapping {
    public static func make(_ c: Config.IMSConfig, mme: MMEConfig) -> IMS.IMSConfig {
        let addrs = c.sipAddr.map { $0.addr.address.text }
        let port = c.sipAddr.first?.addr.port ?? 5060
        let echo = c.echo.map { IMSEchoEntry(impu: $0.impu, code: $0.code, anonymous: $0.anonymous) }
        let pre: IMSPreconditionMode
        switch c.precondition {
        case .on: pre = .on
        case .off: pre = .off
        case .silent: pre = .silent
        }
        var out = IMS.IMSConfig(domain: c.domain, sipAddresses: addrs, sipPort: port,
                             mediaPortMin: UInt16(clamping: c.sipAddr.first?.portMin ?? 10000),
                             mediaPortMax: UInt16(clamping: c.sipAddr.first?.portMax ?? 20000),
                             path: c.path ?? "", bindingExpires: UInt32(clamping: c.bindingExpires),
                             precondition: pre, use100rel: c.rel100, echo: echo,
                             timers: SIPTimerValues(t1: c.timerT1, t2: c.timerT2, t4: c.timerT4),
                             mncDigits: mme.plmn.mnc.count)
        let se = c.sessionExpires
        out.sessionTimer = IMSSessionTimerConfig(interval: UInt32(clamping: se.duration), minSE: UInt32(clamping: se.min),
                                                 refresher: se.refresher.lowercased() == "uas" ? .uas : .uac,
                                                 method: se.method.uppercased() == "INVITE" ? "INVITE" : "UPDATE", force: se.force)
        out.tcpThreshold = c.tcpThreshold
        out.tcpKeepalive = c.tcpKeepalive
        out.tcpKeepcount = c.tcpKeepcount
        out.tcpIdleTimeout = Double(c.tcpIdleTimeout)
        // Each sip_addr's own SIP port and media range (the first entry's are also the defaults).
        for a in c.sipAddr where out.sipPorts[a.addr.address.text] == nil {
            out.sipPorts[a.addr.address.text] = a.addr.port
            out.mediaPortRanges[a.addr.address.text] = UInt16(clamping: a.portMin)...UInt16(clamping: max(a.portMin, a.portMax))
        }
        out.emergencyWithoutAuthentication = c.echo.contains { $0.impu.lowercased().hasPrefix("urn:service:sos") && !$0.authentication }
        return out
    }
}
