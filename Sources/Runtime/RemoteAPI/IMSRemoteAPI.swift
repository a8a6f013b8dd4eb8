import Foundation
import Config
import IMS

/// The IMS's remote API messages. Registrations live in the store every IMS shard shares
/// (under its lock); MT calls are made on shard 0's loop, whose core picks a Call-ID that
/// hashes back to it, so the call's later messages reach the shard that holds its dialog.
final class IMSRemoteAPI: RemoteAPIHandler {
    let type = "IMS"
    let name: String
    let cluster: IMSCluster
    let comAuth: ComAuthConfig?

    init(name: String?, cluster: IMSCluster, comAuth: ComAuthConfig? = nil) {
        self.name = name ?? "IMS"
        self.cluster = cluster
        self.comAuth = comAuth
    }

    func handle(_ r: RemoteAPIRequest, reply: @escaping RemoteAPIReply) -> Bool {
        guard let host = cluster.shards.first else { return false }
        let loop = cluster.group.loops[0]
        switch r.message {
        case "config_get":
            reply(["type": .string(type), "name": .string(name), "domain": .string(host.core.config.domain)])
        case "users_get":
            _ = loop.execute {
                let all = (host.core.subscribers as? IMSSubscriberListing)?.impis ?? []
                reply(["users": .array(Self.users(all, host.core.currentRegistrations, now: IMSHost.seconds()))])
            }
        case "mt_call":
            guard let target = r["impu"] ?? r["impi"] else { reply(["error": "Missing impi or impu"]); break }
            let caller = r["from"]
            _ = loop.execute {
                let (callID, actions) = host.core.mtCall(target, caller: caller, now: IMSHost.seconds())
                host.perform(actions)
                reply(callID.map { ["session_id": .string($0)] } ?? ["error": .string("No registered binding for \(target)")])
            }
        default:
            return false
        }
        return true
    }

    /// The IMEI a binding's `+sip.instance` carries ("<urn:gsma:imei:TAC-SNR-spare>", RFC 7254 §4,
    /// the form IMS phones register with): its 15 digits, or nil for another kind of instance.
    static func imei(ofInstance instance: String) -> String? {
        let prefix = "urn:gsma:imei:"
        let urn = instance.trimmingCharacters(in: CharacterSet(charactersIn: "<>\" "))
        guard urn.lowercased().hasPrefix(prefix) else { return nil }
        let parts = urn.dropFirst(prefix.count).split(separator: ";")[0].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 8, parts[1].count == 6, parts[2].count == 1,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        return parts.joined()
    }

    /// `users[{impi, bindings[{uri, impu[], expires, imei}]}]` for every subscriber in `impis`
    /// (empty `bindings` when not registered) and any other registered IMPI, sorted by IMPI;
    /// `expires` in seconds from now.
    static func users(_ impis: [String], _ regs: [IMSRegistration], now: Double) -> [JSONValue] {
        let byIMPI = Dictionary(regs.map { ($0.impi, $0) }, uniquingKeysWith: { a, _ in a })
        return Set(impis).union(regs.filter { !$0.bindings.isEmpty }.map(\.impi)).sorted().map { impi in
            let reg = byIMPI[impi]
            return .object(["impi": .string(impi), "bindings": .array((reg?.bindings ?? []).map { b in
                var o: JSONObject = ["uri": .string(b.contact.uri.description), "impu": .array((reg?.impus ?? []).map(JSONValue.string)),
                                     "expires": .int(Int64(max(0, (b.expiresAt - now).rounded())))]
                if let imei = b.contact.parameters["+sip.instance"].flatMap(imei(ofInstance:)) { o["imei"] = .string(imei) }
                return .object(o)
            })])
        }
    }
}
