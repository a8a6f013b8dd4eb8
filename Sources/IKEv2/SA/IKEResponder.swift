import Crypto
import Wire

/// The ePDG's IKEv2 endpoint: owns every responder IKE SA, routes datagrams to them by SPI,
/// and creates SAs for new IKE_SA_INIT requests. Sans-I/O: the host feeds datagrams and the
/// time, and performs the returned actions. Not thread-safe; use from one thread or actor.
public final class IKEResponder {
    public let policy: IKEResponderPolicy
    let vectors: AuthenticationVectorSource
    let pool: InnerAddressPool
    let signer: IKEAuthSigner?
    /// By our SPI: SPIr, or SPIi of an SA made by a rekey the ePDG started (RFC 7296 §2.18).
    var sas: [UInt64: IKEResponderSA] = [:]
    /// Half-open lookup for IKE_SA_INIT retransmissions: (SPIi, peer) → SPIr.
    var byInitiator: [InitKey: UInt64] = [:]
    struct InitKey: Hashable { var spiI: UInt64; var remote: IKEEndpoint }
    /// Our SPIs of the SAs of each subscriber, so INITIAL_CONTACT and the per-IMSI operator
    /// requests cost O(SAs of that IMSI), not a scan of every SA (that scan was 18 % of an
    /// attach with a few thousand SAs). May hold SPIs of SAs already gone: readers check `sas`.
    var byIMSI: [String: [UInt64]] = [:]
    /// Our SPIs of the SAs not yet established, counted for the COOKIE threshold without a
    /// scan of every SA on each IKE_SA_INIT.
    var halfOpen: Set<UInt64> = []
    /// Chooses inbound ESP SPIs; the host may replace it to coordinate with its SA database.
    public var allocateESPSPI: () -> UInt32 = { max(0x100, SecureRandom.uint32()) }
    /// Which of our IKE SPIs (SPIr) this responder may choose: a sharded host accepts only
    /// SPIs that hash to its own shard, so every later message of the SA reaches it.
    public var acceptsIKESPI: (UInt64) -> Bool = { _ in true }
    /// The finest log level the host wants from the SAs (see `IKESA.logLevel`).
    public var logLevel: IKELogLevel = .debug
    /// The `ike_generate_error` test hook; may be changed at run time.
    public var errorInjection: IKEErrorInjection?

    /// Consumes one use of the error hook if it applies to `step` and `apn`.
    func injectedError(_ step: IKEErrorInjection.Exchange, apn: String?) -> InjectedError? {
        guard var e = errorInjection, e.exchange == step else { return nil }
        if !e.apns.isEmpty {
            guard let apn, e.apns.contains(where: { $0.lowercased() == apn.lowercased() }) else { return nil }
        }
        if let t = e.ttl {
            if t <= 0 { return nil }
            e.ttl = t - 1
            errorInjection = e
        }
        return e.rejectNotifies.map { .reject($0) } ?? .ignore
    }

    public init(policy: IKEResponderPolicy, vectors: AuthenticationVectorSource, pool: InnerAddressPool, signer: IKEAuthSigner? = nil) {
        self.policy = policy; self.vectors = vectors; self.pool = pool; self.signer = signer
    }

    /// Number of IKE SAs (half-open and established).
    public var count: Int { sas.count }
    /// The SA whose SPI on our side is `spiR` (SPIr, or SPIi where the ePDG rekeyed it).
    public func sa(spiR: UInt64) -> IKEResponderSA? { sas[spiR] }
    /// The SA with exactly these header SPIs, whichever side is its initiator.
    public func sa(spiI: UInt64, spiR: UInt64) -> IKEResponderSA? {
        if let s = sas[spiR], s.spiI == spiI, s.spiR == spiR { return s }
        if let s = sas[spiI], s.spiI == spiI, s.spiR == spiR { return s }
        return nil
    }
    public var allSAs: [IKEResponderSA] { Array(sas.values) }

