import AKA
import SIP

/// REGISTER with IMS AKA (TS 24.229 §5.1.1.2, §5.1.1.5; RFC 3310) and the reg event
/// subscription (TS 24.229 §5.1.1.3, RFC 3680).
extension SIPUserAgent {
    /// Sends the initial REGISTER (empty-response Authorization, TS 24.229 §5.1.1.2.1).
    public mutating func register(now: Double) -> [SIPUAOutput] {
        registrationState = .registering
        regChallenges = 0
        regExpiresRequested = config.registerExpires
        return sendRegister(authorization: SIPUADigest.initialAuthorization(impi: config.impi, homeDomain: config.homeDomain),
                            expires: config.registerExpires, now: now)
    }

    /// De-registers (Expires: 0, TS 24.229 §5.1.1.6), reusing the last credentials form.
    public mutating func deregister(now: Double) -> [SIPUAOutput] {
        registrationState = .deregistering
        regExpiresRequested = 0
        return sendRegister(authorization: SIPUADigest.initialAuthorization(impi: config.impi, homeDomain: config.homeDomain),
                            expires: 0, now: now)
    }

    mutating func sendRegister(authorization: String, expires: UInt32, proxyAuthorization: String? = nil, now: Double) -> [SIPUAOutput] {
        regCSeq += 1
        let impu = "<\(config.impu)>"
        var m = baseRequest("REGISTER", uri: .sip(SIPURI(host: config.homeDomain)), from: impu + ";tag=" + regFromTag, to: impu,
                            callID: regCallID, cseq: regCSeq, route: [])
        m.addHeader("Contact", contact(forRegister: true))
        m.addHeader("Expires", String(expires))
        m.addHeader("Authorization", authorization)
        if let p = proxyAuthorization { m.addHeader("Proxy-Authorization", p) }
        m.addHeader("Supported", "path, gruu")
        m.addHeader("Allow", SIPUserAgent.allow)
        m.addHeader("P-Access-Network-Info", "IEEE-802.11")
        m.addHeader("User-Agent", config.userAgent)
        return sendRequest(m, now: now)
    }

    mutating func handleRegisterResponse(_ r: SIPMessage, cseq: UInt32, now: Double) -> [SIPUAOutput] {
        guard cseq == regCSeq, let code = r.statusCode, code >= 200 else { return [] }
        if code == 401 || code == 407 {
            let name = code == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
            regChallenges += 1
            guard regChallenges <= 3 else { return failRegistration(code, "challenged \(regChallenges) times in a row") }
            guard let ch = try? r.authorization(name) else { return failRegistration(code, "\(code) without a usable \(name)") }
            var out: [SIPUAOutput] = [.event(.challenged(algorithm: ch["algorithm"] ?? "MD5"))]
            let outcome = SIPUADigest.answer(challenge: ch, method: "REGISTER", uri: "sip:" + config.homeDomain, impi: config.impi,
                                            password: config.password, usim: &usim, cnonce: cnonceOverride ?? ids.cnonce())
            let header = code == 401 ? "Authorization" : "Proxy-Authorization"
            switch outcome {
            case let .credentials(auth, ck, ik):
                if !ck.isEmpty { akaKeys = (ck, ik) }
                out += sendRegister(header: header, authorization: auth, now: now)
            case let .syncFailure(auth):
                out.append(.event(.akaSyncFailure))
                out += sendRegister(header: header, authorization: auth, now: now)
            case .macFailure:
                registrationState = .failed
                out.append(.event(.akaMACFailure))
                out.append(.event(.registrationFailed(status: code, reason: "AKA MAC failure: the network is not authentic (TS 33.102 §6.3.3)")))
            case let .unusable(why):
                out += failRegistration(code, why)
            }
            return out
        }
        if code >= 300 { return failRegistration(code, (r.startLineReason ?? "") + " to REGISTER") }
        if regExpiresRequested == 0 {
            registrationState = .idle
            registeredExpires = nil
            refreshAt = nil
            return [.event(.deregistered)]
        }
        serviceRoute = ((try? r.headerValues("Service-Route")) ?? []).map(String.init)
        associatedURIs = ((try? r.addresses("P-Associated-URI")) ?? []).map { $0.uri.description }
        // The binding's expiry: our Contact's expires parameter, else Expires, else what we asked.
        let ours = ((try? r.contacts()) ?? []).first { $0.uri.sipURI?.user == config.contactUser }
        let exp = ours?.parameters["expires"].flatMap { UInt32($0) } ?? (try? r.expires()) ?? nil ?? regExpiresRequested
        registeredExpires = exp
        registrationState = .registered
        refreshAt = now + (exp > 1200 ? Double(exp) - 600 : Double(exp) / 2)
        return [.event(.registered(expires: exp, serviceRoute: serviceRoute, associatedURIs: associatedURIs))]
    }

