import SIP
import AKA

/// An outstanding (or, once answered, the last successful) digest challenge of one IMPI.
struct Challenge: Sendable {
    var impi: String
    var realm: String
    var nonce: String
    var algorithm: DigestAlgorithmName
    /// The digest password: RES-derived for AKA (RFC 3310 / RFC 4169), the pwd for MD5.
    var password: [UInt8]
    var rand: [UInt8]
    var expiresAt: Double
}

/// S-CSCF registrar (TS 24.229 §5.4.1): IMS AKA or MD5 digest, bindings, Path/Service-Route.
extension IMSCore {
    enum Verdict {
        case ok
        case challenge
        case resync(rand: [UInt8], auts: [UInt8])
        case fail(String)
    }

    func handleRegister(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        guard let to = try? m.to() else { return reply(m, 400, peer: peer, now: now) }
        let auth: SIPAuthHeader?
        do { auth = try m.authorization() } catch { return reply(m, 400, peer: peer, now: now) }
        guard let sub = identify(to: to.uri, auth: auth) else {
            let who = auth?["username"] ?? to.uri.description
            return [.event(.authenticationFailed(impi: who, reason: "unknown subscriber"))] + reply(m, 403, peer: peer, now: now)
        }
        let impus = IMSIdentity.impuURIs(sub, defaultDomain: config.domain)
        let toKey = IMSIdentity.key(to.uri)
        guard impus.contains(where: { impuKey($0) == toKey }) || IMSIdentity.key("sip:" + sub.impi) == toKey else {
            return [.event(.authenticationFailed(impi: sub.impi, reason: "IMPU \(to.uri) not owned"))] + reply(m, 403, peer: peer, now: now)
        }
        let emergency = isEmergencyRegistration(m)
        if sub.authentType != .none, !(emergency && config.emergencyWithoutAuthentication) {
            switch verify(auth, subscriber: sub, method: m.method ?? "REGISTER", now: now) {
            case .ok:
                break
            case .challenge:
                return challenge(m, subscriber: sub, peer: peer, now: now)
            case .resync(let rand, let auts):
                do {
                    try subscribers.resynchronize(impi: sub.impi, rand: rand, auts: auts)
                } catch {
                    return [.event(.authenticationFailed(impi: sub.impi, reason: "resync: \(error)"))] + reply(m, 403, peer: peer, now: now)
                }
                return [.event(.resynchronized(impi: sub.impi))] + challenge(m, subscriber: sub, peer: peer, now: now)
            case .fail(let reason):
                return [.event(.authenticationFailed(impi: sub.impi, reason: reason))] + reply(m, 403, peer: peer, now: now)
            }
        }
        return bind(m, subscriber: sub, impus: impus, peer: peer, now: now)
    }

    /// An emergency registration: a Contact carrying the `sos` parameter (TS 24.229 §5.1.6.2),
    /// on the contact address or its URI.
    func isEmergencyRegistration(_ m: SIPMessage) -> Bool {
        guard let contacts = try? m.contacts() else { return false }
        return contacts.contains { c in
            if c.parameters.contains("sos") { return true }
            if case let .sip(u) = c.uri { return u.parameters.contains("sos") }
            return false
        }
    }

    /// The IMPI is the Authorization username; without one, the IMPU's owner, or an IMPI
    /// derived from an IMSI-shaped user part of the IMPU.
    func identify(to uri: SIPAnyURI, auth: SIPAuthHeader?) -> IMSSubscriber? {
        if let u = auth?["username"], !u.isEmpty { return subscribers.subscriber(impi: u) }
        for k in IMSIdentity.lookupKeys(uri) { if let s = subscribers.subscriber(impu: k) { return s } }
        if case .sip(let s) = uri, let user = s.userDecoded, user.count >= 14, user.allSatisfy(\.isNumber) {
            let derived = s.host.lowercased().hasPrefix("ims.mnc") ? user + "@" + s.host.lowercased()
                : IMSIdentity.impi(imsi: user, mncDigits: config.mncDigits)
            if let d = derived { return subscribers.subscriber(impi: d) }
        }
        return nil
    }