    /// Feeds one received IKE datagram (without the non-ESP marker). `to` is the local
    /// address and port it arrived on (500 or 4500).
    public func handle(datagram: [UInt8], from: IKEEndpoint, to: IKEEndpoint, now: Double) -> [IKEAction] {
        let m: IKEMessage
        do { m = try IKEMessage(parsing: datagram) } catch IKEMessageError.unsupportedMajorVersion(let v) {
            return invalidMajorVersion(datagram, major: v, from: from, to: to)
        } catch {
            return [.log(IKELogEvent(level: .warning, layer: "ikev2", spiI: 0, message: "dropping datagram from \(from): \(error)"))]
        }
        let h = m.header
        if h.spiR == 0 {
            guard h.exchangeType == .IKE_SA_INIT, !h.isResponse, h.isInitiator, h.messageID == 0 else {
                return [.log(IKELogEvent(level: .warning, layer: "ikev2", spiI: h.spiI, message: "dropping \(h.exchangeType) with SPIr 0 from \(from)"))]
            }
            let key = InitKey(spiI: h.spiI, remote: from)
            if let spiR = byInitiator[key], let sa = sas[spiR] {
                sa.receive(datagram, message: m, from: from, to: to, now: now)
                return collect(sa)
            }
            if let t = policy.cookieThreshold, halfOpenCount >= t, let cookieReply = checkCookie(m, from: from, to: to) {
                return cookieReply
            }
            let spiR = newSPI()
            let sa = IKEResponderSA(policy: policy, vectors: vectors, pool: pool, signer: signer, spiI: h.spiI, spiR: spiR,
                                    local: to, remote: from, now: now, allocateSPI: allocateESPSPI)
            sa.allocateIKESPI = { [unowned self] in self.newSPI() }
            sa.logLevel = logLevel
            sa.injection = { [unowned self] step, apn in self.injectedError(step, apn: apn) }
            sas[spiR] = sa
            byInitiator[key] = spiR
            halfOpen.insert(spiR)
            sa.receive(datagram, message: m, from: from, to: to, now: now)
            return collect(sa)
        }
        guard let sa = self.sa(spiI: h.spiI, spiR: h.spiR) else {
            var out: [IKEAction] = [.log(IKELogEvent(level: .info, layer: "ikev2", spiI: h.spiI,
                                                     message: "no IKE SA for SPIs \(Hex.spi(h.spiI))/\(Hex.spi(h.spiR)) (\(h.exchangeType) #\(h.messageID) from \(from))"))]
            if !h.isResponse {
                // RFC 7296 §2.21.4: an unprotected response with INVALID_IKE_SPI tells a phone
                // that still holds an SA from before a restart to start over.
                let r = IKEMessage(header: IKEHeader(spiI: h.spiI, spiR: h.spiR, exchangeType: h.exchangeType, isInitiator: !h.isInitiator,
                                                     isResponse: true, messageID: h.messageID),
                                   payloads: [.notify(NotifyPayload(.INVALID_IKE_SPI))])
                out.append(.send(bytes: r.serialize(), from: to, to: from))
            }
            return out
        }
        sa.receive(datagram, message: m, from: from, to: to, now: now)
        return collect(sa)
    }

    /// RFC 7296 §2.5: a request with a major version above 2 is dropped and answered, unprotected
    /// and without state, with N(INVALID_MAJOR_VERSION) in a header that carries our version 2.0.
    func invalidMajorVersion(_ datagram: [UInt8], major: UInt8, from: IKEEndpoint, to: IKEEndpoint) -> [IKEAction] {
        guard let h = try? IKEMessage.peekHeader(datagram) else { return [] }
        var out: [IKEAction] = [.log(IKELogEvent(level: .warning, layer: "ikev2", spiI: h.spiI,
                                                 message: "IKE major version \(major) from \(from) (\(h.exchangeType) #\(h.messageID)): dropped" + (h.isResponse ? "" : ", INVALID_MAJOR_VERSION sent")))]
        if !h.isResponse {
            let r = IKEMessage(header: IKEHeader(spiI: h.spiI, spiR: h.spiR, exchangeType: h.exchangeType, isInitiator: !h.isInitiator,
                                                 isResponse: true, messageID: h.messageID),
                               payloads: [.notify(NotifyPayload(.INVALID_MAJOR_VERSION))])
            out.append(.send(bytes: r.serialize(), from: to, to: from))
        }
        return out
    }

    /// Secret for stateless cookies, changed with `rotateCookieSecret` (the version byte tells which).
    var cookieSecret = SecureRandom.bytes(32)
    var previousCookieSecret: [UInt8]?
    var cookieVersion: UInt8 = 0

    /// Starts a new cookie secret; cookies made with the previous one stay valid until the next rotation.
    public func rotateCookieSecret() {
        previousCookieSecret = cookieSecret
        cookieSecret = SecureRandom.bytes(32)
        cookieVersion &+= 1
    }

    var halfOpenCount: Int { halfOpen.count }

    /// Cookie = VersionIDofSecret | SHA-256(Ni | IPi | SPIi | secret) (RFC 7296 §2.6).
    func cookie(version: UInt8, secret: [UInt8], nonce: [UInt8], from: IKEEndpoint, spiI: UInt64) -> [UInt8] {
        [version] + Digest.hash(.sha256, nonce + from.address.bytes + KeySchedule.be64(spiI) + secret)
    }

