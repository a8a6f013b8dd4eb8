import SIP
import AKA
import Crypto

/// The IMS core: P-CSCF and S-CSCF in one element, with a registrar (IMS AKA / MD5 digest),
/// the reg event package, echo (loopback) numbers and routing of calls and MESSAGEs between
/// registered phones. Sans-I/O: the runtime feeds datagrams or stream bytes with their
/// source, calls `tick(now:)` at `nextDeadline`, and performs the returned actions.
/// Not thread-safe: one owner (an event loop) drives it.
public final class IMSCore {
    public let config: IMSConfig
    public let subscribers: any IMSSubscriberSource
    var layer: SIPTransactionLayer
    var framers: [SIPPeer: SIPStreamFramer] = [:]

    /// Registrar state shared by every shard (see `IMSRegistrarStore`); the accessors below
    /// lock it for each access.
    public let store: IMSRegistrarStore
    /// This core's shard index (0 when the IMS is not sharded).
    public let shard: Int
    /// Whether a Call-ID this core makes up (MT calls) is dispatched to it: the runtime sets
    /// it when the IMS is sharded by Call-ID, so responses come back to the dialog's owner.
    public var ownsCallID: (String) -> Bool = { _ in true }

    var registrations: [String: IMSRegistration] {
        _read { store.lock(); defer { store.unlock() }; yield store.registrations }
        _modify { store.lock(); defer { store.unlock() }; yield &store.registrations }
    }
    var impuIndex: [String: String] {
        _read { store.lock(); defer { store.unlock() }; yield store.impuIndex }
        _modify { store.lock(); defer { store.unlock() }; yield &store.impuIndex }
    }
    /// The earliest `expiresAt` of any binding (or earlier): keeps `nextDeadline` and
    /// `tick` from walking every registration after each message.
    var bindingDeadline: Double? {
        get { store.locked { store.bindingDeadline } }
        set { store.locked { store.bindingDeadline = newValue } }
    }
    var challenges: [String: Challenge] {
        _read { store.lock(); defer { store.unlock() }; yield store.challenges }
        _modify { store.lock(); defer { store.unlock() }; yield &store.challenges }
    }
    var authenticated: [String: Challenge] {
        _read { store.lock(); defer { store.unlock() }; yield store.authenticated }
        _modify { store.lock(); defer { store.unlock() }; yield &store.authenticated }
    }
    /// Negotiated Gm SAs per IMPI (the newest last).
    var gmSecurity: [String: [IMSGmSecurity]] {
        _read { store.lock(); defer { store.unlock() }; yield store.gmSecurity }
        _modify { store.lock(); defer { store.unlock() }; yield &store.gmSecurity }
    }
    var nextSPI: UInt32 {
        get { store.locked { store.nextSPI } }
        set { store.locked { store.nextSPI = newValue } }
    }
    // Reg event subscriptions, by Call-ID of the SUBSCRIBE dialog.
    var regSubscriptions: [String: RegSubscription] = [:]
    // Echo dialogs by Call-ID, and the dialogs proxied between phones.
    var echoCalls: [String: EchoCall] = [:]
    /// Proxied dialogs by Call-ID, with the time of their last request (idle ones are dropped).
    var proxiedCalls: [String: Double] = [:]
    /// Network-initiated calls by Call-ID.
    var mtCalls: [String: MTCall] = [:]
    /// A proxied dialog without requests for this long is forgotten (no BYE seen).
    static let proxiedIdleLimit: Double = 4 * 3600
    /// The next echo media port to try, per media range (keyed by its lower bound).
    var nextMediaPort: [UInt16: UInt16] = [:]
    /// Our address (`sip_addr`) the message being handled arrived on, when the runtime said.
    var receivingAddress: String?
    /// Makes tags, branches and MD5 nonces; tests replace it to get byte-exact messages.
    public var tokenSource: (Int) -> String = { IMSCore.randomToken($0) }
    var usedMediaPorts: Set<UInt16> = []
    /// RFC 3261 §18.1.1 transport choice: why TCP cannot reach a peer (the runtime sets it; e.g.
    /// the in-process inner path carries UDP only). nil = TCP can be tried.
    public var tcpUnavailableReason: (SIPPeer) -> String? = { _ in nil }
    /// Peers (as UDP peers) that refused our TCP connection, until when: large requests go over UDP.
    var tcpRefusedUntil: [SIPPeer: Double] = [:]
    /// Our Via branches of proxied INVITEs that went over TCP, with when: their CANCEL and
    /// non-2xx ACK (same branch, RFC 3261 §9.1, §17.1.1.3) follow them there.
    var tcpForwardedInvites: [String: Double] = [:]
    /// Peers already told about in `largeRequestKeptOnUDP` (said once per peer).
    var udpOnlyNoticed: Set<SIPPeer> = []
    /// Proxied INVITE dialogs whose caller supports session timers (RFC 4028 §8.2): Call-ID →
    /// the Session-Expires the forwarded request carried.
    var proxiedSessionTimers: [String: SIPSessionExpires] = [:]
    /// `IMSIdentity.key` of each `config.echo` entry, in order (parsed once, not per INVITE).
    let echoKeys: [String]
    /// `IMSIdentity.key` of IMPU strings of the subscriber source (a URI parse each otherwise).
    var impuKeys: [String: String] = [:]

