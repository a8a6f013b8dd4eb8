import SIP

/// A subscription to the reg event package (RFC 3680) of one IMPI.
struct RegSubscription: Sendable {
    var callID: String
    var impi: String
    /// The subscribed AOR (To of the SUBSCRIBE), used as From of our NOTIFYs.
    var aor: String
    var localTag: String
    /// The subscriber's From header (with its tag), our To.
    var remote: String
    var target: SIPAnyURI
    var peer: SIPPeer
    /// Our address the SUBSCRIBE came to: the NOTIFYs name it and leave from it (the flow the
    /// subscriber used, even after the registration it watches is gone).
    var local: String
    var expiresAt: Double
    var cseq: UInt32
    var version: Int
}

extension IMSCore {
    func handleSubscribe(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        let event = m.header("Event").map { String($0.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces.lowercased() }
        guard event == "reg" else {
            var r = makeResponse(to: m, code: 489)
            r.addHeader("Allow-Events", "reg")
            return respond(r, now: now, fallback: peer)
        }
        guard let to = try? m.to(), let from = m.header("From"), let callID = try? m.callID(),
              let contact = (try? m.contacts())?.first else { return reply(m, 400, peer: peer, now: now) }
        var sub: RegSubscription
        if let existing = regSubscriptions[callID], to.tag == existing.localTag {
            sub = existing
        } else {
            guard let owner = IMSIdentity.lookupKeys(to.uri).lazy.compactMap({ self.subscribers.subscriber(impu: $0) }).first
                    ?? identify(to: to.uri, auth: nil) else { return reply(m, 404, peer: peer, now: now) }
            sub = RegSubscription(callID: callID, impi: owner.impi, aor: to.uri.description, localTag: newToken(),
                                  remote: from, target: contact.uri, peer: peer, local: "", expiresAt: now, cseq: 0, version: 0)
        }
        let requested = (try? m.expires()) ?? nil
        var expires = requested ?? 600_000
        if config.subscribeExpires != 0, expires != 0 { expires = config.subscribeExpires }
        sub.expiresAt = now + Double(expires)
        sub.target = contact.uri
        sub.peer = peer
        sub.local = arrivalAddress(from: peer)
        var r = makeResponse(to: m, code: 200, toTag: sub.localTag)
        r.addHeader("Expires", String(expires))
        r.addHeader("Contact", "<" + ourURI(for: peer, local: sub.local) + ">")
        var out = respond(r, now: now, fallback: peer)
        if expires == 0 {
            setRegSubscription(callID, nil)
            out += sendNotify(&sub, terminated: "timeout", now: now)
        } else {
            out += sendNotify(&sub, terminated: nil, now: now)
            setRegSubscription(callID, sub)
        }
        return out
    }

    /// The registration state of `impi` changed: NOTIFY this shard's subscribers, and ask the
    /// runtime to tell the other shards that hold subscriptions of it.
    func notifyRegSubscribers(impi: String, now: Double) -> [IMSAction] {
        var out = notifyLocalRegSubscribers(impi: impi, now: now)
        let others = store.otherSubscribedShards(impi, except: shard)
        if !others.isEmpty { out.append(.registrationChanged(impi: impi, shards: others)) }
        return out
    }

    /// Another shard changed the registration of `impi` (`IMSAction.registrationChanged`):
    /// NOTIFY the subscriptions this shard holds (their dialogs and transactions are here).
    public func registrationChanged(impi: String, now: Double) -> [IMSAction] {
        notifyLocalRegSubscribers(impi: impi, now: now)
    }

    func notifyLocalRegSubscribers(impi: String, now: Double) -> [IMSAction] {
        var out: [IMSAction] = []
        for (id, var s) in regSubscriptions where s.impi == impi {
            out += sendNotify(&s, terminated: nil, now: now)
            regSubscriptions[id] = s
        }
        return out
    }

    /// Adds, replaces or removes a subscription, keeping the shared per-shard count in step.
    func setRegSubscription(_ callID: String, _ sub: RegSubscription?) {
        let old = regSubscriptions[callID]
        regSubscriptions[callID] = sub
        guard old?.impi != sub?.impi else { return }
        if let o = old { store.countSubscription(impi: o.impi, shard: shard, delta: -1) }
        if let n = sub { store.countSubscription(impi: n.impi, shard: shard, delta: 1) }
    }

    func expireSubscriptions(now: Double) -> [IMSAction] {
        var out: [IMSAction] = []
        for (id, var s) in regSubscriptions where s.expiresAt <= now {
            setRegSubscription(id, nil)
            out += sendNotify(&s, terminated: "timeout", now: now)
        }
        return out
    }

    /// Sends a NOTIFY with the full reginfo document (RFC 3680 §5.2).
    func sendNotify(_ s: inout RegSubscription, terminated reason: String?, now: Double) -> [IMSAction] {
        s.cseq += 1
        let body = regInfoXML(impi: s.impi, version: s.version, now: now)
        s.version += 1
        var n = SIPMessage.request("NOTIFY", uri: s.target)
        n.addHeader("Via", ourVia(for: s.peer, branch: IMSCore.branchPrefix + newToken(), local: s.local))
        n.addHeader("Max-Forwards", "70")
        n.addHeader("From", "<" + s.aor + ">;tag=" + s.localTag)
        n.addHeader("To", s.remote)
        n.addHeader("Call-ID", s.callID)
        n.addHeader("CSeq", String(s.cseq) + " NOTIFY")
        n.addHeader("Contact", "<" + ourURI(for: s.peer, local: s.local) + ">")
        n.addHeader("Event", "reg")
        if let reason {
            n.addHeader("Subscription-State", "terminated;reason=" + reason)
        } else {
            n.addHeader("Subscription-State", "active;expires=" + String(max(0, Int((s.expiresAt - now).rounded()))))
        }
        n.addHeader("Content-Type", "application/reginfo+xml")
        n.body = Array(body.utf8)
        return sendRequest(n, to: s.peer, now: now)
    }

    /// The reginfo document: one <registration> per public identity of the IMPI, with its contacts.
    func regInfoXML(impi: String, version: Int, now: Double) -> String {
        let reg = registrations[impi]
        let impus = reg?.impus ?? subscribers.subscriber(impi: impi).map { IMSIdentity.impuURIs($0, defaultDomain: config.domain) } ?? []
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"\(version)\" state=\"full\">\n"
        for (i, impu) in impus.enumerated() {
            let bindings = reg?.bindings ?? []
            x += "  <registration aor=\"\(xmlEscape(impu))\" id=\"reg\(i + 1)\" state=\"\(bindings.isEmpty ? "terminated" : "active")\">\n"
            for (j, b) in bindings.enumerated() {
                let remaining = max(0, Int((b.expiresAt - now).rounded()))
                x += "    <contact id=\"c\(i + 1)-\(j + 1)\" state=\"active\" event=\"registered\" expires=\"\(remaining)\">\n"
                x += "      <uri>\(xmlEscape(b.contact.uri.description))</uri>\n"
                x += "    </contact>\n"
            }
            x += "  </registration>\n"
        }
        x += "</reginfo>\n"
        return x
    }

    func xmlEscape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&apos;"
            default: o.append(c)
            }
        }
        return o
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
