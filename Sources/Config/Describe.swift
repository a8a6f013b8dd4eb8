import Foundation

/// Human-readable renderings of resolved configs, for `vowifi config check` and logs.

extension EPDGConfig {
    /// Each callbox parameter then each VoWiFi Core extra, with its resolved value
    /// (defaults applied), in the order of `callboxParameters` + `extraParameters`.
    public var resolvedParameters: [(name: String, value: String)] {
        func list<E: RawRepresentable>(_ l: [E]) -> String where E.RawValue == String {
            "[" + l.map { quote($0.rawValue) }.joined(separator: ", ") + "]"
        }
        let ge: String
        if let g = ikeGenerateError {
            var parts = ["exchange: \(quote(g.exchange.rawValue))"]
            if let l = g.rejectNotifyList {
                parts.append("reject_notify_list: [" + l.map { "{error: \($0.error), data: \(quote(hexString($0.data)))}" }.joined(separator: ", ") + "]")
            }
            if let t = g.ttl { parts.append("ttl: \(t)") }
            if !g.apnList.isEmpty { parts.append("apn_list: [" + g.apnList.map(quote).joined(separator: ", ") + "]") }
            ge = "{" + parts.joined(separator: ", ") + "}"
        } else {
            ge = "(none)"
        }
        return [
            ("bind_addr", bindAddr.description),
            ("private_key", quote(privateKey) + (privateKeyPath == privateKey ? "" : " (\(privateKeyPath))")),
            ("certificate", quote(certificate) + (certificatePath == certificate ? "" : " (\(certificatePath))")),
            ("esp_duration", "\(espDuration)"),
            ("ike_duration", "\(ikeDuration)"),
            ("omit_auth_in_first_auth_rsp", "\(omitAuthInFirstAuthRsp)"),
            ("p_cscf_ipv4_address_attribute_type", pCSCFIPv4AddressAttributeType.map { "\($0)" } ?? "(standard: 20)"),
            ("p_cscf_ipv6_address_attribute_type", pCSCFIPv6AddressAttributeType.map { "\($0)" } ?? "(standard: 21)"),
            ("ike_encryption_algo_list", list(ikeEncryptionAlgoList)),
            ("ike_integrity_algo_list", list(ikeIntegrityAlgoList)),
            ("ike_prf_list", list(ikePRFList)),
            ("ike_dh_group_list", list(ikeDHGroupList)),
            ("esp_encryption_algo_list", list(espEncryptionAlgoList)),
            ("esp_integrity_algo_list", list(espIntegrityAlgoList)),
            ("esp_dh_group_list", list(espDHGroupList)),
            ("dpd_timer_value", "\(dpdTimerValue)"),
            ("mobike", "\(mobike)"),
            ("ike_generate_error", ge),
            ("idr_for_emergency", quote(idrForEmergency)),
            ("dont_fragment", "\(dontFragment)"),
            ("additional_ue_auth_type", quote(additionalUEAuthType.rawValue)),
            ("nat_t_port", "\(natTPort)"),
            ("tun_ifname", quote(tunIfname)),
            ("cookie_threshold", "\(cookieThreshold)"),
            ("sqn_db", quote(sqnDB)),
            ("key_log", keyLog.map(quote) ?? "(off)"),
        ]
    }
}

extension PDNConfig {
    /// One line: APN, type, pools, DNS, P-CSCF.
    public var summary: String {
        var parts = ["\(quote(accessPointName))"]
        if accessPointNames.count > 1 { parts.append("aliases " + accessPointNames.dropFirst().map(quote).joined(separator: ", ")) }
        parts.append(pdnType.rawValue)
        if emergency { parts.append("emergency") }
        if let a = firstIPAddr, let b = lastIPAddr { parts.append("ipv4 \(a)-\(b)" + (ipAddrShift > 0 ? " shift \(ipAddrShift)" : "")) }
        if let a = firstIPv6Prefix, let b = lastIPv6Prefix { parts.append("ipv6 prefixes \(a)-\(b)") }
        if !dnsAddr.isEmpty { parts.append("dns " + dnsAddr.map(\.text).joined(separator: ", ")) }
        if !pCSCFAddr.isEmpty { parts.append("p_cscf " + pCSCFAddr.map(\.text).joined(separator: ", ")) }
        if authentication != .none { parts.append("authentication \(authentication.rawValue)") }
        if let t = tunIfname { parts.append("tun \(t)") }
        return parts.joined(separator: "; ")
    }
}

extension UEDBEntry {
    /// One line without secrets: identity, algorithm, AMF, SQN, IMS identities.
    public var summary: String {
        var parts: [String] = []
        if let imsi { parts.append("imsi \(imsi)" + (count > 1 ? " x\(count)" : "")) }
        if imsi != nil || k != nil {
            parts.append(simAlgo.rawValue)
            parts.append(String(format: "amf 0x%04x", Int(amf)))
            parts.append("sqn \(hexString(sqn))")
            if opc != nil { parts.append("opc") } else if op != nil { parts.append("op") }
        }
        if let impi { parts.append("impi \(impi)") }
        if !impu.isEmpty { parts.append("impu " + impu.map(\.impu).joined(separator: ", ")) }
        parts.append("authent_type \(authentType.rawValue)")
        if multiSim { parts.append("multi_sim") }
        return parts.joined(separator: "; ")
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