    /// nil when the request carries a valid cookie; otherwise the stateless N(COOKIE) reply.
    func checkCookie(_ m: IKEMessage, from: IKEEndpoint, to: IKEEndpoint) -> [IKEAction]? {
        let nonce = m.payloads.nonce ?? []
        if case let .notify(n)? = m.payloads.first, n.type == .COOKIE, let v = n.data.first {
            let secret = v == cookieVersion ? cookieSecret : (v == cookieVersion &- 1 ? previousCookieSecret : nil)
            if let secret, n.data == cookie(version: v, secret: secret, nonce: nonce, from: from, spiI: m.header.spiI) { return nil }
        }
        let c = cookie(version: cookieVersion, secret: cookieSecret, nonce: nonce, from: from, spiI: m.header.spiI)
        let r = IKEMessage(header: IKEHeader(spiI: m.header.spiI, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: false, isResponse: true, messageID: 0),
                           payloads: [.notify(NotifyPayload(.COOKIE, data: c))])
        return [.log(IKELogEvent(level: .info, layer: "ikev2", spiI: m.header.spiI, message: "\(halfOpenCount) half-open SAs: asking \(from) for a COOKIE")),
                .send(bytes: r.serialize(), from: to, to: from)]
    }

    func newSPI() -> UInt64 {
        var spi: UInt64
        repeat { spi = SecureRandom.uint64() } while spi == 0 || sas[spi] != nil || !acceptsIKESPI(spi)
        return spi
    }

    /// Runs timers (retransmissions, DPD, rekeys, lifetimes, half-open expiry). Ends with an
    /// `armTimer` for the earliest remaining deadline of any SA.
    public func poll(now: Double) -> [IKEAction] {
        var out: [IKEAction] = []
        for sa in Array(sas.values) {
            guard let w = sa.wakeup, w <= now else { continue }
            sa.poll(now: now)
            out += collect(sa)
        }
        // The earliest deadline of all SAs, so a host keeping a single timer never loses one.
        if let w = nextWakeup { out.append(.armTimer(at: w)) }
        return out
    }

    /// The earliest time `poll` should run.
    public var nextWakeup: Double? { sas.values.compactMap(\.wakeup).min() }

    /// Deletes one IKE SA by our SPI (operator request): sends Delete, releases Child SAs.
    public func delete(spiR: UInt64, now: Double) -> [IKEAction] {
        guard let sa = sas[spiR] else { return [] }
        // Not `sa.delete(now:)`: that drains the actions (the Delete request, deleteChildSA,
        // ikeSADeleted), which `collect` must hand to the host.
        sa.deleteIKESA(now: now, reason: "deleted locally")
        return collect(sa)
    }

    /// INITIAL_CONTACT seen by another responder of a sharded host: drops, silently, every
    /// SA of the IMSI here (with their Child SAs and addresses), as `collect` does locally.
    public func dropStale(imsi: String) -> [IKEAction] {
        var out: [IKEAction] = []
        for old in live(imsi: imsi) {
            old.terminate(reason: "replaced by a new IKE SA with INITIAL_CONTACT")
            out += old.drain()
            remove(old)
        }
        return out
    }

    /// ESP arrived on a Child SA of the IKE SA with our SPI `spiR`: the peer is alive, so no DPD is
    /// needed while traffic flows (RFC 7296 §2.4 asks for liveness checks only when nothing
    /// has been heard).
    public func noteTraffic(spiR: UInt64, now: Double) {
        guard let sa = sas[spiR], sa.isEstablished, !sa.isDead else { return }
        if now > sa.lastActivity { sa.lastActivity = now }
    }

    /// Established SAs of a subscriber (not those already replaced by a rekey).
    public func sas(imsi: String) -> [IKEResponderSA] { live(imsi: imsi).filter { $0.isEstablished && !$0.superseded } }

    /// Those of one PDN (APNs compare case-insensitively, TS 23.003 §9.1); nil `apn`: all.
    public func sas(imsi: String, apn: String?) -> [IKEResponderSA] {
        guard let apn = apn?.lowercased() else { return sas(imsi: imsi) }
        return sas(imsi: imsi).filter { $0.apn.lowercased() == apn }
    }

    /// The subscribers with established SAs here.
    public var imsis: [String] { byIMSI.keys.filter { !sas(imsi: $0).isEmpty }.sorted() }

