/// The IMS config (the callbox's `ims.cfg`): SIP addresses (P-CSCF/S-CSCF), domain, echo
/// (voice loopback) numbers, SIP timers and the shared `ue_db`.
public struct IMSConfig: Sendable {
    /// One `sip_addr` entry.
    public struct SIPAddr: Sendable, Equatable {
        /// `addr`: the advertised address, default port 5060.
        public var addr: ConfigEndpoint
        /// `bind_addr`: where to listen (default = addr).
        public var bindAddr: ConfigEndpoint
        /// UDP port range for media.
        public var portMin: Int = 10000
        public var portMax: Int = 20000
    }

    /// One `echo` number: a call to it is answered and its media echoed back.
    public struct Echo: Sendable, Equatable {
        /// `"tel:666"`, `"urn:service:sos"`...
        public var impu: String
        /// Answer with this final response code instead (100...699), e.g. 404.
        public var code: Int?
        /// Accept anonymous callers.
        public var anonymous: Bool = false
        /// Require the caller to be authenticated (registered).
        public var authentication: Bool = true
    }

    public enum Precondition: String, CaseIterable, Sendable {
        case on, off, silent
    }

    /// `session_expires` (RFC 4028).
    public struct SessionExpires: Sendable, Equatable {
        public var duration: Int = 1800
        public var min: Int = 90
        public var refresher: String = "uac"
        public var method: String = "update"
        public var force: Bool = true
    }

    public var sipAddr: [SIPAddr] = []
    /// `domain`: the home domain of IMPUs and digest realms.
    public var domain: String = "ims.mnc001.mcc001.3gppnetwork.org"
    public var echo: [Echo] = []
    public var precondition: Precondition = .on
    /// `"100rel"`: offer reliable provisional responses (RFC 3262).
    public var rel100: Bool = true
    /// `binding_expires`: maximum registration lifetime in seconds (1...864000).
    public var bindingExpires: Int = 3600
    public var sessionExpires = SessionExpires()
    /// `tcp_threshold`: requests larger than this many bytes go over TCP (RFC 3261 §18.1.1).
    public var tcpThreshold: Int = 1300
    /// `tcp_keepalive`: seconds without traffic before the first TCP keepalive probe on a SIP
    /// connection (0 = no keepalive); `tcp_keepcount`: unanswered probes before it is dropped.
    public var tcpKeepalive: Int = 900
    public var tcpKeepcount: Int = 2
    /// `tcp_idle_timeout` (not a callbox key): seconds without SIP after which a TCP connection
    /// no binding or transaction uses is closed (0 = never).
    public var tcpIdleTimeout: Int = 1800
    /// SIP timers T1, T2, T4 in seconds.
    public var timerT1: Double = 2
    public var timerT2: Double = 16
    public var timerT4: Double = 17
    /// `path`: Path header value; nil when configured as "" (disabled).
    public var path: String? = "sip:ims.mnc001.mcc001.3gppnetwork.org"
    public var ueDB: [UEDBEntry] = []
    public var logOptions: String?
    public var logFilename: String?
    /// The file that was loaded and its directory.
    public var filePath: String
    public var configDirectory: String
    public var ignored: [ConfigWarning] = []
    /// `com_addr`: the WebSocket remote API (default port 9003); nil: no API.
    public var comAddr: ConfigEndpoint?
    /// `com_name`: the name the remote API's ready message gives (default "IMS").
    public var comName: String?
    /// `com_auth`: clients must answer a password challenge first; nil: no authentication.
    public var comAuth: ComAuthConfig?

    public var expandedUEDB: [UEDBEntry] { ueDB.flatMap { $0.expanded() } }

    public static func load(path: String) throws -> (config: IMSConfig, warnings: [ConfigWarning]) {
        try decode(ConfigDocument.load(path: path), path: path)
    }