    /// The comparison key of a configured IMPU URI, memoised (IMPUs come from the ue_db, so
    /// the table is bounded by it).
    func impuKey(_ uri: String) -> String {
        if let k = impuKeys[uri] { return k }
        let k = IMSIdentity.key(uri)
        if impuKeys.count < 100_000 { impuKeys[uri] = k }
        return k
    }

    /// `store` and `shard`: the shared registrar and this core's index when the IMS runs as
    /// several shards (one per event loop); the defaults make a standalone core.
    public init(config: IMSConfig, subscribers: any IMSSubscriberSource, store: IMSRegistrarStore = IMSRegistrarStore(), shard: Int = 0) {
        self.config = config
        self.subscribers = subscribers
        self.store = store
        self.shard = shard
        self.layer = SIPTransactionLayer(timers: config.timers)
        self.echoKeys = config.echo.map { IMSIdentity.key($0.impu) }
    }

    /// Current registrations, by IMPI.
    public var currentRegistrations: [IMSRegistration] { Array(registrations.values) }
    /// Call-IDs of echo dialogs in progress.
    public var activeEchoCalls: [String] { Array(echoCalls.keys) }

    /// Dialogs in progress: echo calls with their media, and proxied calls (`dialog_get`).
    public var dialogs: [IMSDialogInfo] {
        var out: [IMSDialogInfo] = echoCalls.values.map { c in
            let state: IMSDialogInfo.State = c.phase == .active ? .start : c.phase == .answered ? .ringing : .`init`
            return IMSDialogInfo(callID: c.callID, kind: .echo, state: state,
                                 from: (try? c.invite.from().uri.description) ?? "", to: c.invite.requestURI?.description ?? "",
                                 media: c.media)
        }
        out += mtCalls.values.map { c in
            IMSDialogInfo(callID: c.callID, kind: .mt, state: c.state == .active ? .start : c.state == .early ? .ringing : .`init`,
                          from: (try? c.invite.from().uri.description) ?? "", to: c.invite.requestURI?.description ?? "",
                          media: c.mediaOpen ? c.media : nil)
        }
        out += proxiedCalls.keys.map { IMSDialogInfo(callID: $0, kind: .proxy, state: .start, from: "", to: "", media: nil) }
        return out.sorted { $0.callID < $1.callID }
    }

    /// Network-initiated de-registration (remote API `unregister`): drops every binding of the
    /// IMPI, tells reg-event subscribers, and removes Gm SAs.
    public func deregister(impi: String, now: Double) -> [IMSAction] {
        let removed: IMSRegistration? = store.locked {
            guard let reg = registrations[impi] else { return nil }
            storeRegistration(impi, nil)
            authenticated[impi] = nil
            return reg
        }
        guard let reg = removed else { return [] }
        var out: [IMSAction] = reg.bindings.map { .event(.deregistered(impi: impi, contact: $0.contact.uri.description)) }
        out += notifyRegSubscribers(impi: impi, now: now)
        out += dropGmSecurity(impi: impi)
        return out
    }

