import SIP

/// Routing between registered phones as a stateless proxy (RFC 3261 §16.11): our Via (branch
/// derived from the incoming one, so CANCEL and ACK follow the INVITE), Record-Route for
/// INVITE dialogs, received/rport on the sender's Via so responses find their way back.
extension IMSCore {
    func proxyRequest(_ m: SIPMessage, from peer: SIPPeer, now: Double, initial: Bool) -> [IMSAction] {
        var fwd = m
        guard let via = try? m.topVia(), let callID = try? m.callID(), let method = m.method else { return [] }
        var v = via
        v.parameters["received"] = peer.address
        v.parameters["rport"] = String(peer.port)
        do {
            try fwd.removeFirstValue("Via")
            fwd.prependHeader("Via", v.description)
            let mf = (try fwd.maxForwards()) ?? 70
            fwd.setHeader("Max-Forwards", String(mf == 0 ? 0 : mf - 1))
            // Our own Route entries (the P-CSCF/Service-Route/Record-Route URIs) are consumed here.
            while let first = try fwd.addresses("Route").first, isOurURI(first.uri) {
                try fwd.removeFirstValue("Route")
            }
        } catch {
            return method == "ACK" ? [] : reply(m, 400, peer: peer, now: now, stateless: true)
        }
        var target: SIPPeer? = nil
        if let uri = m.requestURI, let reg = findRegistration(for: uri), let b = reg.bindings.max(by: { $0.expiresAt < $1.expiresAt }) {
            // A public identity (initial request, CANCEL, or ACK of a non-2xx): retarget to the contact.
            fwd.startLine = .request(method: method, uri: b.contact.uri)
            target = b.peer
        } else if let route = (try? fwd.addresses("Route"))?.first?.uri.sipURI {
            target = IMSCore.peer(for: route, transport: peer.transport)
        } else if case .sip(let s)? = m.requestURI {
            let key = IMSCore.contactKey(.sip(s))
            target = registrations.values.lazy.flatMap { $0.bindings }.first { IMSCore.contactKey($0.contact.uri) == key }?.peer
                ?? IMSCore.peer(for: s, transport: peer.transport)
        }
        guard let dest = target else {
            return method == "ACK" ? [] : reply(m, 404, peer: peer, now: now, stateless: true)
        }
        // RFC 4028 §8.1: Session-Expires / Min-SE of INVITE and UPDATE.
        if method == "INVITE" || method == "UPDATE" {
            let first = initial && method == "INVITE"
            switch proxySessionTimer(&fwd, initial: first) {
            case .tooSmall(let minSE):
                return [.send(tooSmallResponse(to: m, minSE: minSE).serialized(), to: peer)]
            case .use(let se) where first && IMSCore.supportsTimer(m):
                proxiedSessionTimers[callID] = se
            default: break
            }
        }
        let incoming = via.branch ?? (callID + String((try? m.cseq().sequence) ?? 0))
        let branch = IMSCore.branchPrefix + "." + String(incoming.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }.prefix(64))
        fwd.prependHeader("Via", ourVia(for: dest, branch: branch))
        var out: [IMSAction] = []
        if proxiedCalls[callID] != nil { proxiedCalls[callID] = now }
        if initial && method == "INVITE" {
            for rr in recordRoute(from: peer, to: dest).reversed() { fwd.prependHeader("Record-Route", rr) }
            if proxiedCalls.updateValue(now, forKey: callID) == nil {
                let from = (try? m.from().uri.description) ?? ""
                out.append(.event(.callStarted(callID: callID, from: from, to: m.requestURI?.description ?? "", kind: "proxy")))
            }
        }
        if method == "BYE" {
            proxiedCalls[callID] = nil
            proxiedSessionTimers[callID] = nil
            out.append(.event(.callEnded(callID: callID, reason: "BYE")))
        }
        return out + forwardRequest(fwd, to: dest, now: now)
    }

    func proxyResponse(_ m: SIPMessage, now: Double) -> [IMSAction] {
        var r = m
        guard (try? r.removeFirstValue("Via")) != nil, let next = try? r.topVia() else { return [] }
        proxySessionTimerResponse(&r)
        return [.send(r.serialized(), to: IMSCore.peer(for: next))]
    }

    /// Record-Route values for an INVITE relayed from `peer` to `dest`, top first. RFC 5658 §4:
    /// when it leaves from another address or transport than it came in on (a callee registered
    /// through another `sip_addr`, IPv4 on one side and IPv6 on the other, UDP and TCP), two
    /// entries: the callee's route set starts with the one it can reach, the caller's (reversed)
    /// with the one it sent to. Both are ours, so in-dialog requests consume both (`isOurURI`).
    func recordRoute(from peer: SIPPeer, to dest: SIPPeer) -> [String] {
        let inbound = recordRouteURI(arrivalAddress(from: peer), peer.transport)
        let outbound = recordRouteURI(localAddress(toward: dest), dest.transport)
        return inbound == outbound ? [outbound] : [outbound, inbound]
    }

    /// `<sip:host:port;lr>` of our address `local`, with `transport=tcp` for a TCP side (a URI
    /// without one means UDP to the phone, RFC 3263 §4.1).
    func recordRouteURI(_ local: String, _ transport: SIPTransport) -> String {
        "<sip:" + hostPort(local) + (transport == .udp ? "" : ";transport=" + transport.rawValue.lowercased()) + ";lr>"
    }

    func isOurURI(_ u: SIPAnyURI) -> Bool {
        guard case .sip(let s) = u else { return false }
        let host = s.hostAddress.lowercased()
        if config.sipAddresses.contains(where: { $0.lowercased() == host && (s.port ?? 5060) == config.sipPort(for: $0) }) { return true }
        if let p = try? SIPURI(config.path), p.hostAddress.lowercased() == host { return true }
        return host == config.domain.lowercased() && s.user == nil
    }
}
