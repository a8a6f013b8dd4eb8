/// The `epdg` object of the MME config: the ePDG's SWu side (callbox LTEMME §5.2.21,
/// 21 parameters) plus VoWiFi Core's own settings. Defaults are the documented ones.
public struct EPDGConfig: Sendable {
    /// `bind_addr`: where IKE listens (UDP, default port 500). Required.
    public var bindAddr: ConfigEndpoint
    /// `private_key`: PEM file, as written; `privateKeyPath` is resolved against the config directory.
    public var privateKey: String = "epdg_private_key.pem"
    public var privateKeyPath: String
    /// `certificate`: PEM file, as written; `certificatePath` is resolved.
    public var certificate: String = "epdg_cert.pem"
    public var certificatePath: String
    /// `esp_duration`: Child SA lifetime in seconds, 10...18000.
    public var espDuration: Int = 300
    /// `ike_duration`: IKE SA lifetime in seconds, 20...172800; the ePDG rekeys the IKE SA at 90%.
    public var ikeDuration: Int = 86400
    /// `omit_auth_in_first_auth_rsp`: leave AUTH out of the first IKE_AUTH response (buggy UEs).
    public var omitAuthInFirstAuthRsp: Bool = false
    /// `p_cscf_ipv4_address_attribute_type`: private CP attribute (16384...32767) instead of 20.
    public var pCSCFIPv4AddressAttributeType: Int?
    /// `p_cscf_ipv6_address_attribute_type`: private CP attribute (16384...32767) instead of 21.
    public var pCSCFIPv6AddressAttributeType: Int?
    /// Algorithm lists, most preferred first.
    public var ikeEncryptionAlgoList: [EncryptionAlgorithm] = EncryptionAlgorithm.ikeDefault
    public var ikeIntegrityAlgoList: [IntegrityAlgorithm] = IntegrityAlgorithm.ikeDefault
    public var ikePRFList: [PRFAlgorithm] = PRFAlgorithm.ikeDefault
    public var ikeDHGroupList: [DHGroup] = DHGroup.ikeDefault
    public var espEncryptionAlgoList: [EncryptionAlgorithm] = EncryptionAlgorithm.espDefault
    public var espIntegrityAlgoList: [IntegrityAlgorithm] = IntegrityAlgorithm.espDefault
    /// Used for PFS when rekeying Child SAs; `none` means no KE payload.
    public var espDHGroupList: [DHGroup] = DHGroup.espDefault
    /// `dpd_timer_value`: dead-peer-detection interval in seconds, 5...300.
    public var dpdTimerValue: Int = 300
    /// `mobike`: RFC 4555 support.
    public var mobike: Bool = true
    /// `ike_generate_error`: test hook to ignore or reject one exchange.
    public var ikeGenerateError: IKEGenerateError?
    /// `idr_for_emergency`: the IDr (APN) that marks an emergency tunnel.
    public var idrForEmergency: String = "EMERGENCY"
    /// `dont_fragment`: set DF on ESP packets.
    public var dontFragment: Bool = true
    /// `additional_ue_auth_type`: second authentication (TS 33.402 §6.5); not `none` makes the
    /// ePDG send MULTIPLE_AUTH_SUPPORTED, and the PDN needs `username`/`password`.
    public var additionalUEAuthType: AdditionalUEAuthType = .none

    // VoWiFi Core's own settings.
    /// `nat_t_port`: UDP port of IKE and ESP after NAT detection (RFC 3948), default 4500.
    public var natTPort: UInt16 = 4500
    /// `tun_ifname`: the TUN device that carries the phones' inner packets.
    public var tunIfname: String = "vowifi0"
    /// `cookie_threshold`: half-open IKE SAs before IKE_SA_INIT asks for a COOKIE (RFC 7296 §2.6).
    public var cookieThreshold: Int = 100
    /// `sqn_db`: SQLite file keeping each SIM's SQN across restarts (default `<config dir>/ue_db.sqlite`).
    public var sqnDB: String
    /// `key_log`: file to which IKE/ESP keys are written for Wireshark; nil = off.
    public var keyLog: String?

    public var location: SourceLocation