    // MARK: input

    /// One UDP datagram (a whole SIP message) from `peer`; `local` is our `sip_addr` address
    /// it arrived on (echo media are then served from that address and its port range).
    public func receive(datagram: [UInt8], from peer: SIPPeer, to local: String? = nil, now: Double) -> [IMSAction] {
        receivingAddress = local
        defer { receivingAddress = nil }
        // A lone CRLF keep-alive (RFC 5626) needs no answer over UDP.
        if datagram.allSatisfy({ $0 == 0x0D || $0 == 0x0A }) { return [] }
        do {
            let m = try SIPMessage(parsing: datagram)
            return handle(m, from: peer, now: now)
        } catch let e as SIPParseError {
            return [.event(.parseError(peer: peer, error: "\(e)"))] + badRequestReply(datagram, error: e, peer: peer)
        } catch {
            return [.event(.parseError(peer: peer, error: "\(error)"))]
        }
    }

    /// Bytes read from the TCP connection with `peer`; framed by Content-Length. A CRLFCRLF
    /// keep-alive ping between messages is answered with a CRLF pong (RFC 5626 §4.4.1).
    public func receive(stream bytes: [UInt8], from peer: SIPPeer, to local: String? = nil, now: Double) -> [IMSAction] {
        var framer = framers[peer] ?? SIPStreamFramer()
        framer.append(bytes)
        var out: [IMSAction] = []
        while true {
            do {
                guard let frame = try framer.nextFrame() else { break }
                switch frame {
                case .ping: out.append(.send(SIPStreamFramer.pong, to: peer))
                case .message(let msg): out += receive(datagram: msg, from: peer, to: local, now: now)
                }
            } catch {
                framers[peer] = nil
                return out + [.event(.parseError(peer: peer, error: "\(error)")), .closeConnection(peer)]
            }
        }
        framers[peer] = framer
        return out
    }

    /// Whether a transaction of this core is with `peer`'s address and port, or a registration
    /// binding (any shard's) was made over the connection `peer` names: that connection must
    /// stay (RFC 5626 §3: the flow a registered phone is reached on). A connection we opened
    /// toward a phone registered over UDP is not its flow.
    public func usesConnection(to peer: SIPPeer) -> Bool {
        if layer.hasTransaction(withAddress: peer.address, port: peer.port) { return true }
        return store.locked { store.registrations.values.contains { $0.bindings.contains { $0.peer == peer } } }
    }

    /// The runtime closed the connection with `peer`.
    public func connectionClosed(_ peer: SIPPeer) { framers[peer] = nil }

    /// When `tick` must next run (transaction timers, retransmissions, binding expiry).
    public var nextDeadline: Double? {
        var d: [Double] = []
        if let t = layer.nextDeadline { d.append(t) }
        if let b = bindingDeadline { d.append(b) }
        for s in regSubscriptions.values { d.append(s.expiresAt) }
        for c in echoCalls.values { if let t = c.nextDeadline { d.append(t) } }
        if let c = store.locked({ store.challenges.values.lazy.map(\.expiresAt).min() }) { d.append(c) }
        return d.min()
    }

    /// Runs everything due at `now`.
    public func tick(now: Double) -> [IMSAction] {
        var out = convert(layer.tick(now: now), now: now)
        out += expireRegistrations(now: now)
        out += expireSubscriptions(now: now)
        for id in Array(echoCalls.keys) { out += echoTick(id, now: now) }
        store.locked {
            if store.challenges.values.contains(where: { $0.expiresAt <= now }) { store.challenges = store.challenges.filter { $0.value.expiresAt > now } }
        }
        // A relayed dialog with a session timer is forgotten once a whole interval passes with no
        // request through us (the phones would have refreshed, RFC 4028 §10); others after 4 h.
        for (id, last) in proxiedCalls {
            if let se = proxiedSessionTimers[id], now - last > Double(se.interval) + 32 {
                proxiedCalls[id] = nil
                out.append(.event(.callEnded(callID: id, reason: "no refresh through the proxy within \(se.interval) s (RFC 4028)")))
            } else if now - last >= IMSCore.proxiedIdleLimit {
                proxiedCalls[id] = nil
            }
        }
        proxiedSessionTimers = proxiedSessionTimers.filter { proxiedCalls[$0.key] != nil }
        tcpRefusedUntil = tcpRefusedUntil.filter { $0.value > now }
        tcpForwardedInvites = tcpForwardedInvites.filter { now - $0.value < IMSCore.tcpRefusedMemory }
        return out
    }

