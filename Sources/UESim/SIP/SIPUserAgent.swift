import AKA
import SIP

/// The IMS client of the simulated phone (RFC 3261 UA core on top of the SIP target's
/// transaction layer; TS 24.229 UE procedures). Sans-I/O: feed it datagrams and the time,
/// send what it returns, call `tick(now:)` at `nextDeadline`. Retransmission over UDP
/// (T1 = 500 ms doubling) is done by the RFC 3261 §17 client transactions.
public struct SIPUserAgent: Sendable {
    public enum RegistrationState: String, Sendable { case idle, registering, registered, deregistering, failed }

    public let config: SIPUAConfig
    /// The card used for AKA digest; shared SQN state with IKE's EAP-AKA is the owner's business.
    public var usim: USIM?
    var ids: SIPUAIdentifiers
    var transactions: SIPTransactionLayer

    // Registration (one binding, TS 24.229 §5.1.1.2).
    public internal(set) var registrationState: RegistrationState = .idle
    var regCallID: String
    var regFromTag: String
    var regCSeq: UInt32 = 0
    var regChallenges = 0
    var regExpiresRequested: UInt32 = 0
    /// Tests pin the cnonce to reproduce published/derived digest examples.
    var cnonceOverride: String?
    public internal(set) var serviceRoute: [String] = []
    public internal(set) var associatedURIs: [String] = []
    public internal(set) var registeredExpires: UInt32?
    /// When the binding is refreshed (TS 24.229 §5.1.1.4: 600 s before expiry, or at half time for short ones).
    public internal(set) var refreshAt: Double?
    /// CK and IK of the last successful AKA (what sec-agree IPsec would be keyed with).
    public internal(set) var akaKeys: (ck: [UInt8], ik: [UInt8])?

    // reg-event subscription (RFC 3680).
    var subscription: Dialog?
    public internal(set) var registrationInfoState: String?

    // The one call (RFC 3261 §12-§15, RFC 3262, RFC 3311).
    var call: Call?
    /// Remote media of the current call once its SDP answer (or offer) is known.
    public var callMedia: RemoteMedia? { call?.remoteSDP.flatMap(RemoteMedia.init) }
    public var isInCall: Bool { call?.phase == .established }

    public init(config: SIPUAConfig, usim: USIM? = nil) {
        self.config = config
        self.usim = usim
        ids = SIPUAIdentifiers(seed: config.idSeed)
        transactions = SIPTransactionLayer(timers: config.timers)
        regCallID = ids.callID(host: config.localAddress)
        regFromTag = ids.tag()
    }

    /// When `tick(now:)` must next be called.
    public var nextDeadline: Double? {
        [transactions.nextDeadline, call?.retransmit?.at, refreshAt, call?.sessionTimer?.nextDeadline].compactMap { $0 }.min()
    }

    // MARK: input

    /// A UDP datagram from `peer`. Unparseable datagrams are dropped (returned empty).
    public mutating func receive(_ bytes: [UInt8], from peer: SIPPeer, now: Double) -> [SIPUAOutput] {
        guard let m = try? SIPMessage(parsing: bytes) else { return [] }
        return receive(m, from: peer, now: now)
    }

    public mutating func receive(_ message: SIPMessage, from peer: SIPPeer, now: Double) -> [SIPUAOutput] {
        process(transactions.receive(message, from: peer, now: now), now: now)
    }

    /// Fires due timers: transaction retransmissions and timeouts, 2xx retransmission (RFC 3261 §13.3.1.4).
    public mutating func tick(now: Double) -> [SIPUAOutput] {
        var out = process(transactions.tick(now: now), now: now)
        out += retransmit2xx(now: now)
        out += sessionTimerTick(now: now)
        if let r = refreshAt, r <= now, registrationState == .registered {
            refreshAt = nil
            regChallenges = 0
            regExpiresRequested = config.registerExpires
            out += sendRegister(authorization: SIPUADigest.initialAuthorization(impi: config.impi, homeDomain: config.homeDomain),
                                expires: config.registerExpires, now: now)
        }
        return out
    }

    // MARK: plumbing

    mutating func process(_ outputs: [SIPTransactionLayer.Output], now: Double) -> [SIPUAOutput] {
        var out: [SIPUAOutput] = []
        for o in outputs {
            switch o {
            case let .send(m, to): out.append(.send(m, to: to))
            case let .deliver(m, from):
                out += m.isRequest ? handleRequest(m, from: from, now: now) : handleResponse(m, now: now)
            case let .timedOut(req):
                out += handleTimeout(req)
            }
        }
        return out
    }

    mutating func sendRequest(_ m: SIPMessage, now: Double) -> [SIPUAOutput] {
        process(transactions.sendRequest(m, to: config.pcscf, now: now), now: now)
    }

    mutating func respond(_ m: SIPMessage, now: Double) -> [SIPUAOutput] {
        process(transactions.respond(m, now: now, fallbackPeer: config.pcscf), now: now)
    }

    mutating func handleTimeout(_ request: SIPMessage) -> [SIPUAOutput] {
        let method = request.method ?? "?"
        var out: [SIPUAOutput] = [.event(.timedOut(method: method))]
        switch method {
        case "REGISTER":
            registrationState = .failed
            out.append(.event(.registrationFailed(status: 408, reason: "no response to REGISTER")))
        case "SUBSCRIBE":
            subscription = nil
            out.append(.event(.subscriptionFailed(status: 408, reason: "no response to SUBSCRIBE")))
        case "INVITE":
            if call?.isCaller == true, call?.phase != .established {
                call = nil
                out.append(.event(.callFailed(status: 408, reason: "no final response to INVITE")))
            }
        case "BYE":
            call = nil
            out.append(.event(.callEnded(byRemote: false)))
        default: break
        }
        return out
    }

