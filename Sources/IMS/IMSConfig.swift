import SIP

/// The `precondition` option of ims.cfg.
public enum IMSPreconditionMode: String, Sendable {
    /// 3GPP QoS preconditions when the phone supports them (183 + PRACK + UPDATE).
    case on
    /// IETF mode: no preconditions.
    case off
    /// Dedicated bearers always, preconditions not signalled (treated as off here: no Rx).
    case silent
}

/// One `echo` list entry: a number answered by the IMS itself, or with a fixed status code.
public struct IMSEchoEntry: Sendable, Equatable {
    /// `tel:666`, `tel:+666`, `urn:service:sos`...
    public var impu: String
    /// Answer with this status instead of echoing (e.g. 404 for the "tel:404" test entry).
    public var code: Int?
    /// Calls allowed without registration (emergency entries).
    public var anonymous: Bool
    public init(impu: String, code: Int? = nil, anonymous: Bool = false) {
        self.impu = impu; self.code = code; self.anonymous = anonymous
    }
}

/// RFC 4028 session timer settings (ims.cfg `session_expires {duration, min, refresher, method, force}`).
public struct IMSSessionTimerConfig: Sendable, Equatable {
    /// The session interval we ask for when the request names none (`duration`, seconds).
    public var interval: UInt32
    /// Our Min-SE (`min`, seconds; RFC 4028 §4 floor 90): smaller intervals get 422.
    public var minSE: UInt32
    /// Who refreshes when the phone supports timers and leaves the choice to us (`refresher`).
    public var refresher: SIPSessionExpires.Refresher
    /// Our refresh request when we are the refresher: "UPDATE" or "INVITE" (`method`).
    public var method: String
    /// Run a session timer even when the phone's request has no Session-Expires (`force`).
    public var force: Bool

    public init(interval: UInt32 = 1800, minSE: UInt32 = 90, refresher: SIPSessionExpires.Refresher = .uac,
                method: String = "UPDATE", force: Bool = true) {
        self.interval = interval; self.minSE = minSE; self.refresher = refresher; self.method = method; self.force = force
    }
}

/// The IMS options the core uses (a subset of ims.cfg, §4.1 of the callbox reference).
public struct IMSConfig: Sendable {
    /// Global SIP domain (IMPUs without host, realm when the IMPI has none).
    public var domain: String
    /// Our SIP addresses (IP literals; `sip_addr`), the first of the peer's family is used in
    /// Via, Record-Route, Service-Route and SDP.
    public var sipAddresses: [String]
    /// The SIP port of addresses without their own (`sipPorts`): the first `sip_addr`'s.
    public var sipPort: UInt16
    /// Each `sip_addr` address's own SIP port (`addr` IP:port), by its address as in
    /// `sipAddresses`: Via, Record-Route, Contact and Path name our address with its port.
    public var sipPorts: [String: UInt16] = [:]
    /// UDP media port range for echo calls (`port_min`/`port_max`).
    public var mediaPortMin: UInt16
    public var mediaPortMax: UInt16
    /// Each `sip_addr` entry's own media range (`port_min`/`port_max`), by its address as in
    /// `sipAddresses`: an echo call takes its port from the range of the address it arrived on
    /// (an MT call from the address used toward the phone). Addresses absent here use
    /// `mediaPortMin`...`mediaPortMax`.
    public var mediaPortRanges: [String: ClosedRange<UInt16>] = [:]
    /// Path header value (`""` disables it).
    public var path: String
    /// Largest registration lifetime granted (`binding_expires`).
    public var bindingExpires: UInt32
    /// Reg-event subscription lifetime; 0 = the UE's value (`subscribe_expires`).
    public var subscribeExpires: UInt32
    public var precondition: IMSPreconditionMode
    /// Send 183 reliably when the phone supports 100rel (`100rel`).
    public var use100rel: Bool
    public var echo: [IMSEchoEntry]
    public var timers: SIPTimerValues
    public var userAgent: String
    /// MNC length used to derive an IMPI from an IMSI-shaped user part.
    public var mncDigits: Int
    /// Lifetime of an outstanding challenge (seconds).
    public var challengeLifetime: Double
    /// Emergency registrations (Contact with `sos`, TS 24.229 §5.1.6) of known subscribers are
    /// accepted without the AKA/digest challenge (an `echo` entry for urn:service:sos with
    /// `authentication: false`, as on the callbox).
    public var emergencyWithoutAuthentication = false
    /// Gm IPsec (TS 33.203 sec-agree, ims.cfg `ipsec`): answer an ipsec-3gpp Security-Client with
    /// Security-Server and ask the runtime to install the SAs. Off by default.
    public var ipsec: Bool = false
    /// Accepted integrity / encryption algorithms, in preference order (`ipsec_aalg_list`, `ipsec_ealg_list`).
    public var ipsecAalgList: [String] = ["hmac-sha-1-96", "hmac-md5-96"]
    public var ipsecEalgList: [String] = ["null", "aes-cbc"]
    /// Our protected client and server ports (port_pc, port_ps).
    public var protectedPortC: UInt16 = 5062
    public var protectedPortS: UInt16 = 5063
    /// RFC 4028 session timers (ims.cfg `session_expires`).
    public var sessionTimer = IMSSessionTimerConfig()
    /// RFC 3261 §18.1.1: a request we send to a UDP peer that is larger than this many bytes goes
    /// over TCP instead (ims.cfg `tcp_threshold`, default 1300: the path MTU is unknown).
    public var tcpThreshold: Int = 1300
    /// SIP TCP connections: SO_KEEPALIVE with TCP_KEEPIDLE = `tcpKeepalive` seconds and
    /// TCP_KEEPCNT = `tcpKeepcount` probes, so the kernel drops connections to dead phones
    /// (ims.cfg `tcp_keepalive` 900, `tcp_keepcount` 2; `tcpKeepalive` 0 = no keepalive).
    public var tcpKeepalive: Int = 900
    public var tcpKeepcount: Int = 2
    /// A SIP TCP connection that carried no SIP either way for this many seconds, and that no
    /// registration binding and no transaction uses, is closed (`tcp_idle_timeout`, not a
    /// callbox key; 0 = never).
    public var tcpIdleTimeout: Double = 1800
    /// A known path MTU toward the phones (not a callbox option): requests within 200 bytes of
    /// it go over TCP too (§18.1.1). nil = unknown, `tcpThreshold` alone decides.
    public var pathMTU: Int? = nil