    // MARK: dispatch

    func handle(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        if !m.isRequest {
            // Responses to requests we proxied carry our Via on top of the sender's.
            if let vias = try? m.vias(), vias.count >= 2, isOurBranch(vias[0]) {
                return proxyResponse(m, now: now)
            }
            return convert(layer.receive(m, from: peer, now: now), now: now)
        }
        guard let method = m.method else { return [] }
        if let mf = try? m.maxForwards(), mf == 0, method != "ACK", method != "REGISTER" {
            return reply(m, 483, peer: peer, now: now, stateless: true)
        }
        let callID = (try? m.callID()) ?? ""
        // Requests inside a proxied dialog, and new INVITE/MESSAGE towards a registered phone, are
        // forwarded statelessly; everything else is ours (UAS) and goes through the transaction layer.
        if proxiedCalls[callID] != nil && echoCalls[callID] == nil {
            let initial = method == "INVITE" && (try? m.to().tag) == nil
            return proxyRequest(m, from: peer, now: now, initial: initial)
        }
        if ["INVITE", "MESSAGE"].contains(method), (try? m.to().tag) == nil, echoCalls[callID] == nil,
           let uri = m.requestURI, echoEntry(for: uri) == nil, findRegistration(for: uri) != nil,
           isRegisteredCaller(m, peer: peer) {
            return proxyRequest(m, from: peer, now: now, initial: true)
        }
        return convert(layer.receive(m, from: peer, now: now), now: now)
    }

    /// Turns transaction-layer outputs into actions, handing delivered messages to the TU.
    func convert(_ outs: [SIPTransactionLayer.Output], now: Double) -> [IMSAction] {
        var actions: [IMSAction] = []
        for o in outs {
            switch o {
            case .send(let m, let to): actions.append(.send(m.serialized(), to: to))
            case .deliver(let m, let from): actions += m.isRequest ? handleRequest(m, from: from, now: now) : handleResponse(m, now: now)
            case .timedOut(let req): actions += handleTimeout(req, now: now)
            }
        }
        return actions
    }

    func handleRequest(_ m: SIPMessage, from peer: SIPPeer, now: Double) -> [IMSAction] {
        let callID = (try? m.callID()) ?? ""
        switch m.method ?? "" {
        case "REGISTER": return handleRegister(m, from: peer, now: now)
        case "SUBSCRIBE": return handleSubscribe(m, from: peer, now: now)
        case "OPTIONS":
            var r = makeResponse(to: m, code: 200)
            r.addHeader("Allow", IMSCore.allow)
            r.addHeader("Accept", "application/sdp")
            return respond(r, now: now)
        case "INVITE":
            if echoCalls[callID] != nil { return echoRequest(m, from: peer, now: now) }
            if mtCalls[callID] != nil { return mtRequest(m, from: peer, now: now) }
            if let tag = try? m.to().tag, !tag.isEmpty { return reply(m, 481, peer: peer, now: now) }
            return handleInitialInvite(m, from: peer, now: now)
        case "ACK", "PRACK", "UPDATE", "BYE", "CANCEL", "INFO":
            if echoCalls[callID] != nil { return echoRequest(m, from: peer, now: now) }
            if mtCalls[callID] != nil { return mtRequest(m, from: peer, now: now) }
            if m.method == "ACK" { return [] }
            return reply(m, 481, peer: peer, now: now)
        case "MESSAGE":
            guard let uri = m.requestURI else { return reply(m, 400, peer: peer, now: now) }
            guard isRegisteredCaller(m, peer: peer) else { return reply(m, 403, peer: peer, now: now) }
            return reply(m, isKnownIMPU(uri) ? 480 : 404, peer: peer, now: now)
        case "NOTIFY", "PUBLISH":
            return reply(m, 200, peer: peer, now: now)
        default:
            var r = makeResponse(to: m, code: 405)
            r.addHeader("Allow", IMSCore.allow)
            return respond(r, now: now)
        }
    }

