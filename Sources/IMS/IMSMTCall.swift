import SIP

/// A network-initiated call (remote API `mt_call`): the IMS calls a registered phone as a UAC,
/// PRACKs reliable provisionals (RFC 3262), ACKs the 2xx and then echoes the phone's media.
struct MTCall: Sendable {
    enum State: Sendable { case calling, early, active }
    let callID: String
    let invite: SIPMessage
    let peer: SIPPeer
    var media: IMSMediaSession
    var mediaOpen = false
    var dialog: SIPDialog? = nil
    var state: State = .calling
    var ack: SIPMessage? = nil
    var prackedRSeq: Set<UInt32> = []
    var sdpVersion: UInt64 = 1
}

extension IMSCore {
    /// Calls the phone registered with `target` (an IMPU, or an IMPI). Returns the Call-ID (nil
    /// when nobody is registered) and the actions (the INVITE).
    public func mtCall(_ target: String, caller: String? = nil, now: Double) -> (callID: String?, actions: [IMSAction]) {
        var reg = registrations[target]
        if reg == nil, let u = try? SIPAnyURI(target) { reg = findRegistration(for: u) }
        if reg == nil { reg = findRegistration(for: .sip(SIPURI(user: target, host: config.domain))) }
        guard let r = reg, let binding = r.bindings.max(by: { $0.expiresAt < $1.expiresAt }),
              let port = allocateMediaPort(on: binding.local ?? localAddress(toward: binding.peer)) else { return (nil, []) }
        let peer = binding.peer
        // The dialog keeps the address of the phone's flow (media, Via, Contact: `media.localAddress`).
        let local = binding.local ?? localAddress(toward: peer)
        var callID = newToken() + "@" + hostPort(local)
        while !ownsCallID(callID) { callID = newToken() + "@" + hostPort(local) }   // sharded: ours
        let from = caller ?? ("sip:mt@" + config.domain)
        let sessionID = UInt64(now * 1000) & 0xFFFF_FFFF
        let ipv = local.contains(":") ? "IP6" : "IP4"
        let sdp = [
            "v=0", "o=- \(sessionID) 1 IN \(ipv) \(local)", "s=-", "c=IN \(ipv) \(local)", "t=0 0",
            "m=audio \(port) RTP/AVP 116 118 0 8 111 110",
            "a=rtpmap:116 AMR-WB/16000/1", "a=fmtp:116 mode-change-capability=2;max-red=0",
            "a=rtpmap:118 AMR/8000/1", "a=fmtp:118 mode-change-capability=2;max-red=0",
            "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:111 telephone-event/16000", "a=fmtp:111 0-15",
            "a=rtpmap:110 telephone-event/8000", "a=fmtp:110 0-15",
            "a=ptime:20", "a=sendrecv",
        ].joined(separator: "\r\n") + "\r\n"
        var inv = SIPMessage.request("INVITE", uri: binding.contact.uri)
        inv.addHeader("Via", ourVia(for: peer, branch: IMSCore.branchPrefix + newToken(), local: local))
        inv.addHeader("Max-Forwards", "70")
        inv.addHeader("From", "<" + from + ">;tag=" + newToken())
        inv.addHeader("To", "<" + (r.impus.first ?? binding.contact.uri.description) + ">")
        inv.addHeader("Call-ID", callID)
        inv.addHeader("CSeq", "1 INVITE")
        inv.addHeader("Contact", "<" + ourURI(for: peer, local: local) + ">")
        inv.addHeader("P-Asserted-Identity", "<" + from + ">")
        inv.addHeader("Supported", "100rel")
        inv.addHeader("Allow", IMSCore.allow)
        inv.addHeader("Content-Type", "application/sdp")
        inv.body = Array(sdp.utf8)
        let media = IMSMediaSession(id: callID, localAddress: local, localRTPPort: port, localRTCPPort: port + 1,
                                    remoteAddress: "", remoteRTPPort: 0, remoteRTCPPort: 0, payloadType: "", encoding: "")
        mtCalls[callID] = MTCall(callID: callID, invite: inv, peer: peer, media: media)
        var out: [IMSAction] = [.event(.callStarted(callID: callID, from: from, to: target, kind: "mt call"))]
        out += sendRequest(inv, to: peer, now: now)
        return (callID, out)
    }

    /// Hangs up an MT call (BYE once confirmed; CANCEL is not sent, the INVITE just times out).
    public func mtHangup(_ callID: String, now: Double) -> [IMSAction] {
        guard var call = mtCalls[callID] else { return [] }
        var out: [IMSAction] = []
        if var d = call.dialog, call.state == .active {
            let bye = d.request("BYE", via: dialogVia(call.peer, local: call.media.localAddress, branch: IMSCore.branchPrefix + newToken()))
            call.dialog = d
            out += sendRequest(bye, to: call.peer, now: now)
        }
        mtCalls[callID] = call
        return out + endMT(callID, reason: "hangup")
    }

