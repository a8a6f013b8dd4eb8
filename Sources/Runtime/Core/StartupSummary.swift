import Config
import Foundation

extension VoWiFiCore {
    /// The one-screen summary `vowifi run` prints once everything listens.
    public func summary() -> String {
        var l: [String] = []
        l.append("VoWiFi Core running (PLMN \(mme.plmn.mcc)-\(mme.plmn.mnc))")
        if let e = epdg {
            l.append("  ePDG      IKE \(e.ikeAddress)  NAT-T/ESP \(e.natTAddress)  inner path: \(tun.map { "TUN \($0.name)" } ?? "in-process")")
            l.append("            sharded over \(cluster?.shards.count ?? 1) event loop(s) by SPI; IMS and inner path on loop 0")
            if let c = cluster {
                l.append("            plain ESP (IP protocol 50): " + (c.rawESP != nil ? "served on \(c.ikeAddress.host)" : "off (\(c.rawESPUnavailable ?? "-")); phones must use NAT-T"))
            }
        }
        for p in mme.pdnList {
            l.append("  PDN       \(p.summary)")
        }
        l.append("  IKE       enc \(policy.ikeEncryption.map(\.description).joined(separator: ","))")
        l.append("            integ \(policy.ikeIntegrity.map { "\($0)" }.joined(separator: ",")) prf \(policy.ikePRF.map { "\($0)" }.joined(separator: ","))")
        l.append("            dh \(policy.ikeDHGroups.map { "\($0.rawValue)" }.joined(separator: ","))  ESP enc \(policy.espEncryption.map(\.description).joined(separator: ","))")
        if !unsupportedAlgorithms.isEmpty { l.append("  skipped   \(unsupportedAlgorithms.joined(separator: "; "))") }
        l.append("  cert      \(certificate.certificate.subject)\(certificate.generated ? " (self-signed, generated now)" : "")")
        l.append("  HSS       \(hss.subscriberCount) subscribers, SQN database \(options.sqnDatabase ?? epdgConfig.sqnDB)")
        if let c = imsCluster, let h = c.shards.first {
            l.append("  IMS       domain \(h.core.config.domain)  SIP \(c.bound.isEmpty ? "(no sockets)" : c.bound.joined(separator: " "))\(inProcess != nil ? " + in-process P-CSCF \(h.core.config.sipAddresses.joined(separator: ","))" : "")  \(c.shards.count) shard\(c.shards.count == 1 ? "" : "s")")
            if !c.unbound.isEmpty { l.append("            not on this host (skipped): \(c.unbound.joined(separator: " "))") }
            l.append("  echo      \(ims.echo.map { e in e.code.map { "\(e.impu)→\($0)" } ?? e.impu }.joined(separator: " "))")
        }
        if let r = radius, let rc = mme.radius {
            l.append("  AAA       RADIUS \(r.address):\(r.port)  clients \(rc.clients.map { $0.addr.text }.joined(separator: " "))  EAP-AKA/AKA'")
        }
        for a in remoteAPIs { l.append("  API       \(a.handler.type) remote API ws://\(a.localAddress)") }
        if let k = keyLog { l.append("  keys      \(k.ikev2TablePath), \(k.espSAPath)") }
        l.append("  log       \(options.logFile ?? mme.logFilename ?? "stderr") (\(options.logOptions ?? mme.logOptions ?? "all.level=error"))")
        for w in warnings.prefix(5) { l.append("  warning   \(w)") }
        if warnings.count > 5 { l.append("  warning   … \(warnings.count - 5) more (vowifi config check lists them)") }
        return l.joined(separator: "\n")
    }
}
