import Config
import IKEv2
import Wire

/// The MME's remote API messages for its ePDG (callbox §6.8 and `ue_get`, `ipsec`): each
/// request is posted to every ePDG shard, read or carried out there, and gathered.
final class MMERemoteAPI: RemoteAPIHandler {
    let type = "MME"
    let name: String
    let cluster: EPDGCluster
    let mme: MMEConfig
    var comAuth: ComAuthConfig? { mme.comAuth }
    let ueIDs = RemoteAPIUEIDs()

    init(name: String?, cluster: EPDGCluster, mme: MMEConfig) {
        self.name = name ?? "MME"
        self.cluster = cluster
        self.mme = mme
    }

    func handle(_ r: RemoteAPIRequest, reply: @escaping RemoteAPIReply) -> Bool {
        switch r.message {
        case "config_get":
            reply(["type": .string(type), "name": .string(name), "plmn": .string(mme.plmn.mcc + mme.plmn.mnc),
                   "epdg": .bool(mme.epdg != nil)])
        case "ue_get":
            let only = r["imsi"], imei = r["imei"]
            cluster.gather({ $0.remoteAPIUEs(imsi: only) }) { [ueIDs] in
                let ues = Self.merge($0.flatMap { $0 }).filter { u in imei.map { Self.sameDevice(u, $0) } ?? true }
                reply(["ue_list": .array(ues.map { Self.json($0, ueID: ueIDs.id($0.imsi)) })])
            }
        case "ipsec":
            cluster.gather({ $0.remoteAPIESPSAs() }) { [ueIDs] in
                reply(["SAs": .array($0.flatMap { $0 }.map { Self.json($0, ueID: ueIDs.id($0.imsi)) })])
            }
        case "epdg_pdn_reestab":
            guard let (imsi, apn) = target(r, reply) else { break }
            cluster.gather({ $0.remoteAPIReestablish(imsi: imsi, apn: apn) }) { counts in
                reply(counts.reduce(0, +) > 0 ? [:] : ["error": .string("No PDN connection of IMSI \(imsi) for APN \(apn)")])
            }
        case "epdg_send_p_cscf":
            guard let (imsi, apn) = target(r, reply) else { break }
            guard let pdn = mme.pdn(named: apn) else { reply(["error": .string("Unknown APN: \(apn)")]); break }
            let addresses = pdn.pCSCFAddr.compactMap { IPAddress(bytes: $0.bytes) }
            cluster.gather({ $0.remoteAPISendPCSCF(imsi: imsi, apn: apn, addresses: addresses) }) { counts in
                reply(counts.reduce(0, +) > 0 ? ["p_cscf_addr": .array(addresses.map { .string($0.description) })]
                                               : ["error": .string("No PDN connection of IMSI \(imsi) for APN \(apn) (or a request already pending)")])
            }
        default:
            return false
        }
        return true
    }

    /// The UE of `imsi` or `nai` (the NAI names the IMSI, TS 23.003 §19.3) and the `apn`;
    /// nil after replying with the error.
    private func target(_ r: RemoteAPIRequest, _ reply: RemoteAPIReply) -> (String, String)? {
        guard let imsi = r["imsi"] ?? r["nai"].flatMap({ NAI($0)?.imsi }) else {
            reply(["error": .string(r["nai"] != nil ? "Invalid nai: \(r["nai"]!)" : "Missing imsi or nai")])
            return nil
        }
        guard let apn = r["apn"] else { reply(["error": "Missing apn"]); return nil }
        return (imsi, apn)
    }

    /// One entry per IMSI: a UE's PDN connections may sit on different shards.
    static func merge(_ ues: [RemoteAPIUE]) -> [RemoteAPIUE] {
        var order: [String] = [], byIMSI: [String: RemoteAPIUE] = [:]
        for u in ues {
            if var m = byIMSI[u.imsi] {
                m.bearers += u.bearers
                m.imei = m.imei ?? u.imei; m.imeisv = m.imeisv ?? u.imeisv
                byIMSI[u.imsi] = m
            } else {
                order.append(u.imsi); byIMSI[u.imsi] = u
            }
        }
        return order.compactMap { byIMSI[$0] }
    }

    /// The `imei` filter: IMEI and IMEISV share TAC and SNR, their first 14 digits (TS 23.003
    /// §6.2), so either form (with or without check digit or SVN) finds the phone.
    static func sameDevice(_ u: RemoteAPIUE, _ imei: String) -> Bool {
        let wanted = imei.count >= 14 ? String(imei.prefix(14)) : imei
        return [u.imei, u.imeisv].contains { $0.map { ($0.count >= 14 ? String($0.prefix(14)) : $0) == wanted } ?? false }
    }

    static func json(_ u: RemoteAPIUE, ueID: Int) -> JSONValue {
        var o: JSONObject = ["rat_type": "NON_3GPP", "imsi": .string(u.imsi), "ue_id": .int(Int64(ueID)), "registered": true]
        if let v = u.imeisv { o["imeisv"] = .string(v) }
        if let v = u.imei { o["imei"] = .string(v) }
        o["bearers"] = .array(u.bearers.map { b in
            var e: JSONObject = ["apn": .string(b.apn), "ul_total_bytes": .int(Int64(clamping: b.ulBytes)),
                                 "dl_total_bytes": .int(Int64(clamping: b.dlBytes))]
            if let a = b.ipv4 { e["ip"] = .string(a) }
            if let a = b.ipv6 { e["ipv6"] = .string(a) }
            return .object(e)
        })
        return .object(o)
    }

    static func json(_ sa: RemoteAPIESPSA, ueID: Int) -> JSONValue {
        .object(["type": .string(sa.ipv6 ? "IPv6" : "IPv4"), "dir": .string(sa.inbound ? "in" : "out"), "spi": .int(Int64(sa.spi)),
                 "ue_id": .int(Int64(ueID)), "imsi": .string(sa.imsi), "mode": "tunnel", "src": .string(sa.src), "dst": .string(sa.dst),
                 "src_prefix": .array(sa.srcPrefix.map(JSONValue.string)), "dst_prefix": .array(sa.dstPrefix.map(JSONValue.string)),
                 "authent_key": .string(sa.authentKey), "cipher_key": .string(sa.cipherKey)])
    }
}
