import SIP

/// Which of our `sip_addr` addresses a message to a phone names and leaves from. A phone
/// expects requests from the P-CSCF address and port it registered with: its NAT binding and
/// its IPsec traffic selectors are for that flow, and it may drop anything else (RFC 5626 §5.2
/// keeps the flow with the binding; RFC 3261 §18.2.2 / RFC 3581 §4 answer from where the
/// request came in). With several `sip_addr` entries of one family the configured default
/// (`IMSConfig.localAddress(for:)`) is not always that address.
extension IMSCore {
    /// Our address toward `peer`: the one its registration's flow came in on, else the
    /// configured choice for its family. Reg-event and echo/MT dialogs keep their own (the
    /// address their SUBSCRIBE or INVITE used), so a binding that expires does not move them.
    public func localAddress(toward peer: SIPPeer) -> String {
        store.flowAddress(of: peer) ?? config.localAddress(for: peer)
    }

    /// Our address the message being handled from `peer` arrived on (when the runtime said, and
    /// of `peer`'s family), else `localAddress(toward:)`: what a dialog or subscription it starts
    /// keeps, and the phone's side of a relayed call's Record-Route.
    func arrivalAddress(from peer: SIPPeer) -> String {
        receivingAddress.flatMap { $0.contains(":") == peer.address.contains(":") ? $0 : nil } ?? localAddress(toward: peer)
    }

    /// host:port of our address `a` for URIs and Via (IPv6 in brackets).
    func hostPort(_ a: String) -> String {
        (a.contains(":") ? "[" + a + "]" : a) + ":" + String(config.sipPort(for: a))
    }

    /// Our Via in a dialog whose requests name our address `local` (its `media.localAddress`).
    func dialogVia(_ peer: SIPPeer, local: String, branch: String) -> SIPVia {
        SIPVia(transport: peer.transport.rawValue, host: local.contains(":") ? "[" + local + "]" : local,
               port: config.sipPort(for: local), branch: branch)
    }

    /// The address a UDP message to `peer` must leave from (the runtime sends it from the
    /// socket serving that address; a response sent while its request is handled leaves from
    /// the socket the request came in on instead). A request of ours: the address its top Via
    /// names (we wrote it there, the answer comes back to it). A response in an echo or MT
    /// dialog (a 183 or 200 retransmitted by the timer): the dialog's address. Other
    /// responses (relayed between phones): the flow of `peer`'s registration. Only parsed
    /// when the peer's family has several addresses.
    public func sourceAddress(of bytes: [UInt8], toward peer: SIPPeer) -> String {
        let v6 = peer.address.contains(":")
        guard config.sipAddresses.lazy.filter({ $0.contains(":") == v6 }).count > 1,
              let m = try? SIPMessage(parsing: bytes, validate: false) else { return localAddress(toward: peer) }
        if m.isRequest {
            if let via = try? m.topVia(), isOurBranch(via),
               let a = config.sipAddresses.first(where: { $0.lowercased() == via.hostAddress.lowercased() && config.sipPort(for: $0) == via.port ?? 5060 }) {
                return a
            }
        } else if let id = try? m.callID(), let dialog = echoCalls[id]?.media ?? mtCalls[id]?.media {
            return dialog.localAddress
        }
        return localAddress(toward: peer)
    }

    static let responsePrefix: [UInt8] = Array("SIP/2.0 ".utf8)

    /// Whether `bytes` is a SIP response (its start line begins "SIP/2.0 ").
    public static func isResponse(_ bytes: [UInt8]) -> Bool { bytes.starts(with: responsePrefix) }
}