    func verify(_ auth: SIPAuthHeader?, subscriber sub: IMSSubscriber, method: String, now: Double) -> Verdict {
        guard let auth, auth.scheme.lowercased() == "digest", let nonce = auth["nonce"], !nonce.isEmpty else { return .challenge }
        let ch: Challenge
        if let c = challenges[nonce], c.impi == sub.impi, c.expiresAt > now {
            ch = c
        } else if let c = authenticated[sub.impi], c.nonce == nonce {
            ch = c
        } else {
            return .challenge  // unknown or stale nonce: challenge again
        }
        guard auth["username"] == sub.impi else { return .fail("username differs from IMPI") }
        if let autsText = auth["auts"], !autsText.isEmpty, ch.algorithm.akaVersion != nil {
            guard let auts = Base64.decode(autsText), auts.count == 14 else { return .fail("malformed auts") }
            challenges[nonce] = nil
            return .resync(rand: ch.rand, auts: auts)
        }
        guard let response = auth["response"], !response.isEmpty else { return .challenge }
        let qop = auth["qop"].flatMap { DigestQOP(rawValue: $0.lowercased()) }
        guard let expected = try? DigestAuth.response(algorithm: ch.algorithm, username: sub.impi, realm: ch.realm,
                                                       password: ch.password, method: method, uri: auth["uri"] ?? "",
                                                       nonce: nonce, nc: auth["nc"], cnonce: auth["cnonce"], qop: qop)
        else { return .fail("digest parameters missing (nc/cnonce)") }
        guard constantTimeEqual(Array(expected.utf8), Array(response.lowercased().utf8)) else {
            challenges[nonce] = nil
            return .fail("wrong digest response")
        }
        challenges[nonce] = nil
        authenticated[sub.impi] = ch
        return .ok
    }

    /// 401 with a fresh challenge (RFC 3310 §3.1 for AKA: nonce = base64(RAND || AUTN)).
    func challenge(_ m: SIPMessage, subscriber sub: IMSSubscriber, peer: SIPPeer, now: Double) -> [IMSAction] {
        guard let algorithm = sub.authentType.digestAlgorithm else { return reply(m, 500, peer: peer, now: now) }
        let realm = sub.impi.split(separator: "@", maxSplits: 1).dropFirst().first.map(String.init) ?? config.domain
        var ch: Challenge
        var akaKeys: (ik: [UInt8], ck: [UInt8])? = nil
        if algorithm.akaVersion != nil {
            let v: AuthenticationVector
            let nonce: String
            do {
                v = try subscribers.authenticationVector(impi: sub.impi)
                nonce = try DigestAKA.nonce(rand: v.rand, autn: v.autn)
            } catch {
                return [.event(.authenticationFailed(impi: sub.impi, reason: "no vector: \(error)"))] + reply(m, 500, peer: peer, now: now)
            }
            let pwd = DigestAKA.password(algorithm: algorithm, res: v.xres, ik: v.ik, ck: v.ck) ?? v.xres
            akaKeys = (v.ik, v.ck)
            ch = Challenge(impi: sub.impi, realm: realm, nonce: nonce, algorithm: algorithm, password: pwd, rand: v.rand,
                           expiresAt: now + config.challengeLifetime)
        } else {
            guard let pwd = sub.pwd else { return reply(m, 403, peer: peer, now: now) }
            ch = Challenge(impi: sub.impi, realm: realm, nonce: newToken(16), algorithm: algorithm, password: Array(pwd.utf8),
                           rand: [], expiresAt: now + config.challengeLifetime)
        }
        challenges[ch.nonce] = ch
        var r = makeResponse(to: m, code: 401)
        r.addHeader("WWW-Authenticate", "Digest realm=\"\(ch.realm)\",nonce=\"\(ch.nonce)\",algorithm=\(algorithm.rawValue),qop=\"auth\"")
        var extra: [IMSAction] = []
        if let keys = akaKeys, let sa = negotiateGmSecurity(m, peer: peer, ik: keys.ik, ck: keys.ck) {
            r.addHeader("Security-Server", "ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=\(sa.spiPC);spi-s=\(sa.spiPS);port-c=\(sa.portPC);port-s=\(sa.portPS);ealg=\(sa.encryptionAlgorithm);alg=\(sa.integrityAlgorithm)")
            gmSecurity[sub.impi, default: []].append(sa)
            extra.append(.event(.gmSecurityInstalled(sa)))
        }
        // The SAs exist before the 401 leaves, so the phone's protected REGISTER finds them.
        return extra + respond(r, now: now, fallback: peer)
    }

