import Foundation

/// One subscriber of `ue_db` (shared by the MME/HSS and the IMS): SIM credentials for
/// EAP-AKA and IMS AKA, and the SIP identities.
public struct UEDBEntry: Sendable {
    public enum SIMAlgorithm: String, CaseIterable, Sendable {
        /// The XOR test algorithm (TS 34.108 §8.1.2) of test USIMs.
        case xor
        /// Milenage (TS 35.206); needs `op` or `opc`.
        case milenage
    }

    /// `authent_type` of the IMS: how a REGISTER is challenged.
    public enum AuthentType: String, CaseIterable, Sendable {
        case none
        case md5 = "MD5"
        case akav1 = "AKAv1"
        case akav2 = "AKAv2"
    }

    /// An IMPU: a string, or an object with per-IMPU options.
    public struct IMPU: Sendable, Equatable {
        /// As written: `"001010123456789"` (SIP, no host), `"tel:600"`, `"sip:user"`, `"urn:service:sos"`.
        public var impu: String
        /// Only calls/SMS for this IMEI (multi_sim).
        public var imei: String?
        /// Allows anonymous and emergency calls.
        public var anonymous: Bool = false
        /// Requires authentication (default true).
        public var authentication: Bool = true

        public init(impu: String) { self.impu = impu }
    }

    /// A per-UE PDN setting (`ue_db[].pdn_list`).
    public struct UEPDN: Sendable, Equatable {
        public var accessPointName: String
        /// A fixed IPv4 address for this UE on that APN.
        public var ipv4Addr: ConfigIPAddress?
        /// A fixed IPv6 prefix for this UE on that APN.
        public var ipv6Prefix: ConfigIPAddress?
        public var isDefault: Bool = false
    }

    /// 15-digit IMSI; nil for SIP-only (MD5) subscribers.
    public var imsi: String?
    public var simAlgo: SIMAlgorithm = .xor
    /// `K`, 16 bytes.
    public var k: [UInt8]?
    /// `op` or `opc`, 16 bytes each (Milenage needs one).
    public var op: [UInt8]?
    public var opc: [UInt8]?
    /// Milenage r1...r5 (0...127) and c1...c5 (16 bytes); nil = TS 35.206 defaults.
    public var r: [Int]?
    public var c: [[UInt8]]?
    /// `amf`, 0...65535. Default 0x9001 as in the shipped databases (not documented).
    public var amf: UInt16 = 0x9001
    /// Initial SQN, 6 bytes.
    public var sqn: [UInt8] = [0, 0, 0, 0, 0, 0]
    /// RES length in bytes, 4...16.
    public var resLen: Int = 8
    /// IMS private identity (the REGISTER username). Default applied by the IMS:
    /// `<imsi>@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org`.
    public var impi: String?
    public var impu: [IMPU] = []
    /// Overrides the IMS `domain` for this user.
    public var domain: String?
    /// Default AKAv1, or MD5 when `pwd` is set and `authent_type` is absent.
    public var authentType: AuthentType = .akav1
    /// MD5 digest password.
    public var pwd: String?
    public var msisdn: String?
    /// Number of SIMs this entry stands for (IMSI and K incremented); see `expanded()`.
    public var count: Int = 1
    /// Several phones with the same IMSI, told apart by IMEI (XOR only).
    public var multiSim: Bool = false
    public var pdnList: [UEPDN] = []
    public var location: SourceLocation

    /// Callbox ue_db keys VoWiFi Core accepts and ignores.
    static let documentedUnused: Set<String> = [
        "nai", "tuak", "top", "topc", "keccak_iter", "force_sqn_resync", "5gs_auth_type", "at_result_ind",
        "isim_auth", "restrict_pdn_list", "ue_aggregate_max_bitrate_dl", "ue_aggregate_max_bitrate_ul", "t3412",
        "t3512", "n3gpp_dereg_timer", "authent_qop", "mt_call_sdp_file", "auth_on_register_only", "proxy_auth",
        "force_sms_over_sg", "imeisv", "imei", "ambr_dl", "ambr_ul", "nssai", "slices", "sms", "eps_ciot_opt",
        "cp_ciot_opt", "up_ciot_opt", "edrx", "psm", "mico_mode", "routing_indicator", "ue_usage_type",
        "default_nssai", "allowed_nssai", "dn_list", "network_slicing", "subscribed_ue_ambr", "rat_restriction",
        "core_network_type_restriction", "access_restriction_data", "callflow_modifier", "sdp_file",
        "precondition", "100rel", "use183", "early_media", "answer_delay", "ring_only", "remote_control",
        "session_expires", "custom_headers",
    ]