    /// The SAs of `imsi` not yet dead (half-open included), through the index.
    func live(imsi: String) -> [IKEResponderSA] {
        (byIMSI[imsi] ?? []).compactMap { sas[$0] }.filter { $0.imsi == imsi && !$0.isDead }
    }

    /// Keeps `byIMSI` in step with an SA whose identity is known.
    func index(_ sa: IKEResponderSA) {
        let imsi = sa.imsi
        guard !imsi.isEmpty, !sa.isDead else { return }
        var spis = byIMSI[imsi] ?? []
        if spis.contains(sa.localSPI) { return }
        spis.removeAll { sas[$0] == nil }
        spis.append(sa.localSPI)
        byIMSI[imsi] = spis
    }

    /// Forgets an SA in every table.
    func remove(_ sa: IKEResponderSA) {
        sas[sa.localSPI] = nil
        halfOpen.remove(sa.localSPI)
        byInitiator[InitKey(spiI: sa.initialSPIi, remote: sa.initialRemote)] = nil
        if var spis = byIMSI[sa.imsi] {
            spis.removeAll { $0 == sa.localSPI }
            byIMSI[sa.imsi] = spis.isEmpty ? nil : spis
        }
    }

    /// Ends every IKE SA of a subscriber (Delete sent to the phone).
    public func delete(imsi: String, now: Double) -> [IKEAction] {
        sas(imsi: imsi).flatMap { delete(spiR: $0.localSPI, now: now) }
    }

    /// Callbox `epdg_pdn_reestab`: asks the phone to re-establish the PDN connection
    /// (INFORMATIONAL with Delete of the IKE SA and N(REACTIVATION_REQUESTED_CAUSE), TS 24.302);
    /// `apn` limits it to that PDN's SA (nil: every PDN of the IMSI).
    public func requestReactivation(imsi: String, apn: String? = nil, now: Double) -> [IKEAction] {
        var out: [IKEAction] = []
        for sa in sas(imsi: imsi, apn: apn) {
            sa.pending = nil
            sa.sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .IKE)),
                                            .notify(NotifyPayload(.REACTIVATION_REQUESTED_CAUSE, data: [39]))], now: now)
            sa.terminate(reason: "reactivation requested")
            out += collect(sa)
        }
        return out
    }

    /// Callbox `epdg_send_p_cscf`: pushes the APN's current P-CSCF addresses in an INFORMATIONAL
    /// with CP(CFG_SET) (P-CSCF restoration); `apn` limits it to that PDN's SA.
    public func sendPCSCF(imsi: String, apn: String? = nil, addresses: [IPAddress], now: Double) -> [IKEAction] {
        var out: [IKEAction] = []
        for sa in sas(imsi: imsi, apn: apn) where sa.pending == nil {
            let attrs = addresses.map { a in
                CPPayload.Attribute(a.isIPv4 ? (policy.pcscfIPv4AttributeType ?? CPPayload.Attribute.P_CSCF_IP4_ADDRESS)
                                             : (policy.pcscfIPv6AttributeType ?? CPPayload.Attribute.P_CSCF_IP6_ADDRESS), a.bytes)
            }
            sa.sendRequest(.INFORMATIONAL, [.cp(CPPayload(cfgType: CPPayload.CFG_SET, attributes: attrs))], now: now)
            out += collect(sa)
        }
        return out
    }

    func collect(_ sa: IKEResponderSA) -> [IKEAction] {
        var a = sa.drain()
        if sa.initialContact, a.contains(where: { if case .ikeSAEstablished = $0 { true } else { false } }) {
            // INITIAL_CONTACT: the phone lost every older SA (reboot, airplane mode); drop ours
            // silently, with their Child SAs and addresses.
            for old in live(imsi: sa.imsi) where old !== sa {
                old.terminate(reason: "replaced by a new IKE SA with INITIAL_CONTACT")
                a += old.drain()
                remove(old)
            }
        }
        // Every deadline (retransmission, DPD, rekey, lifetime, half-open expiry) reaches the host
        // as a timer, so a host that only follows `armTimer` polls in time.
        if !sa.isDead, let w = sa.wakeup { a.append(.armTimer(at: w)) }
        if let next = sa.spawned, let w = next.wakeup { a.append(.armTimer(at: w)) }
        if let next = sa.spawned {
            sa.spawned = nil
            next.allocateIKESPI = sa.allocateIKESPI
            next.logLevel = sa.logLevel
            next.injection = sa.injection
            sas[next.localSPI] = next
            index(next)
        }
        if sa.isDead { remove(sa) } else { index(sa) }
        if sa.isEstablished { halfOpen.remove(sa.localSPI) }
        return a
    }
}