    /// Adds, refreshes or removes bindings and answers 200 (RFC 3261 §10.3, TS 24.229 §5.4.1.2.2).
    func bind(_ m: SIPMessage, subscriber sub: IMSSubscriber, impus: [String], peer: SIPPeer, now: Double) -> [IMSAction] {
        let callID = (try? m.callID()) ?? ""
        let cseq = (try? m.cseq().sequence) ?? 0
        let headerExpires: UInt32?
        let contacts: [SIPAddress]
        do {
            headerExpires = try m.expires()
            contacts = try m.contacts()
        } catch { return reply(m, 400, peer: peer, now: now) }
        let wildcard = m.isWildcardContact
        if wildcard, headerExpires != 0 { return reply(m, 400, peer: peer, now: now) }
        // One critical section from reading the bindings to storing them: another shard may
        // handle a REGISTER of the same IMPI (another Call-ID) at the same time.
        guard let (reg, events, removals) = store.locked({
            updateBindings(subscriber: sub, impus: impus, peer: peer, now: now, callID: callID, cseq: cseq,
                           headerExpires: headerExpires, contacts: contacts, wildcard: wildcard)
        }) else { return reply(m, 400, peer: peer, now: now) }

        var r = makeResponse(to: m, code: 200)
        for b in reg.bindings {
            var c = b.contact
            c.parameters["expires"] = String(max(0, Int((b.expiresAt - now).rounded())))
            r.addHeader("Contact", c.description)
        }
        if !config.path.isEmpty { r.addHeader("Path", "<" + config.path + ";lr>") }
        r.addHeader("Service-Route", "<" + ourURI(for: peer) + ";lr>")
        r.addHeader("P-Associated-URI", impus.map { "<" + $0 + ">" }.joined(separator: ", "))
        var out = respond(r, now: now, fallback: peer)
        out += events
        if !events.isEmpty { out += notifyRegSubscribers(impi: sub.impi, now: now) }
        // SAs go after the final response that travels over them.
        return out + removals
    }

    /// The binding changes of one REGISTER (store locked): the new registration, its events and
    /// the Gm SAs to remove; nil for a malformed Contact expires.
    private func updateBindings(subscriber sub: IMSSubscriber, impus: [String], peer: SIPPeer, now: Double, callID: String, cseq: UInt32,
                                headerExpires: UInt32?, contacts: [SIPAddress], wildcard: Bool)
        -> (IMSRegistration, [IMSAction], [IMSAction])? {
        var reg = registrations[sub.impi] ?? IMSRegistration(impi: sub.impi, impus: impus, bindings: [])
        reg.impus = impus
        var events: [IMSAction] = []
        let protected = gmSecurity(impi: sub.impi, arrivedFrom: peer)
        if protected != nil { events += dropGmSecurity(impi: sub.impi, keep: protected) }
        if wildcard {
            for b in reg.bindings { events.append(.event(.deregistered(impi: sub.impi, contact: b.contact.uri.description))) }
            reg.bindings.removeAll()
        }
        for c in contacts {
            let requested: UInt32
            if let e = c.parameters["expires"] {
                guard let v = UInt32(e) else { return nil }
                requested = v
            } else {
                requested = headerExpires ?? config.bindingExpires
            }
            let granted = min(requested, config.bindingExpires)
            let key = IMSCore.contactKey(c.uri)
            if granted == 0 {
                if reg.bindings.contains(where: { IMSCore.contactKey($0.contact.uri) == key }) {
                    events.append(.event(.deregistered(impi: sub.impi, contact: c.uri.description)))
                }
                reg.bindings.removeAll { IMSCore.contactKey($0.contact.uri) == key }
                continue
            }
            var contact = c
            contact.parameters["expires"] = nil
            // Over Gm IPsec, requests to the phone go from our port_pc to its port_us.
            var target = peer
            if let sa = protected {
                target = SIPPeer(address: peer.address, port: sa.portUS, transport: peer.transport, localPort: sa.portPC)
            }
            let binding = IMSBinding(contact: contact, peer: target, expiresAt: now + Double(granted), callID: callID, cseq: cseq,
                                     local: receivingAddress)
            if let i = reg.bindings.firstIndex(where: { IMSCore.contactKey($0.contact.uri) == key }) {
                reg.bindings[i] = binding
            } else {
                reg.bindings.append(binding)
            }
            events.append(.event(.registered(impi: sub.impi, contact: c.uri.description, expires: granted)))
        }
        storeRegistration(sub.impi, reg.bindings.isEmpty ? nil : reg)
        if reg.bindings.isEmpty { authenticated[sub.impi] = nil }
        var removals: [IMSAction] = []
        if reg.bindings.isEmpty { removals = dropGmSecurity(impi: sub.impi) }
        return (reg, events, removals)
    }

    func expireRegistrations(now: Double) -> [IMSAction] {
        // Scan only when the earliest binding is due: ticks come with every transaction timer.
        // Every shard ticks; the first one past the deadline does the work, under the lock.
        store.locked {
            guard let due = store.bindingDeadline, due <= now else { return [] }
            return expireRegistrationsLocked(now: now)
        }
    }

