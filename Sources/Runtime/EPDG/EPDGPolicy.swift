import Config
import Crypto
import IKEv2
import Wire

/// Maps the callbox `epdg` object and `pdn_list` (Config layer: names as users write
/// them) to the IKEv2 responder's policy (Crypto transforms by IANA number).
public enum EPDGPolicy {
    public struct Mapped: Sendable {
        public var policy: IKEResponderPolicy
        /// Algorithms named in the config that this system cannot run (e.g. Blowfish
        /// without OpenSSL's legacy provider): dropped from the lists, reported at start.
        public var unsupported: [String]
    }

    public static func make(epdg e: EPDGConfig, mme: MMEConfig) -> Mapped {
        var unsupported: [String] = []
        func enc(_ list: [Config.EncryptionAlgorithm]) -> [Crypto.EncryptionAlgorithm] {
            list.compactMap { c in
                do {
                    let a = try Crypto.EncryptionAlgorithm(transformID: c.transformID, keyLength: c.keyLengthBits.map(Int.init))
                    if case .ENCR_BLOWFISH = a { _ = try CipherContext(algorithm: a, keyMaterial: [UInt8](repeating: 1, count: a.keyMaterialLength)) }
                    return a
                } catch { unsupported.append("\(c.rawValue): \(error)"); return nil }
            }
        }
        let espInteg: [Crypto.IntegrityAlgorithm?] = e.espIntegrityAlgoList.map { c in
            c.transformID == 0 ? nil : Crypto.IntegrityAlgorithm(rawValue: c.transformID)
        }
        let apns = mme.pdnList.flatMap { pdn in
            pdn.accessPointNames.map { name in
                APNPolicy(name: name, dnsServers: pdn.dnsAddr.compactMap { IPAddress(bytes: $0.bytes) },
                          pcscfAddresses: pdn.pCSCFAddr.compactMap { IPAddress(bytes: $0.bytes) },
                          credentials: pdn.emergency ? nil : pdn.username.flatMap { u in pdn.password.map { PDNCredentials(username: u, password: $0) } })
            }
        }
        // IDr "EMERGENCY" (idr_for_emergency) selects the emergency PDN's addresses.
        var allAPNs = apns
        if let sos = mme.emergencyPDN {
            allAPNs.append(APNPolicy(name: e.idrForEmergency, dnsServers: sos.dnsAddr.compactMap { IPAddress(bytes: $0.bytes) },
                                     pcscfAddresses: sos.pCSCFAddr.compactMap { IPAddress(bytes: $0.bytes) }))
        }
        let policy = IKEResponderPolicy(
            ikeEncryption: enc(e.ikeEncryptionAlgoList),
            ikeIntegrity: e.ikeIntegrityAlgoList.compactMap { Crypto.IntegrityAlgorithm(rawValue: $0.transformID) },
            ikePRF: e.ikePRFList.compactMap { PseudoRandomFunction(rawValue: $0.transformID) },
            ikeDHGroups: e.ikeDHGroupList.compactMap { Crypto.DHGroup(rawValue: $0.transformID) },
            espEncryption: enc(e.espEncryptionAlgoList),
            espIntegrity: espInteg,
            ikeLifetime: e.ikeDuration, espLifetime: e.espDuration, dpdInterval: e.dpdTimerValue,
            omitAuthInFirstAuthResponse: e.omitAuthInFirstAuthRsp,
            pcscfIPv4AttributeType: e.pCSCFIPv4AddressAttributeType.map(UInt16.init),
            pcscfIPv6AttributeType: e.pCSCFIPv6AddressAttributeType.map(UInt16.init),
            apns: allAPNs, defaultAPN: nil)
        var p = policy
        p.cookieThreshold = e.cookieThreshold
        p.mobike = e.mobike
        p.additionalAuth = AdditionalAuthMethod(rawValue: e.additionalUEAuthType.rawValue) // "none" maps to nil
        return Mapped(policy: p, unsupported: unsupported)
    }
}

extension EPDGPolicy {
    /// The callbox `ike_generate_error` test hook as the IKEv2 layer's error injection:
    /// ignore (no reject list) or reject with the listed notifies, `ttl` times, for `apn_list`.
    public static func errorInjection(_ g: IKEGenerateError?) -> IKEErrorInjection? {
        guard let g, g.exchange != .none, let exchange = IKEErrorInjection.Exchange(rawValue: g.exchange.rawValue) else { return nil }
        let notifies = g.rejectNotifyList.map { list in
            list.map { NotifyPayload(NotifyType(UInt16(clamping: $0.error)), data: $0.data) }
        }
        return IKEErrorInjection(exchange: exchange, rejectNotifies: notifies, ttl: g.ttl, apns: g.apnList)
    }
}
