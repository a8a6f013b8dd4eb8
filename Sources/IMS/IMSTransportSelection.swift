import SIP

/// RFC 3261 §18.1.1 for the requests the IMS sends: one larger than `largestUDPRequest`
/// (1300 bytes with the path MTU unknown, or within 200 bytes of a known MTU) toward a peer
/// reached over UDP goes over TCP to the same address and port, with its top Via saying TCP.
/// The runtime opens the connection; if the peer resets it, the request is retried over UDP
/// (§18.1.1, for peers without TCP); any other connection failure is a transport error
/// (§8.1.3.1: treated as 503).
extension IMSCore {
    /// How long a peer that refused our TCP connection gets its large requests over UDP.
    static let tcpRefusedMemory: Double = 300

    /// Sends a request on a client transaction, over TCP when it is too large for UDP.
    func sendRequest(_ request: SIPMessage, to peer: SIPPeer, now: Double) -> [IMSAction] {
        var m = request
        let (dest, notes) = selectTransport(&m, to: peer, now: now)
        return notes + convert(layer.sendRequest(m, to: dest, now: now), now: now)
    }

    /// Forwards a proxied request (stateless, no transaction), over TCP when too large for UDP.
    func forwardRequest(_ request: SIPMessage, to peer: SIPPeer, now: Double) -> [IMSAction] {
        var m = request
        let branch = (try? m.topVia())?.branch ?? ""
        if peer.transport == .udp, m.method == "CANCEL" || m.method == "ACK", tcpForwardedInvites[branch] != nil,
           IMSCore.setTopViaTransport(&m, "TCP") {
            // The CANCEL (or ACK of a non-2xx) of an INVITE sent over TCP: the same Via, the same way.
            var tcp = peer
            tcp.transport = .tcp
            return [.send(m.serialized(), to: tcp)]
        }
        let (dest, notes) = selectTransport(&m, to: peer, now: now)
        if dest.transport != peer.transport, m.method == "INVITE" { tcpForwardedInvites[branch] = now }
        return notes + [.send(m.serialized(), to: dest)]
    }

    /// Chooses the transport of a request toward `peer`; rewrites its top Via when it switches.
    func selectTransport(_ m: inout SIPMessage, to peer: SIPPeer, now: Double) -> (SIPPeer, [IMSAction]) {
        guard peer.transport == .udp, m.isRequest else { return (peer, []) }
        // Most requests are far below the limit: skip serializing them just to measure.
        let rough = m.body.count + m.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        guard rough + 300 > config.largestUDPRequest else { return (peer, []) }
        let size = m.serialized().count
        guard size > config.largestUDPRequest else { return (peer, []) }
        let reason: String?
        if peer.localPort != nil {
            reason = "sent on a Gm IPsec protected port pair (TS 33.203), which has no TCP connection to carry it"
        } else if let until = tcpRefusedUntil[peer], until > now {
            reason = "the peer reset our TCP connection (RFC 3261 §18.1.1: retried over UDP)"
        } else {
            reason = tcpUnavailableReason(peer)
        }
        if let reason {
            if udpOnlyNoticed.count > 65536 { udpOnlyNoticed.removeAll() }
            let first = udpOnlyNoticed.insert(peer).inserted
            return (peer, first ? [.event(.largeRequestKeptOnUDP(peer: peer, bytes: size, reason: reason))] : [])
        }
        guard IMSCore.setTopViaTransport(&m, "TCP") else { return (peer, []) }
        var tcp = peer
        tcp.transport = .tcp
        return (tcp, [.event(.largeRequestOverTCP(peer: tcp, method: m.method ?? "?", bytes: size))])
    }

    /// Rewrites the transport of the top Via (§18.1.1: "the value in the top Via MUST be changed").
    static func setTopViaTransport(_ m: inout SIPMessage, _ transport: String) -> Bool {
        guard var via = try? m.topVia() else { return false }
        via.transport = transport
        do { try m.removeFirstValue("Via") } catch { return false }
        m.prependHeader("Via", via.description)
        return true
    }

    /// The runtime could not deliver `bytes` to `peer` over TCP. `refused`: the peer answered
    /// the connection attempt with a reset (or ICMP protocol unreachable); `error` says what failed.
    public func tcpDeliveryFailed(_ bytes: [UInt8], to peer: SIPPeer, refused: Bool, error: String, now: Double) -> [IMSAction] {
        guard let m = try? SIPMessage(parsing: bytes, validate: false), m.isRequest, let method = m.method else {
            // A response over a connection that failed is lost (§18.2.2 would try the Via's address).
            return [.event(.transportFailed(peer: peer, method: "response", error: error, outcome: "dropped"))]
        }
        var udp = peer
        udp.transport = .udp
        if refused {
            // §18.1.1: a TCP reset for a request sent over TCP only because of its size → retry over UDP.
            tcpRefusedUntil[udp] = now + IMSCore.tcpRefusedMemory
            if let b = (try? m.topVia())?.branch { tcpForwardedInvites[b] = nil }
            var retry = m
            _ = IMSCore.setTopViaTransport(&retry, "UDP")
            let note = IMSAction.event(.transportFailed(peer: peer, method: method, error: error,
                                                        outcome: "retried over UDP (RFC 3261 §18.1.1)"))
            if layer.hasClientTransaction(for: m) {
                // A new client transaction over UDP (with retransmissions) replaces the TCP one.
                return [note] + convert(layer.sendRequest(retry, to: udp, now: now), now: now)
            }
            return [note, .send(retry.serialized(), to: udp)]
        }
        if layer.hasClientTransaction(for: m) {
            var out: [IMSAction] = [.event(.transportFailed(peer: peer, method: method, error: error,
                                                            outcome: "transaction ended, treated as 503 (RFC 3261 §8.1.3.1)"))]
            for o in layer.transportError(for: m, now: now) {
                if case .timedOut(let req) = o { out += handleTimeout(req, now: now, transportError: true) } else { out += convert([o], now: now) }
            }
            return out
        }
        return proxyTransportError(m, to: peer, error: error, now: now)
    }

    /// A proxied request could not be forwarded: RFC 3261 §16.9 treats it as a 503 from the
    /// target, and §16.7 step 6 forwards a lone 503 upstream as 500 (a 503 would say the IMS
    /// itself is unavailable). The Warning names the failure. ACK gets nothing.
    func proxyTransportError(_ m: SIPMessage, to peer: SIPPeer, error: String, now: Double) -> [IMSAction] {
        let method = m.method ?? "?"
        guard method != "ACK", let vias = try? m.vias(), vias.count >= 2, isOurBranch(vias[0]) else {
            return [.event(.transportFailed(peer: peer, method: method, error: error, outcome: "dropped"))]
        }
        var r = makeResponse(to: m, code: 500, reason: "Server Internal Error")
        r.addHeader("Warning", "399 \(config.localHostPort(for: peer)) \"cannot reach \(peer): \(error.replacingQuotes)\"")
        var out: [IMSAction] = [.event(.transportFailed(peer: peer, method: method, error: error,
                                                        outcome: "500 to the caller (RFC 3261 §16.9, §16.7)"))]
        if method == "INVITE", let cid = try? m.callID(), (try? m.to().tag) == nil, proxiedCalls.removeValue(forKey: cid) != nil {
            proxiedSessionTimers[cid] = nil
            out.append(.event(.callEnded(callID: cid, reason: "transport error toward the callee")))
        }
        return out + proxyResponse(r, now: now)
    }
}

extension String {
    /// The text with double quotes replaced, for a quoted-string (Warning text).
    var replacingQuotes: String { String(map { $0 == "\"" ? "'" : $0 }) }
}