    // MARK: request building

    /// Headers every request from this UA carries: Via (with rport, RFC 3581), Max-Forwards,
    /// Route, From, To, Call-ID, CSeq.
    mutating func baseRequest(_ method: String, uri: SIPAnyURI, from: String, to: String, callID: String,
                              cseq: UInt32, route: [String], cseqMethod: String? = nil) -> SIPMessage {
        var m = SIPMessage.request(method, uri: uri)
        m.addHeader("Via", "SIP/2.0/UDP \(config.hostPort);branch=\(ids.branch());rport")
        m.addHeader("Max-Forwards", "70")
        for r in route { m.addHeader("Route", r) }
        m.addHeader("From", from)
        m.addHeader("To", to)
        m.addHeader("Call-ID", callID)
        m.addHeader("CSeq", "\(cseq) \(cseqMethod ?? method)")
        return m
    }

    /// `<sip:user@ip:port>` with the IMS feature tags (TS 24.229 §5.1.1.2.1: ICSI of MMTel, RFC 3840).
    func contact(forRegister: Bool = false) -> String {
        var c = "<sip:\(config.contactUser)@\(config.hostPort)>"
        c += ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\""
        if let inst = config.instanceID, forRegister { c += ";+sip.instance=\"\(inst)\"" }
        return c
    }

    /// Route for a new dialog or standalone request (TS 24.229 §5.1.2A.1.1): the P-CSCF, then Service-Route.
    var preloadedRoute: [String] {
        let p = config.pcscf
        let host = p.address.contains(":") ? "[" + p.address + "]" : p.address
        return ["<sip:\(host):\(p.port);lr>"] + serviceRoute
    }

    static let allow = "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, NOTIFY, MESSAGE, OPTIONS, REFER"

    /// A response to `request` (RFC 3261 §8.2.6): Via, From, To (with our tag when given), Call-ID, CSeq copied.
    func response(_ code: Int, to request: SIPMessage, toTag: String? = nil) -> SIPMessage {
        var r = SIPMessage.response(code)
        for v in request.headerLines("Via") { r.addHeader("Via", v) }
        for name in ["From"] { if let v = request.header(name) { r.addHeader(name, v) } }
        if var to = try? request.to() {
            if to.tag == nil, let t = toTag { to.tag = t }
            r.addHeader("To", to.description)
        } else if let v = request.header("To") { r.addHeader("To", v) }
        for name in ["Call-ID", "CSeq"] { if let v = request.header(name) { r.addHeader(name, v) } }
        return r
    }

    // MARK: request dispatch

    mutating func handleRequest(_ req: SIPMessage, from: SIPPeer, now: Double) -> [SIPUAOutput] {
        switch req.method ?? "" {
        case "NOTIFY": return handleNotify(req, now: now)
        case "INVITE": return handleIncomingInvite(req, now: now)
        case "ACK": return handleAck(req, now: now)
        case "PRACK": return handlePrack(req, now: now)
        case "UPDATE": return handleUpdate(req, now: now)
        case "BYE": return handleBye(req, now: now)
        case "CANCEL": return respond(response(callMatches(req) ? 200 : 481, to: req), now: now)
        case "OPTIONS", "MESSAGE": return respond(response(200, to: req, toTag: ids.tag()), now: now)
        default:
            var r = response(501, to: req)
            r.addHeader("Allow", SIPUserAgent.allow)
            return respond(r, now: now)
        }
    }

    func callMatches(_ req: SIPMessage) -> Bool {
        guard let call, let cid = try? req.callID() else { return false }
        return cid == call.dialog.callID
    }

    // MARK: response dispatch

    mutating func handleResponse(_ r: SIPMessage, now: Double) -> [SIPUAOutput] {
        guard let cs = try? r.cseq() else { return [] }
        switch cs.method {
        case "REGISTER": return handleRegisterResponse(r, cseq: cs.sequence, now: now)
        case "SUBSCRIBE": return handleSubscribeResponse(r, now: now)
        case "INVITE": return handleInviteResponse(r, now: now)
        case "PRACK": return handlePrackResponse(r, now: now)
        case "UPDATE": return handleUpdateResponse(r, now: now)
        case "BYE":
            guard let code = r.statusCode, code >= 200, call != nil else { return [] }
            call = nil
            return [.event(.callEnded(byRemote: false))]
        default: return []
        }
    }
}

/// The state of one dialog as RFC 3261 §12 defines it.
struct Dialog: Sendable {
    var callID: String
    var localTag: String
    var remoteTag: String?
    /// Our address (From in our requests) and the peer's (To), without tags.
    var localURI: String
    var remoteURI: String
    var remoteTarget: SIPAnyURI
    var routeSet: [String]
    var localCSeq: UInt32
    var established = false

    var fromHeader: String { localURI + ";tag=" + localTag }
    var toHeader: String { remoteURI + (remoteTag.map { ";tag=" + $0 } ?? "") }

    /// Takes the remote tag, target (Contact) and, once, the route set (Record-Route reversed
    /// for the UAC, RFC 3261 §12.1.2) from a response that creates or refreshes the dialog.
    mutating func update(from r: SIPMessage, isUAC: Bool) {
        if let tag = (try? r.to())?.tag, remoteTag == nil || !established { remoteTag = tag }
        if let c = (try? r.contacts())?.first { remoteTarget = c.uri }
        if !established {
            let rr = ((try? r.headerValues("Record-Route")) ?? []).map(String.init)
            routeSet = isUAC ? rr.reversed() : rr
        }
    }
}