    static let impuDocumentedUnused: Set<String> = [
        "anonymous_callback", "match", "ring_only", "precondition", "100rel", "use183", "early_media",
        "answer_delay", "sms_delay", "media_delay", "remote_control", "sdp_file", "session_expires",
        "bitrate_factor", "preferred", "asserted", "verstat", "phone", "associated", "display_name", "domain",
        "p_called_party_id", "audio", "video", "text", "rtp", "rtcp", "sms", "reauthenticate", "callflow_modifier",
        "code",
    ]

    static func decode(_ value: ConfigValue, index: Int, decoder: Decoder) -> UEDBEntry? {
        let path = "ue_db[\(index)]"
        guard let r = ObjectReader(value, path: path, pattern: "ue_db[]", decoder: decoder) else { return nil }
        let before = decoder.errors.count
        var u = UEDBEntry(location: value.location)
        if let s = r.string("imsi") {
            if s.utf8.count < 6 || s.utf8.count > 15 || !s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                decoder.fail(.invalidValue, at: r.raw("imsi")?.location, "\(path).imsi: \(quote(s)) is not an IMSI (6 to 15 digits)")
            }
            u.imsi = s
        }
        if let t = r.raw("sim_algo") {
            if t.string == "tuak" {
                decoder.fail(.invalidValue, at: t.location, "\(path).sim_algo: \"tuak\" is not supported by VoWiFi Core (use \"xor\" or \"milenage\")")
            } else if let a = r.checkedChoice(t, key: "\(path).sim_algo", SIMAlgorithm.self) {
                u.simAlgo = a
            }
        }
        u.k = r.hex("K", count: 16)
        u.op = r.hex("op", count: 16)
        u.opc = r.hex("opc", count: 16)
        if let items = r.array("r") {
            if items.count != 5 {
                decoder.fail(.invalidValue, at: r.raw("r")?.location, "\(path).r: expected 5 integers (r1...r5), found \(items.count)")
            } else {
                let vals = items.enumerated().compactMap { i, v in r.checkedInt(v, key: "\(path).r[\(i)]", 0...127) }
                if vals.count == 5 { u.r = vals }
            }
        }
        if let items = r.array("c") {
            if items.count != 5 {
                decoder.fail(.invalidValue, at: r.raw("c")?.location, "\(path).c: expected 5 hex strings (c1...c5), found \(items.count)")
            } else {
                let vals = items.enumerated().compactMap { i, v in r.checkedHex(v, key: "\(path).c[\(i)]", count: 16) }
                if vals.count == 5 { u.c = vals }
            }
        }
        if let v = r.int("amf", 0...65535) { u.amf = UInt16(v) }
        if let v = r.hex("sqn", count: 6) { u.sqn = v }
        if let v = r.int("res_len", 4...16, unit: " (bytes)") { u.resLen = v }
        u.impi = r.string("impi")
        if let v = r.raw("impu") { u.impu = decodeIMPUs(v, key: "\(path).impu", pattern: "ue_db[].impu[]", r: r) }
        u.domain = r.string("domain")
        u.pwd = r.string("pwd")
        if let t = r.choice("authent_type", AuthentType.self) {
            u.authentType = t
        } else if u.pwd != nil && r.raw("authent_type") == nil {
            u.authentType = .md5
        }
        u.msisdn = r.string("msisdn")
        if let v = r.int("count", 1...1_000_000) {
            u.count = v
            // The last SIM's IMSI must still fit the base IMSI's digits (no silent wrap).
            if let imsi = u.imsi, let last = UEDBEntry.addDecimal(imsi, v - 1), last.utf8.count > imsi.utf8.count {
                decoder.fail(.invalidValue, at: r.raw("count")?.location,
                             "\(path).count: \(v) SIMs from IMSI \(imsi) overflow its \(imsi.utf8.count) digits (the last would be \(last))")
            }
        }
        if let v = r.bool("multi_sim") { u.multiSim = v }
        if let items = r.array("pdn_list") {
            for (i, item) in items.enumerated() {
                guard let p = ObjectReader(item, path: "\(path).pdn_list[\(i)]", pattern: "ue_db[].pdn_list[]", decoder: decoder) else { continue }
                let apn = p.required(p.string("access_point_name"), "access_point_name")
                var e = UEPDN(accessPointName: apn ?? "")
                e.ipv4Addr = p.address("ipv4_addr", ipv6: false)
                e.ipv6Prefix = p.address("ipv6_prefix", ipv6: true)
                if let d = p.bool("default") { e.isDefault = d }
                p.finishStrict(what: "ue_db pdn_list parameter",
                               documented: ["imei", "multicast", "broadcast", "routes", "nssai", "pdn_type"])
                u.pdnList.append(e)
            }
        }