    /// The largest request sent over UDP (§18.1.1).
    public var largestUDPRequest: Int {
        if let mtu = pathMTU { return min(tcpThreshold, mtu - 200) }
        return tcpThreshold
    }

    public init(domain: String = "ims.mnc001.mcc001.3gppnetwork.org",
                sipAddresses: [String] = ["192.168.4.1", "2001:468:3000:1::"], sipPort: UInt16 = 5060,
                mediaPortMin: UInt16 = 10000, mediaPortMax: UInt16 = 20000,
                path: String = "sip:ims.mnc001.mcc001.3gppnetwork.org", bindingExpires: UInt32 = 3600,
                subscribeExpires: UInt32 = 0, precondition: IMSPreconditionMode = .on, use100rel: Bool = true,
                echo: [IMSEchoEntry] = [IMSEchoEntry(impu: "tel:666"), IMSEchoEntry(impu: "tel:+666"), IMSEchoEntry(impu: "tel:404", code: 404)],
                timers: SIPTimerValues = SIPTimerValues(t1: 2, t2: 16, t4: 17),
                userAgent: String = "VoWiFi-Core-IMS", mncDigits: Int = 2, challengeLifetime: Double = 60) {
        self.domain = domain; self.sipAddresses = sipAddresses; self.sipPort = sipPort
        self.mediaPortMin = mediaPortMin; self.mediaPortMax = mediaPortMax; self.path = path
        self.bindingExpires = bindingExpires; self.subscribeExpires = subscribeExpires
        self.precondition = precondition; self.use100rel = use100rel; self.echo = echo; self.timers = timers
        self.userAgent = userAgent; self.mncDigits = mncDigits; self.challengeLifetime = challengeLifetime
    }

    /// Our address in the family of `peer` (IPv6 when the peer's address has a colon). A peer
    /// on this host (SIPp on 127.0.0.1) gets our loopback address when one is configured: the
    /// first address of the family is a P-CSCF address it cannot reach, and the echo media
    /// could not be bound there without the TUN.
    public func localAddress(for peer: SIPPeer) -> String {
        let v6 = peer.address.contains(":")
        if IMSConfig.isLoopback(peer.address),
           let lo = sipAddresses.first(where: { IMSConfig.isLoopback($0) && $0.contains(":") == v6 }) {
            return lo
        }
        return sipAddresses.first(where: { $0.contains(":") == v6 }) ?? sipAddresses.first ?? (v6 ? "::1" : "127.0.0.1")
    }

    /// The SIP port of our address `address`.
    public func sipPort(for address: String) -> UInt16 { sipPorts[address] ?? sipPort }

    /// The SIP port of our address toward `peer` (that of `localAddress(for:)`).
    public func localPort(for peer: SIPPeer) -> UInt16 { sipPort(for: localAddress(for: peer)) }

    /// The media port range of our address `address` (its `sip_addr` entry's, else the default).
    public func mediaPortRange(for address: String) -> ClosedRange<UInt16> {
        mediaPortRanges[address] ?? mediaPortMin...max(mediaPortMin, mediaPortMax)
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.lowercased() == "0:0:0:0:0:0:0:1"
    }

    /// host[:port] form of our address for URIs and Via (IPv6 in brackets).
    public func localHostPort(for peer: SIPPeer) -> String {
        let a = localAddress(for: peer)
        return (a.contains(":") ? "[" + a + "]" : a) + ":" + String(sipPort(for: a))
    }
}