    public static func decode(_ object: ConfigObject, path: String) throws -> (config: IMSConfig, warnings: [ConfigWarning]) {
        let dir = MMEConfig.directory(of: path)
        let decoder = Decoder(configDirectory: dir)
        let top = SourceLocation(file: path, line: 1, column: 1)
        let r = ObjectReader(object, at: top, path: "", pattern: "", decoder: decoder)
        var c = IMSConfig(filePath: path, configDirectory: dir)
        if let v = r.raw("sip_addr") {
            var seen: [ConfigIPAddress: (key: String, location: SourceLocation)] = [:]
            for (i, item) in (v.array ?? [v]).enumerated() {
                let key = v.array == nil ? "sip_addr" : "sip_addr[\(i)]"
                guard let e = decodeSIPAddr(item, key: key, r: r) else { continue }
                // Each address has one SIP port (Via, Record-Route, Contact name it with it).
                if let f = seen[e.addr.address] {
                    decoder.fail(.invalidValue, at: item.location,
                                 "\(key): address \(e.addr.address.text) is already \(f.key) (\(f.location)): one sip_addr entry per address")
                    continue
                }
                seen[e.addr.address] = (key, item.location)
                c.sipAddr.append(e)
            }
        } else {
            decoder.fail(.missing, at: top, "missing required property 'sip_addr' (e.g. sip_addr: [\"192.168.4.1\"])")
        }
        if let s = r.string("domain") { c.domain = s }
        if let v = r.raw("echo") {
            for (i, item) in (v.array ?? [v]).enumerated() {
                if let e = decodeEcho(item, key: v.array == nil ? "echo" : "echo[\(i)]", r: r) { c.echo.append(e) }
            }
        }
        if let p = r.choice("precondition", Precondition.self) { c.precondition = p }
        if let b = r.bool("100rel") { c.rel100 = b }
        if let v = r.int("binding_expires", 1...864000, unit: " (seconds)") { c.bindingExpires = v }
        if let v = r.raw("session_expires") { c.sessionExpires = decodeSessionExpires(v, decoder) }
        if let v = r.int("tcp_threshold", 0...65535, unit: " (bytes)") { c.tcpThreshold = v }
        if let v = r.int("tcp_keepalive", 0...32767, unit: " (seconds)") { c.tcpKeepalive = v }
        if let v = r.int("tcp_keepcount", 1...127, unit: " (probes)") { c.tcpKeepcount = v }
        if let v = r.int("tcp_idle_timeout", 0...864000, unit: " (seconds)") { c.tcpIdleTimeout = v }
        if let v = r.double("timer_t1", 0.001...3600) { c.timerT1 = v }
        if let v = r.double("timer_t2", 0.001...3600) { c.timerT2 = v }
        if let v = r.double("timer_t4", 0.001...3600) { c.timerT4 = v }
        if let s = r.string("path") { c.path = s.isEmpty ? nil : s }
        if let items = r.array("ue_db") {
            c.ueDB = items.enumerated().compactMap { UEDBEntry.decode($1, index: $0, decoder: decoder) }
        }
        c.logOptions = r.string("log_options")
        c.logFilename = r.string("log_filename")
        c.comAddr = r.endpoint("com_addr", defaultPort: 9003)
        c.comName = r.string("com_name")
        if let v = r.raw("com_auth") { c.comAuth = ComAuthConfig.decode(v, decoder: decoder) }
        MMEConfig.checkUniqueIMSIs(c.ueDB, decoder)
        r.finishLoose()
        try decoder.check()
        c.ignored = decoder.warnings
        return (c, decoder.warnings)
    }

    private static func decodeSIPAddr(_ v: ConfigValue, key: String, r: ObjectReader) -> SIPAddr? {
        if v.string != nil {
            guard let e = r.checkedEndpoint(v, key: key, defaultPort: 5060) else { return nil }
            return SIPAddr(addr: e, bindAddr: e)
        }
        guard let o = ObjectReader(v, path: key, pattern: "sip_addr[]", decoder: r.decoder) else { return nil }
        let before = r.decoder.errors.count
        guard let addr = o.required(o.endpoint("addr", defaultPort: 5060), "addr") else {
            o.finishStrict(what: "sip_addr parameter", documented: ["trunk"])
            return nil
        }
        var e = SIPAddr(addr: addr, bindAddr: o.endpoint("bind_addr", defaultPort: addr.port) ?? addr)
        if let v = o.int("port_min", 1...65535) { e.portMin = v }
        if let v = o.int("port_max", 1...65535) { e.portMax = v }
        if e.portMin > e.portMax {
            r.decoder.fail(.invalidValue, at: o.raw("port_max")?.location ?? v.location, "\(key): port_min \(e.portMin) is above port_max \(e.portMax)")
        }
        o.finishStrict(what: "sip_addr parameter", documented: ["trunk"])
        return r.decoder.errors.count == before ? e : nil
    }

    private static func decodeEcho(_ v: ConfigValue, key: String, r: ObjectReader) -> Echo? {
        if let s = v.string { return Echo(impu: s) }
        guard let o = ObjectReader(v, path: key, pattern: "echo[]", decoder: r.decoder) else { return nil }
        guard let impu = o.required(o.string("impu"), "impu") else {
            o.finishStrict(what: "echo parameter", documented: UEDBEntry.impuDocumentedUnused)
            return nil
        }
        var e = Echo(impu: impu)
        e.code = o.int("code", 100...699)
        if let b = o.bool("anonymous") { e.anonymous = b }
        if let b = o.bool("authentication") { e.authentication = b }
        o.finishStrict(what: "echo parameter", documented: UEDBEntry.impuDocumentedUnused.union(["imei"]))
        return e
    }

    private static func decodeSessionExpires(_ v: ConfigValue, _ decoder: Decoder) -> SessionExpires {
        var s = SessionExpires()
        guard let o = ObjectReader(v, path: "session_expires", pattern: "session_expires", decoder: decoder) else { return s }
        if let d = o.int("duration", 0...86400) { s.duration = d }
        if let d = o.int("min", 0...86400) { s.min = d }
        if let t = o.string("refresher") { s.refresher = t }
        if let t = o.string("method") { s.method = t }
        if let b = o.bool("force") { s.force = b }
        o.finishLoose()
        return s
    }
}

/// Which program a config file is for, judged by its content.
public enum ConfigKind: Sendable, Equatable {
    /// Has `epdg` or `pdn_list` (the callbox LTEMME config).
    case mme
    /// Has `sip_addr` (the callbox LTEIMS config).
    case ims

    public static func detect(_ object: ConfigObject) -> ConfigKind? {
        if object["epdg"] != nil || object["pdn_list"] != nil { return .mme }
        if object["sip_addr"] != nil { return .ims }
        return nil
    }
}