        // Cross-field rules.
        if u.imsi == nil && u.impi == nil {
            decoder.fail(.missing, at: value.location, "\(path): needs 'imsi' (a SIM) or 'impi' (a SIP-only user)")
        }
        let needsAKA = u.authentType == .akav1 || u.authentType == .akav2 || u.imsi != nil
        if needsAKA && u.k == nil && r.raw("K") == nil {
            decoder.fail(.missing, at: value.location, "\(path): missing required property 'K' (the SIM key, 16 bytes hex)")
        }
        if u.simAlgo == .milenage && u.op == nil && u.opc == nil && r.raw("op") == nil && r.raw("opc") == nil {
            decoder.fail(.missing, at: value.location, "\(path): sim_algo \"milenage\" needs 'op' or 'opc' (16 bytes hex)")
        }
        if u.op != nil && u.opc != nil {
            decoder.fail(.invalidValue, at: r.raw("opc")?.location, "\(path): give 'op' or 'opc', not both")
        }
        if u.authentType == .md5 && u.pwd == nil {
            decoder.fail(.missing, at: value.location, "\(path): authent_type \"MD5\" needs 'pwd'")
        }
        if u.multiSim && u.simAlgo != .xor {
            decoder.fail(.invalidValue, at: r.raw("multi_sim")?.location, "\(path).multi_sim works with sim_algo \"xor\" only")
        }
        if u.count > 1 && u.imsi == nil {
            decoder.fail(.missing, at: r.raw("count")?.location, "\(path).count needs an 'imsi' to increment")
        }
        r.finishStrict(what: "ue_db parameter", documented: documentedUnused)
        return decoder.errors.count == before ? u : nil
    }

    /// `impu` (and the IMS `echo` list): strings or objects.
    static func decodeIMPUs(_ v: ConfigValue, key: String, pattern: String, r: ObjectReader,
                            extra: (ObjectReader, inout IMPU) -> Void = { _, _ in }) -> [IMPU] {
        let items = v.array ?? [v]
        var out: [IMPU] = []
        for (i, item) in items.enumerated() {
            let itemKey = v.array == nil ? key : "\(key)[\(i)]"
            if let s = item.string {
                out.append(IMPU(impu: s))
                continue
            }
            guard let o = ObjectReader(item, path: itemKey, pattern: pattern, decoder: r.decoder) else { continue }
            guard let name = o.required(o.string("impu"), "impu") else { continue }
            var e = IMPU(impu: name)
            e.imei = o.string("imei")
            if let b = o.bool("anonymous") { e.anonymous = b }
            if let b = o.bool("authentication") { e.authentication = b }
            extra(o, &e)
            o.finishStrict(what: "impu parameter", documented: impuDocumentedUnused)
            out.append(e)
        }
        return out
    }

    /// The SIMs this entry stands for: `count` entries, the IMSI incremented as a decimal
    /// number of the same width (decoding rejects a count that would overflow it) and K as a
    /// 128-bit big-endian number (wrapping); IMPI/IMPU strings containing the base IMSI get
    /// the new one. The one expansion of `count`: the HSS, the IMS and the demo all use it.
    public func expanded() -> [UEDBEntry] {
        guard count > 1, let imsi else { return [self] }
        var out: [UEDBEntry] = []
        out.reserveCapacity(count)
        for n in 0..<count {
            var e = self
            e.count = 1
            let newIMSI = UEDBEntry.addDecimal(imsi, n) ?? imsi
            e.imsi = newIMSI
            e.k = k.map { UEDBEntry.add128($0, n) }
            if n > 0 {
                e.impi = impi?.replacingOccurrences(of: imsi, with: newIMSI)
                e.impu = impu.map { var x = $0; x.impu = x.impu.replacingOccurrences(of: imsi, with: newIMSI); return x }
            }
            out.append(e)
        }
        return out
    }

    /// A decimal digit string plus n; one digit longer when it carries out of the width,
    /// nil when `digits` is not decimal.
    static func addDecimal(_ digits: String, _ n: Int) -> String? {
        var d = Array(digits.utf8)
        guard d.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var carry = n
        var i = d.count - 1
        while carry > 0 {
            if i < 0 { d.insert(0x30, at: 0); i = 0 }
            let s = Int(d[i] - 0x30) + carry
            d[i] = UInt8(0x30 + s % 10)
            carry = s / 10
            i -= 1
        }
        return String(decoding: d, as: UTF8.self)
    }

    /// Big-endian K + n, modulo 2^(8·count).
    static func add128(_ k: [UInt8], _ n: Int) -> [UInt8] {
        var out = k
        var carry = n
        var i = out.count - 1
        while carry > 0 && i >= 0 {
            let s = Int(out[i]) + (carry & 0xFF)
            out[i] = UInt8(s & 0xFF)
            carry = (carry >> 8) + (s >> 8)
            i -= 1
        }
        return out
    }
}