    /// A 401 is answered in Authorization, a 407 in Proxy-Authorization next to the initial Authorization.
    mutating func sendRegister(header: String, authorization: String, now: Double) -> [SIPUAOutput] {
        if header == "Authorization" { return sendRegister(authorization: authorization, expires: regExpiresRequested, now: now) }
        return sendRegister(authorization: SIPUADigest.initialAuthorization(impi: config.impi, homeDomain: config.homeDomain),
                            expires: regExpiresRequested, proxyAuthorization: authorization, now: now)
    }

    mutating func failRegistration(_ status: Int, _ reason: String) -> [SIPUAOutput] {
        registrationState = .failed
        return [.event(.registrationFailed(status: status, reason: reason))]
    }

    // MARK: reg event

    /// SUBSCRIBE to the reg event package for our IMPU (TS 24.229 §5.1.1.3).
    public mutating func subscribeRegEvent(now: Double) -> [SIPUAOutput] {
        let impu = "<\(config.impu)>"
        var d = Dialog(callID: ids.callID(host: config.localAddress), localTag: ids.tag(), remoteTag: nil,
                       localURI: impu, remoteURI: impu, remoteTarget: (try? SIPAnyURI(config.impu)) ?? .other(config.impu),
                       routeSet: preloadedRoute, localCSeq: 1)
        var m = baseRequest("SUBSCRIBE", uri: d.remoteTarget, from: d.fromHeader, to: d.toHeader, callID: d.callID,
                            cseq: d.localCSeq, route: d.routeSet)
        d.routeSet = []
        m.addHeader("Event", "reg")
        m.addHeader("Accept", "application/reginfo+xml")
        m.addHeader("Expires", String(config.subscribeExpires))
        m.addHeader("Contact", contact())
        m.addHeader("P-Preferred-Identity", impu)
        m.addHeader("User-Agent", config.userAgent)
        subscription = d
        return sendRequest(m, now: now)
    }

    mutating func handleSubscribeResponse(_ r: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard let code = r.statusCode, code >= 200, var d = subscription, (try? r.callID()) == d.callID else { return [] }
        if code >= 300 {
            subscription = nil
            return [.event(.subscriptionFailed(status: code, reason: r.startLineReason ?? ""))]
        }
        d.update(from: r, isUAC: true)
        d.established = true
        subscription = d
        return [.event(.subscribed(expires: (try? r.expires()) ?? nil ?? config.subscribeExpires))]
    }

    /// Answers a reg-event NOTIFY with 200 (RFC 6665 §4.1.3) and reports its state.
    mutating func handleNotify(_ req: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard var d = subscription, (try? req.callID()) == d.callID, (try? req.to())?.tag == d.localTag else {
            return respond(response(481, to: req), now: now)
        }
        // The NOTIFY may overtake the SUBSCRIBE's 200 (RFC 6665 §4.1.2.4): it establishes the dialog too.
        if d.remoteTag == nil { d.remoteTag = (try? req.from())?.tag }
        if let c = (try? req.contacts())?.first { d.remoteTarget = c.uri }
        let subState = req.header("Subscription-State").map { String($0.prefix { $0 != ";" }).trimmingSpaces } ?? ""
        subscription = subState == "terminated" ? nil : d
        let regState = SIPUserAgent.registrationState(inReginfo: req.body)
        registrationInfoState = regState
        var out = respond(response(200, to: req), now: now)
        out.append(.event(.notified(subscriptionState: subState, registrationState: regState)))
        return out
    }

    /// The `state` of the first `<registration>` element of an RFC 3680 reginfo document.
    static func registrationState(inReginfo body: [UInt8]) -> String? {
        guard let reg = body.firstRange(of: Array("<registration".utf8)) else { return nil }
        let tagEnd = body[reg.upperBound...].firstIndex(of: UInt8(ascii: ">")) ?? body.endIndex
        let tag = body[reg.upperBound..<tagEnd]
        guard let st = tag.firstRange(of: Array(" state=".utf8)), st.upperBound < tag.endIndex else { return nil }
        let q = tag[st.upperBound]
        guard q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") else { return nil }
        let value = tag[(st.upperBound + 1)...].prefix { $0 != q }
        return String(decoding: value, as: UTF8.self)
    }
}

extension SIPMessage {
    var startLineReason: String? {
        if case let .response(_, reason) = startLine { return reason }
        return nil
    }
}