    func handleResponse(_ m: SIPMessage, now: Double) -> [IMSAction] {
        if let cs = try? m.cseq(), cs.method == "INVITE", let cid = try? m.callID(), mtCalls[cid] != nil {
            return mtResponse(m, now: now)
        }
        if let cid = try? m.callID(), echoCalls[cid] != nil { return echoResponse(m, now: now) }
        // Responses to our NOTIFYs: a 481 or 4xx/5xx ends the subscription (RFC 6665 §4.1.3).
        if let cs = try? m.cseq(), cs.method == "NOTIFY", let code = m.statusCode, code >= 300,
           let cid = try? m.callID() {
            setRegSubscription(cid, nil)
        }
        return []
    }

    /// A client transaction got no final response (Timer B/F: 408) or its transport failed
    /// (`transportError`: 503, RFC 3261 §8.1.3.1); or an INVITE server transaction got no ACK.
    func handleTimeout(_ request: SIPMessage, now: Double, transportError: Bool = false) -> [IMSAction] {
        let ours = (try? request.topVia()).map(isOurBranch) ?? false
        let why = transportError ? "transport error (503)" : "timeout (408)"
        if request.method == "NOTIFY", let cid = try? request.callID() { setRegSubscription(cid, nil) }
        if ours, let cid = try? request.callID(), echoCalls[cid] != nil, request.method != "BYE" {
            // Our session refresh failed: the dialog is gone (RFC 3261 §12.2.1.2).
            return endEcho(cid, reason: "session refresh \(request.method ?? "?"): \(why)")
        }
        if request.method == "INVITE", let cid = try? request.callID(), echoCalls[cid] != nil {
            return endEcho(cid, reason: "no ACK")
        }
        if request.method == "INVITE", let cid = try? request.callID(), mtCalls[cid] != nil {
            return endMT(cid, reason: transportError ? "transport error (503)" : "no answer")
        }
        return []
    }

    static let allow = "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS, MESSAGE, SUBSCRIBE, NOTIFY, REGISTER, INFO"

    // MARK: responses

    /// A response echoing Via, From, To (adding our tag), Call-ID and CSeq (RFC 3261 §8.2.6.2).
    func makeResponse(to req: SIPMessage, code: Int, reason: String? = nil, toTag: String? = nil) -> SIPMessage {
        var r = SIPMessage.response(code, reason)
        for v in req.headerLines("Via") { r.addHeader("Via", v) }
        if let f = req.header("From") { r.addHeader("From", f) }
        if var to = try? req.to() {
            if to.tag == nil, code > 100 { to.tag = toTag ?? newToken() }
            r.addHeader("To", to.description)
        } else if let t = req.header("To") { r.addHeader("To", t) }
        if let c = req.header("Call-ID") { r.addHeader("Call-ID", c) }
        if let c = req.header("CSeq") { r.addHeader("CSeq", c) }
        r.addHeader("Server", config.userAgent)
        return r
    }

    func respond(_ r: SIPMessage, now: Double, fallback: SIPPeer? = nil) -> [IMSAction] {
        convert(layer.respond(r, now: now, fallbackPeer: fallback), now: now)
    }

    func reply(_ req: SIPMessage, _ code: Int, peer: SIPPeer, now: Double, stateless: Bool = false) -> [IMSAction] {
        let r = makeResponse(to: req, code: code)
        if stateless { return [.send(r.serialized(), to: peer)] }
        return respond(r, now: now, fallback: peer)
    }

