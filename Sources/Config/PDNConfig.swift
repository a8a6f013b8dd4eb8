/// One entry of the MME `pdn_list`: the APN a phone names in IDr, its address pools, and the
/// DNS and P-CSCF addresses the ePDG returns in CFG_REPLY.
public struct PDNConfig: Sendable {
    public enum PDNType: String, CaseIterable, Sendable {
        case ipv4, ipv6, ipv4v6
    }

    /// `access_point_name`: the name, then any aliases. Never empty.
    public var accessPointNames: [String]
    /// The first name (the APN).
    public var accessPointName: String { accessPointNames.first ?? "" }
    /// `pdn_type`, default ipv4.
    public var pdnType: PDNType = .ipv4
    /// `first_ip_addr` / `last_ip_addr`: the IPv4 pool (both or neither).
    public var firstIPAddr: ConfigIPAddress?
    public var lastIPAddr: ConfigIPAddress?
    /// `ip_addr_shift`: the pool hands out every 2^shift-th address (0...8).
    public var ipAddrShift: Int = 0
    /// `first_ipv6_prefix` / `last_ipv6_prefix`: the /64 prefixes handed out.
    public var firstIPv6Prefix: ConfigIPAddress?
    public var lastIPv6Prefix: ConfigIPAddress?
    /// `dns_addr`: IPv4 and IPv6 DNS servers.
    public var dnsAddr: [ConfigIPAddress] = []
    /// `p_cscf_addr`: P-CSCF addresses returned as P_CSCF_IP4_ADDRESS / P_CSCF_IP6_ADDRESS.
    public var pCSCFAddr: [ConfigIPAddress] = []
    /// `emergency`: the PDN for emergency calls (and its P-CSCF).
    public var emergency: Bool = false
    /// `authentication` with `username` / `password` (also the credentials of `additional_ue_auth_type`).
    public var authentication: AdditionalUEAuthType = .none
    public var username: String?
    public var password: String?
    /// `tun_ifname`: per-PDN TUN device; nil = the ePDG's `tun_ifname`.
    public var tunIfname: String?
    public var location: SourceLocation

    /// Callbox PDN keys that VoWiFi Core accepts and ignores.
    static let documentedUnused: Set<String> = [
        "erabs", "qci", "priority_level", "pre_emption_capability", "pre_emption_vulnerability", "ambr_dl", "ambr_ul",
        "apn_ambr_dl", "apn_ambr_ul", "backoff_timer", "tun_setup_script", "default", "slices", "nssai", "5qi",
        "qos_flows", "ssc_mode", "mtu_size", "ipv6_interface_id", "ipv6_prefix_len", "ipv4_auto_increment",
        "ipv6_auto_increment", "filters", "sst", "sd", "dnn", "cp_ciot_opt", "up_ciot_opt", "non_ip", "ethernet",
        "unstructured", "apn_rate_control", "serving_plmn_rate_control", "pcscf_restoration", "p_cscf_restoration",
        "restricted", "always_on", "multicast", "broadcast", "routes", "vlan_id", "gtp_u_bind_addr", "arp",
        "emergency_number_list",
    ]

    static func decode(_ value: ConfigValue, index: Int, decoder: Decoder) -> PDNConfig? {
        let path = "pdn_list[\(index)]"
        guard let r = ObjectReader(value, path: path, pattern: "pdn_list[]", decoder: decoder) else { return nil }
        let before = decoder.errors.count
        let names = r.required(r.strings("access_point_name"), "access_point_name") ?? []
        if names.isEmpty, r.raw("access_point_name") != nil {
            decoder.fail(.invalidValue, at: r.raw("access_point_name")?.location, "\(path).access_point_name must not be empty")
        }
        var p = PDNConfig(accessPointNames: names.map(\.0), location: value.location)
        if let t = r.raw("pdn_type") {
            if let s = t.string, ["unstructured", "ethernet"].contains(s) {
                decoder.fail(.invalidValue, at: t.location, "\(path).pdn_type: \(quote(s)) PDNs are not supported by the ePDG (use \"ipv4\", \"ipv6\" or \"ipv4v6\")")
            } else if let v = r.checkedChoice(t, key: "\(path).pdn_type", PDNType.self) {
                p.pdnType = v
            }
        }
        p.firstIPAddr = r.address("first_ip_addr", ipv6: false)
        p.lastIPAddr = r.address("last_ip_addr", ipv6: false)
        if let v = r.int("ip_addr_shift", 0...8) { p.ipAddrShift = v }
        p.firstIPv6Prefix = r.address("first_ipv6_prefix", ipv6: true)
        p.lastIPv6Prefix = r.address("last_ipv6_prefix", ipv6: true)
        p.dnsAddr = addresses(r, "dns_addr")
        p.pCSCFAddr = addresses(r, "p_cscf_addr")
        if let v = r.bool("emergency") { p.emergency = v }
        if let v = r.choice("authentication", AdditionalUEAuthType.self) { p.authentication = v }
        for key in ["username", "password"] {
            if let s = r.string(key) {
                if s.utf8.count > 100 {
                    decoder.fail(.range, at: r.raw(key)?.location, "\(path).\(key) is \(s.utf8.count) characters long; at most 100 are allowed")
                }
                if key == "username" { p.username = s } else { p.password = s }
            }
        }
        p.tunIfname = r.string("tun_ifname")

        // Pools must be consistent with the PDN type.
        if (p.firstIPAddr == nil) != (p.lastIPAddr == nil) {
            decoder.fail(.missing, at: value.location, "\(path): first_ip_addr and last_ip_addr go together")
        }
        if let fa = p.firstIPAddr, let la = p.lastIPAddr, let a = fa.ipv4Value, let b = la.ipv4Value, a > b {
            decoder.fail(.invalidValue, at: r.raw("last_ip_addr")?.location, "\(path).last_ip_addr \(la) is below first_ip_addr \(fa)")
        }
        if (p.firstIPv6Prefix == nil) != (p.lastIPv6Prefix == nil) {
            decoder.fail(.missing, at: value.location, "\(path): first_ipv6_prefix and last_ipv6_prefix go together")
        }
        if let a = p.firstIPv6Prefix, let b = p.lastIPv6Prefix, a.bytes.lexicographicallyPrecedes(b.bytes) == false, a != b {
            decoder.fail(.invalidValue, at: r.raw("last_ipv6_prefix")?.location, "\(path).last_ipv6_prefix \(b) is below first_ipv6_prefix \(a)")
        }
        r.finishStrict(what: "pdn_list parameter", documented: documentedUnused)
        return decoder.errors.count == before ? p : nil
    }

    private static func addresses(_ r: ObjectReader, _ key: String) -> [ConfigIPAddress] {
        guard let v = r.raw(key) else { return [] }
        let items: [ConfigValue] = v.array ?? [v]
        return items.enumerated().compactMap { i, e in
            r.checkedAddress(e, key: v.array == nil ? r.fieldPath(key) : "\(r.fieldPath(key))[\(i)]")
        }
    }
}