    private func expireRegistrationsLocked(now: Double) -> [IMSAction] {
        defer { bindingDeadline = registrations.values.lazy.flatMap { $0.bindings }.map(\.expiresAt).min() }
        var out: [IMSAction] = []
        for (impi, var reg) in registrations {
            let expired = reg.bindings.filter { $0.expiresAt <= now }
            guard !expired.isEmpty else { continue }
            reg.bindings.removeAll { $0.expiresAt <= now }
            storeRegistration(impi, reg.bindings.isEmpty ? nil : reg)
            if reg.bindings.isEmpty { authenticated[impi] = nil }
            for b in expired { out.append(.event(.deregistered(impi: impi, contact: b.contact.uri.description))) }
            out += notifyRegSubscribers(impi: impi, now: now)
            if reg.bindings.isEmpty { out += dropGmSecurity(impi: impi) }
        }
        return out
    }

    /// Picks the first ipsec-3gpp mechanism of the phone's Security-Client that we accept and
    /// allocates our SPIs (TS 33.203 §7.1, RFC 3329).
    func negotiateGmSecurity(_ m: SIPMessage, peer: SIPPeer, ik: [UInt8], ck: [UInt8]) -> IMSGmSecurity? {
        guard config.ipsec, let offered = try? m.securityMechanisms("Security-Client") else { return nil }
        for mech in offered where mech.mechanism.lowercased() == "ipsec-3gpp" {
            guard let alg = mech.parameters["alg"]?.lowercased(), config.ipsecAalgList.contains(alg),
                  let spiC = mech.spiC, let spiS = mech.spiS, let portC = mech.portC, let portS = mech.portS else { continue }
            let ealg = mech.parameters["ealg"]?.lowercased() ?? "null"
            guard config.ipsecEalgList.contains(ealg), ealg == "null" || ealg == "aes-cbc" else { continue }
            guard mech.parameters["prot"].map({ $0.lowercased() == "esp" }) ?? true,
                  mech.parameters["mod"].map({ $0.lowercased() == "trans" }) ?? true else { continue }
            let spiPC: UInt32 = store.locked {
                let v = store.nextSPI
                store.nextSPI = v >= 0xFFFF_FF00 ? 0x1000 : v + 2
                return v
            }
            let spiPS = spiPC + 1
            return IMSGmSecurity(ueAddress: peer.address, pcscfAddress: receivingAddress ?? localAddress(toward: peer),
                                 portUC: portC, portUS: portS, spiUC: spiC, spiUS: spiS,
                                 portPC: config.protectedPortC, portPS: config.protectedPortS, spiPC: spiPC, spiPS: spiPS,
                                 integrityAlgorithm: alg, encryptionAlgorithm: ealg,
                                 integrityKey: alg == "hmac-sha-1-96" ? ik + [0, 0, 0, 0] : ik,
                                 encryptionKey: ealg == "aes-cbc" ? ck : [])
        }
        return nil
    }

    /// The SA set a request arrived on (UE port_uc → our port_ps), if any.
    func gmSecurity(impi: String, arrivedFrom peer: SIPPeer) -> IMSGmSecurity? {
        guard peer.localPort == config.protectedPortS else { return nil }
        return gmSecurity[impi]?.last { $0.ueAddress == peer.address && $0.portUC == peer.port }
    }

    /// Removes every SA of the IMPI except `keep`.
    func dropGmSecurity(impi: String, keep: IMSGmSecurity? = nil) -> [IMSAction] {
        let all = gmSecurity[impi] ?? []
        gmSecurity[impi] = keep.map { [$0] }
        return all.filter { $0 != keep }.map { .event(.gmSecurityRemoved($0)) }
    }

    /// Stores (or removes) a registration and keeps the IMPU index in step.
    func storeRegistration(_ impi: String, _ reg: IMSRegistration?) {
        store.locked {
            let s = store
            if let old = s.registrations[impi] {
                for u in old.impus where reg?.impus.contains(u) != true { s.impuIndex[impuKey(u)] = nil }
            }
            s.countFlows(s.registrations[impi], delta: -1)
            s.countFlows(reg, delta: 1)
            s.registrations[impi] = reg
            if let reg { for u in reg.impus { s.impuIndex[impuKey(u)] = impi } }
            // Only ever lowered here; removals leave it early, which costs one extra scan at most.
            if let earliest = reg?.bindings.lazy.map(\.expiresAt).min() { s.bindingDeadline = min(s.bindingDeadline ?? earliest, earliest) }
        }
    }

    /// Contacts are the same binding when user, host and port match (RFC 3261 §19.1.4, simplified).
    static func contactKey(_ u: SIPAnyURI) -> String {
        guard case .sip(let s) = u else { return u.description.lowercased() }
        return (s.user ?? "") + "@" + s.hostAddress.lowercased() + ":" + String(s.port ?? 5060)
    }
}