    /// A 400 (or 505) for a request we could not parse, when its Via/From/To/Call-ID/CSeq can still be read.
    func badRequestReply(_ bytes: [UInt8], error: SIPParseError, peer: SIPPeer) -> [IMSAction] {
        guard let m = try? SIPMessage(parsing: bytes, validate: false), m.isRequest, m.method != "ACK",
              (try? m.topVia()) != nil, (try? m.callID()) != nil, (try? m.cseq()) != nil else { return [] }
        let code: Int
        if case .unsupportedVersion = error { code = 505 } else { code = 400 }
        var reason = "Bad Request"
        if case .badHeaderValue(let h, _) = error { reason = "Bad Header " + h }
        if case .missingHeader(let h) = error { reason = "Missing " + h }
        var r = SIPMessage.response(code, code == 505 ? nil : reason)
        for v in m.headerLines("Via") { r.addHeader("Via", v) }
        for n in ["From", "To", "Call-ID", "CSeq"] { if let v = m.header(n) { r.addHeader(n, v) } }
        return [.send(r.serialized(), to: peer)]
    }

    // MARK: helpers

    /// A new tag, branch suffix or MD5 nonce (`bytes` random bytes as hex) from `tokenSource`.
    func newToken(_ bytes: Int = 8) -> String { tokenSource(bytes) }

    /// Random hex token for tags, branches and nonces.
    public static func randomToken(_ bytes: Int = 8) -> String {
        // OpenSSL's DRBG: one call per token (a getrandom(2) per byte cost 4 % of a REGISTER).
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 * bytes)
        for (i, b) in SecureRandom.bytes(bytes).enumerated() {
            out[2 * i] = hex[Int(b >> 4)]; out[2 * i + 1] = hex[Int(b & 15)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let branchPrefix = "z9hG4bKvwc"

    func isOurBranch(_ via: SIPVia) -> Bool { via.branch?.hasPrefix(IMSCore.branchPrefix) ?? false }

    /// Our Via toward `peer`, naming our address `local` (default: `localAddress(toward:)`).
    func ourVia(for peer: SIPPeer, branch: String, local: String? = nil) -> String {
        "SIP/2.0/\(peer.transport.rawValue) \(hostPort(local ?? localAddress(toward: peer)));branch=\(branch)"
    }

    func ourURI(for peer: SIPPeer, local: String? = nil) -> String { "sip:" + hostPort(local ?? localAddress(toward: peer)) }

    /// The peer to reach a URI by its host and port (IP literals only; no DNS in the core).
    static func peer(for uri: SIPURI, transport: SIPTransport = .udp) -> SIPPeer? {
        let host = uri.hostAddress
        guard host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
        var t = transport
        if let tp = uri.parameters["transport"]?.lowercased() { t = tp == "tcp" ? .tcp : tp == "tls" ? .tls : .udp }
        return SIPPeer(address: host, port: uri.port ?? 5060, transport: t)
    }

    /// Where a response goes according to a Via (RFC 3261 §18.2.2 and RFC 3581 received/rport).
    static func peer(for via: SIPVia) -> SIPPeer {
        let t: SIPTransport = via.transport == "TCP" ? .tcp : via.transport == "TLS" ? .tls : .udp
        let addr = via.received ?? via.hostAddress
        let port = (via.rport).flatMap { $0 == 0 ? nil : $0 } ?? via.port ?? 5060
        return SIPPeer(address: addr, port: port, transport: t)
    }

    func echoEntry(for uri: SIPAnyURI) -> IMSEchoEntry? {
        let keys = IMSIdentity.lookupKeys(uri)
        for (i, e) in config.echo.enumerated() where keys.contains(echoKeys[i]) { return e }
        return nil
    }

    /// The request comes from a registered phone: its From IMPU is registered, or it comes
    /// from the address of a registered binding.
    func isRegisteredCaller(_ m: SIPMessage, peer: SIPPeer) -> Bool {
        if let from = try? m.from(), findRegistration(for: from.uri) != nil { return true }
        return registrations.values.contains { $0.bindings.contains { $0.peer.address == peer.address } }
    }

    func isKnownIMPU(_ uri: SIPAnyURI) -> Bool {
        for k in IMSIdentity.lookupKeys(uri) where subscribers.subscriber(impu: k) != nil { return true }
        return false
    }

    func findRegistration(for uri: SIPAnyURI) -> IMSRegistration? {
        for k in IMSIdentity.lookupKeys(uri) {
            if let impi = impuIndex[k], let reg = registrations[impi], !reg.bindings.isEmpty { return reg }
        }
        return nil
    }
}