    /// The 21 callbox parameter names, in the order of the tutorial.
    public static let callboxParameters: [String] = [
        "bind_addr", "private_key", "certificate", "esp_duration", "ike_duration", "omit_auth_in_first_auth_rsp",
        "p_cscf_ipv4_address_attribute_type", "p_cscf_ipv6_address_attribute_type", "ike_encryption_algo_list",
        "ike_integrity_algo_list", "ike_prf_list", "ike_dh_group_list", "esp_encryption_algo_list",
        "esp_integrity_algo_list", "esp_dh_group_list", "dpd_timer_value", "mobike", "ike_generate_error",
        "idr_for_emergency", "dont_fragment", "additional_ue_auth_type",
    ]
    /// VoWiFi Core's additions.
    public static let extraParameters: [String] = ["nat_t_port", "tun_ifname", "cookie_threshold", "sqn_db", "key_log"]
}

/// `additional_ue_auth_type` (and the PDN's `authentication`).
public enum AdditionalUEAuthType: String, CaseIterable, Sendable {
    case none, pap, chap
}

/// `ike_generate_error`: act on one exchange instead of answering normally.
public struct IKEGenerateError: Sendable, Equatable {
    public enum Exchange: String, CaseIterable, Sendable {
        case none
        case ikeSAInit = "ike_sa_init"
        case ikeAuthStep1 = "ike_auth_step1"
        case ikeAuthStep2 = "ike_auth_step2"
        case ikeAuthStep3 = "ike_auth_step3"
        case dpd
        case mobike
    }

    /// One Notify payload to answer with.
    public struct RejectNotify: Sendable, Equatable {
        /// Notify Message Type.
        public var error: Int
        /// Notification data (hex in the config).
        public var data: [UInt8]

        public init(error: Int, data: [UInt8]) {
            self.error = error
            self.data = data
        }
    }

    public var exchange: Exchange = .none
    /// nil: the message is silently ignored; otherwise rejected with these Notify payloads.
    /// The old syntax (`error`/`data` directly in the object) gives a one-element list.
    public var rejectNotifyList: [RejectNotify]?
    /// Apply only this many times; nil = until changed.
    public var ttl: Int?
    /// Only for these APNs (0...16 entries); empty = any APN.
    public var apnList: [String] = []

    public init() {}
}

extension EPDGConfig {
    static let documentedUnused: Set<String> = []

    /// Decodes the `epdg` object; nil when it has errors (recorded in `decoder`).
    static func decode(_ value: ConfigValue, decoder: Decoder) -> EPDGConfig? {
        guard let r = ObjectReader(value, path: "epdg", pattern: "epdg", decoder: decoder) else { return nil }
        let before = decoder.errors.count
        let dir = decoder.configDirectory
        let bind = r.required(r.endpoint("bind_addr", defaultPort: 500), "bind_addr")
        var c = EPDGConfig(bindAddr: bind ?? ConfigEndpoint(address: ConfigIPAddress(bytes: [0, 0, 0, 0], text: "0.0.0.0"), port: 500),
                           privateKeyPath: "", certificatePath: "",
                           sqnDB: joinPath(dir, "ue_db.sqlite"), location: value.location)
        if let s = r.string("private_key") { c.privateKey = s }
        c.privateKeyPath = joinPath(dir, c.privateKey)
        if let s = r.string("certificate") { c.certificate = s }
        c.certificatePath = joinPath(dir, c.certificate)
        if let v = r.int("esp_duration", 10...18000, unit: " (seconds, 10 to 5*3600)") { c.espDuration = v }
        if let v = r.int("ike_duration", 20...172800, unit: " (seconds, 20 to 48*3600)") { c.ikeDuration = v }
        if let v = r.bool("omit_auth_in_first_auth_rsp") { c.omitAuthInFirstAuthRsp = v }
        c.pCSCFIPv4AddressAttributeType = r.int("p_cscf_ipv4_address_attribute_type", 16384...32767)
        c.pCSCFIPv6AddressAttributeType = r.int("p_cscf_ipv6_address_attribute_type", 16384...32767)
        if let l = list(r, "ike_encryption_algo_list", EncryptionAlgorithm.ikeDefault) { c.ikeEncryptionAlgoList = l }
        if let l = list(r, "ike_integrity_algo_list", IntegrityAlgorithm.ikeDefault) { c.ikeIntegrityAlgoList = l }
        if let l = list(r, "ike_prf_list", PRFAlgorithm.ikeDefault) { c.ikePRFList = l }
        if let l = list(r, "ike_dh_group_list", DHGroup.ikeAllowed) { c.ikeDHGroupList = l }
        if let l = list(r, "esp_encryption_algo_list", EncryptionAlgorithm.espDefault) { c.espEncryptionAlgoList = l }
        if let l = list(r, "esp_integrity_algo_list", IntegrityAlgorithm.espDefault) { c.espIntegrityAlgoList = l }
        if let l = list(r, "esp_dh_group_list", DHGroup.espAllowed) { c.espDHGroupList = l }
        if let v = r.int("dpd_timer_value", 5...300, unit: " (seconds)") { c.dpdTimerValue = v }
        if let v = r.bool("mobike") { c.mobike = v }
        if let v = r.raw("ike_generate_error") { c.ikeGenerateError = decodeGenerateError(v, decoder) }
        if let s = r.string("idr_for_emergency") { c.idrForEmergency = s }
        if let v = r.bool("dont_fragment") { c.dontFragment = v }
        if let v = r.choice("additional_ue_auth_type", AdditionalUEAuthType.self) { c.additionalUEAuthType = v }
        if let v = r.int("nat_t_port", 1...65535) { c.natTPort = UInt16(v) }
        if let s = r.string("tun_ifname") {
            if s.isEmpty || s.utf8.count > 15 || s.contains("/") || s.contains(" ") {
                decoder.fail(.invalidValue, at: r.raw("tun_ifname")?.location, "epdg.tun_ifname: \(quote(s)) is not a valid interface name (1 to 15 characters, no '/' or space)")
            } else {
                c.tunIfname = s
            }
        }
        if let v = r.int("cookie_threshold", 0...1_000_000) { c.cookieThreshold = v }
        if let s = r.string("sqn_db") { c.sqnDB = joinPath(dir, s) }
        if let s = r.string("key_log") { c.keyLog = joinPath(dir, s) }
        r.finishStrict(what: "epdg parameter", documented: documentedUnused)
        return decoder.errors.count == before && bind != nil ? c : nil
    }