    /// Responses to our INVITE.
    func mtResponse(_ r: SIPMessage, now: Double) -> [IMSAction] {
        guard let id = try? r.callID(), var call = mtCalls[id], let code = r.statusCode else { return [] }
        var out: [IMSAction] = []
        if code >= 300 {
            return endMT(id, reason: "rejected \(code)")
        }
        if call.dialog == nil, (try? r.to().tag) != nil, code > 100 {
            call.dialog = try? SIPDialog(uac: call.invite, response: r)
        }
        // The answer opens the echo towards the phone's media address.
        if !call.mediaOpen, r.contentType == "application/sdp", let sdp = try? SDPSession(parsing: r.body),
           let m = sdp.media.first(where: { $0.media == "audio" && $0.port != 0 }), let addr = sdp.connectionAddress(for: m) {
            call.media.remoteAddress = addr
            call.media.remoteRTPPort = m.port
            call.media.remoteRTCPPort = m.rtcpPort
            call.media.payloadType = m.formats.first ?? ""
            call.media.encoding = m.formats.first.flatMap { m.rtpmap($0)?.encoding } ?? ""
            call.mediaOpen = true
            out.append(.openMedia(call.media))
        }
        let via = { self.dialogVia(call.peer, local: call.media.localAddress, branch: IMSCore.branchPrefix + self.newToken()) }
        if code < 200 {
            call.state = .early
            if r.optionTags("Require").contains("100rel"), let rs = (try? r.integer("RSeq")) ?? nil,
               !call.prackedRSeq.contains(rs), var d = call.dialog {
                call.prackedRSeq.insert(rs)
                var prack = d.request("PRACK", via: via())
                prack.addHeader("RAck", "\(rs) 1 INVITE")
                call.dialog = d
                mtCalls[id] = call
                return out + sendRequest(prack, to: call.peer, now: now)
            }
            mtCalls[id] = call
            return out
        }
        // 2xx: ACK it (again for each retransmission).
        if call.ack == nil, var d = call.dialog {
            call.ack = d.request("ACK", via: via(), sequence: 1)
            call.dialog = d
        }
        call.state = .active
        mtCalls[id] = call
        if let ack = call.ack { out += sendRequest(ack, to: call.peer, now: now) }
        return out
    }

    /// Requests from the phone inside an MT dialog.
    func mtRequest(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        guard let id = try? m.callID(), mtCalls[id] != nil else { return [] }
        switch m.method ?? "" {
        case "ACK": return []
        case "BYE":
            return reply(m, 200, peer: peer, now: now) + endMT(id, reason: "BYE")
        case "INVITE", "UPDATE":
            // Re-INVITE / UPDATE from the phone (hold, refresh): answer any offer from our port.
            guard var call = mtCalls[id] else { return [] }
            var r = makeResponse(to: m, code: 200, toTag: (try? call.invite.from().tag) ?? nil)
            r.addHeader("Contact", "<" + ourURI(for: call.peer, local: call.media.localAddress) + ">")
            // A session refresh from the phone (RFC 4028 §9): answered with its interval when the
            // phone refreshes; we run no timer of our own on MT calls.
            if SIPSessionExpires(m) != nil {
                switch negotiateSessionTimer(m) {
                case .tooSmall(let minSE):
                    return respond(tooSmallResponse(to: m, minSE: minSE, toTag: (try? call.invite.from().tag) ?? nil), now: now, fallback: peer)
                case .use(let se) where se.refresher == .uac: IMSCore.addSessionTimer(se, to: &r)
                default: break
                }
            }
            if m.contentType == "application/sdp", let offer = try? SDPSession(parsing: m.body) {
                call.sdpVersion += 1
                guard let a = try? SDPAnswerer().answer(offer: offer, localAddress: call.media.localAddress, localPort: call.media.localRTPPort,
                                                        sessionID: call.sdpVersion, version: call.sdpVersion) else {
                    return reply(m, 488, peer: peer, now: now)
                }
                r.addHeader("Content-Type", "application/sdp")
                r.body = a.sdp.serialized()
                mtCalls[id] = call
            }
            return respond(r, now: now, fallback: peer)
        default:
            return reply(m, 200, peer: peer, now: now)
        }
    }

    func endMT(_ id: String, reason: String) -> [IMSAction] {
        guard let call = mtCalls.removeValue(forKey: id) else { return [] }
        releaseMediaPort(call.media.localRTPPort)
        return (call.mediaOpen ? [.closeMedia(id: id)] : []) + [.event(.callEnded(callID: id, reason: reason))]
    }
}