    /// An algorithm list: a non-empty array of allowed names.
    private static func list<E: RawRepresentable & CaseIterable>(_ r: ObjectReader, _ key: String, _ allowed: [E]) -> [E]?
    where E.RawValue == String {
        guard let items = r.array(key) else { return nil }
        if items.isEmpty {
            r.decoder.fail(.invalidValue, at: r.raw(key)?.location, "epdg.\(key): the list must not be empty")
            return nil
        }
        var out: [E] = []
        for (i, v) in items.enumerated() {
            if let e = r.checkedChoice(v, key: "epdg.\(key)[\(i)]", E.self, allowed: allowed) { out.append(e) }
        }
        return out.count == items.count ? out : nil
    }

    private static func decodeGenerateError(_ v: ConfigValue, _ decoder: Decoder) -> IKEGenerateError? {
        guard let r = ObjectReader(v, path: "epdg.ike_generate_error", pattern: "epdg.ike_generate_error", decoder: decoder) else { return nil }
        var g = IKEGenerateError()
        if let e = r.choice("exchange", IKEGenerateError.Exchange.self) { g.exchange = e }
        if let list = r.array("reject_notify_list") {
            var out: [IKEGenerateError.RejectNotify] = []
            for (i, item) in list.enumerated() {
                guard let n = ObjectReader(item, path: "epdg.ike_generate_error.reject_notify_list[\(i)]",
                                           pattern: "epdg.ike_generate_error.reject_notify_list[]", decoder: decoder) else { continue }
                let err = n.required(n.int("error", 0...65535), "error")
                let data = n.raw("data").flatMap { n.checkedHex($0, key: n.fieldPath("data"), count: nil) } ?? []
                n.finishStrict(what: "reject_notify_list parameter", documented: [])
                if let err { out.append(.init(error: err, data: data)) }
            }
            g.rejectNotifyList = out
        }
        // Old syntax: error/data directly in the object.
        if let err = r.int("error", 0...65535) {
            let data = r.raw("data").flatMap { r.checkedHex($0, key: r.fieldPath("data"), count: nil) } ?? []
            g.rejectNotifyList = (g.rejectNotifyList ?? []) + [.init(error: err, data: data)]
        } else {
            _ = r.raw("data")
        }
        g.ttl = r.int("ttl", 0...Int64(Int32.max))
        if let apns = r.strings("apn_list") {
            if apns.count > 16 {
                decoder.fail(.range, at: r.raw("apn_list")?.location, "epdg.ike_generate_error.apn_list has \(apns.count) entries; at most 16 are allowed")
            }
            g.apnList = apns.map(\.0)
        }
        r.finishStrict(what: "ike_generate_error parameter", documented: [])
        return g
    }
}

/// `path` relative to `dir` unless absolute.
func joinPath(_ dir: String, _ path: String) -> String {
    if path.hasPrefix("/") || dir.isEmpty || dir == "." { return path }
    return dir + "/" + path
}
