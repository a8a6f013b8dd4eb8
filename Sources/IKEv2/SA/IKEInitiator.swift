import AKA
import Crypto
import Wire

/// The phone side of SWu: IKE_SA_INIT, IKE_AUTH with EAP-AKA/AKA' answered by a software
/// USIM, MSK AUTH, configuration and the Child SA. Mirrors `IKEResponderSA`.
public final class IKEInitiator: IKESA {
    public enum State: Equatable, Sendable {
        case idle, initSent, authSent, eapInProgress, finalAuthSent, established
        /// `notify` is the error notify that ended it, if any.
        case failed(reason: String, notify: NotifyType?)
    }

    public let config: IKEInitiatorConfig
    public internal(set) var usim: USIM
    public internal(set) var state: State = .idle
    public internal(set) var assigned: AssignedConfiguration?
    public internal(set) var kePreference: DHGroup
    var dh: DHKeyPair?
    var idiSent: IDPayload
    var msk: [UInt8]?
    var childSPI: UInt32 = 0
    var tsiSent: [TrafficSelector] = []
    var tsrSent: [TrafficSelector] = []
    var keRetries = 0
    /// Old IKE SAs after an in-place rekey, until the peer deleted them (IKEInitiator+Rekey).
    var retired: [IKESAState] = []
    /// The SA made by the ePDG's rekey that crossed ours (RFC 7296 §2.8.2), until ours is answered.
    var peerRekeyed: RekeyedIKESA?
    /// A datagram of a retired SA is being processed; `retiredClosed`: the peer deleted it.
    var inRetired = false
    var retiredClosed = false
    var responderSignatureChecked = false
    /// The ePDG asked for N(DEVICE_IDENTITY) in an IKE_AUTH response; whether it was sent.
    var deviceIdentityRequested = false, deviceIdentitySent = false
    /// The ePDG sent MULTIPLE_AUTH_SUPPORTED in IKE_SA_INIT (RFC 4739 §3.1).
    var responderOffersMultipleAuth = false
    /// The second authentication round (RFC 4739), once started.
    var secondRound: InitiatorSecondRound?
    /// After a second round: its method and PDN username, e.g. "EAP-MD5-Challenge as 'alice'".
    public internal(set) var secondAuthentication: String?
    /// Whether the ePDG authenticated with a certificate signature (false: EAP-only).
    public var responderUsedCertificate: Bool { responderSignatureChecked }

    public init(config: IKEInitiatorConfig, usim: USIM, local: IKEEndpoint, remote: IKEEndpoint, now: Double) {
        self.config = config
        self.usim = usim
        kePreference = config.ikeSAOverride?.proposals.first?.transforms(.DH).first.flatMap { DHGroup(rawValue: $0.id) }
            ?? config.ikeSuites.first?.dhGroup ?? .modp2048
        idiSent = IDPayload(config.idiType, config.identity ?? config.nai.description)
        super.init(isInitiator: true, spiI: max(1, SecureRandom.uint64()), spiR: 0, local: local, remote: remote, now: now)
        retransmitBase = config.retransmitTimeout
        maxRetransmits = config.maxRetransmits
    }

    override func deviceIdentityAnswer(_ payloads: [Payload]) -> [Payload] {
        guard payloads.has(.DEVICE_IDENTITY), let d = config.deviceIdentity else { return [] }
        log(.info, "ePDG asks for the device identity (INFORMATIONAL): answering \(d)")
        return [.notify(NotifyPayload(.DEVICE_IDENTITY, data: d.notifyData))]
    }

    func fail(_ reason: String, notify: NotifyType? = nil) {
        state = .failed(reason: reason, notify: notify)
        log(.warning, "attach failed: \(reason)")
        terminate(reason: reason)
    }

    /// Sends IKE_SA_INIT.
    public func start(now: Double) -> [IKEAction] {
        do {
            let pair = try DHKeyPair(group: kePreference)
            dh = pair
            ni = SecureRandom.bytes(32)
            spiR = 0
            let proposals = config.ikeSuites.enumerated().map { i, s in
                Proposal(number: UInt8(i + 1), protocolID: .IKE, transforms: s.transforms)
            }
            initPayloads = [
                .sa(config.ikeSAOverride ?? SAPayload(proposals: proposals)), .ke(KEPayload(dhGroup: kePreference.rawValue, keyData: pair.publicValue)), .nonce(ni),
                .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: NATDetection.hash(spiI: spiI, spiR: 0,
                    config.forceUDPEncapsulation ? IKEEndpoint(local.address.isIPv6 ? .anyV6 : .anyV4, 0) : local))),
                .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: 0, remote))),
                .notify(NotifyPayload(.IKEV2_FRAGMENTATION_SUPPORTED)),
                .notify(NotifyPayload(.SIGNATURE_HASH_ALGORITHMS, data: [0, 2, 0, 3, 0, 4])),
            ]
            cookie = nil
            sendInit(now: now)
        } catch {
            fail("cannot create DH key pair: \(error)")
        }
        return drain()
    }

    var initPayloads: [Payload] = []
    var cookie: [UInt8]?
    var cookieRetries = 0

    func sendInit(now: Double) {
        nextRequestID = 0
        let h = header(.IKE_SA_INIT, response: false, id: 0)
        let payloads = (cookie.map { [Payload.notify(NotifyPayload(.COOKIE, data: $0))] } ?? []) + initPayloads
        initRequestBytes = IKEMessage(header: h, payloads: payloads).serialize()
        nextRequestID = 1
        pending = Pending(id: 0, exchange: .IKE_SA_INIT, packets: [initRequestBytes], sentAt: now, retries: 0)
        log(.info, "send IKE_SA_INIT (\(config.ikeSuites.map(\.description)), KE \(kePreference))" + (cookie == nil ? "" : " with COOKIE"))
        sendPackets([initRequestBytes])
        actions.append(.armTimer(at: now + retransmitBase))
        state = .initSent
    }

    /// Feeds one datagram from the ePDG (without the non-ESP marker).
    public func handle(datagram: [UInt8], from: IKEEndpoint, to: IKEEndpoint, now: Double) -> [IKEAction] {
        guard !isDead else { return [] }
        let m: IKEMessage
        do { m = try IKEMessage(parsing: datagram) } catch {
            log(.warning, "dropping datagram: \(error)"); return drain()
        }
        if let i = retired.firstIndex(where: { $0.spiI == m.header.spiI && $0.spiR == m.header.spiR }) {
            receiveOnRetired(i, datagram, message: m, from: from, to: to, now: now)
            return drain()
        }
        guard m.header.spiI == spiI else { log(.debug, "not our SPIi"); return drain() }
        if m.header.exchangeType == .IKE_SA_INIT, m.header.isResponse, spiR == 0 || m.header.spiR == 0 || m.header.spiR == spiR {
            // SPIr is learnt from this response (or is 0 for a stateless error).
            if pending?.exchange == .IKE_SA_INIT { spiR = m.header.spiR }
        }
        guard m.header.spiR == spiR || m.header.exchangeType == .IKE_SA_INIT else { log(.debug, "not our SPIr"); return drain() }
        receive(datagram, message: m, from: from, to: to, now: now)
        return drain()
    }

    public func poll(now: Double) -> [IKEAction] {
        pollTimers(now: now)
        pollRetired(now: now)
        expireRetired(now: now)
        if isDead, case .failed = state {} else if isDead { state = .failed(reason: "peer not responding", notify: nil) }
        return drain()
    }

    public var wakeup: Double? {
        guard !isDead else { return nil }
        return ([nextDeadline] + retired.map { $0.pending.map(retransmitDue) }).compactMap { $0 }.min()
    }

    override func handleResponse(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if h.exchangeType == .IKE_SA_INIT, state == .initSent, let c = payloads.notify(.COOKIE), cookieRetries < 2 {
            // RFC 7296 §2.6: repeat the same request with the cookie first.
            cookieRetries += 1
            cookie = c.data
            log(.info, "responder asked for a COOKIE; retrying IKE_SA_INIT")
            spiR = 0
            sendInit(now: now)
            return
        }
        if let err = payloads.notifies.first(where: { $0.type.isError }), h.exchangeType == .IKE_SA_INIT || h.exchangeType == .IKE_AUTH {
            if h.exchangeType == .IKE_SA_INIT, err.type == .INVALID_KE_PAYLOAD, err.data.count == 2, keRetries < 2,
               let g = DHGroup(rawValue: UInt16(err.data[0]) << 8 | UInt16(err.data[1])) {
                keRetries += 1
                log(.info, "INVALID_KE_PAYLOAD: retrying with \(g)")
                kePreference = g
                spiR = 0
                actions += start(now: now)
                return
            }
            // EAP-Failure may accompany AUTHENTICATION_FAILED.
            fail("\(h.exchangeType) rejected with \(err.type.name)", notify: err.type)
            return
        }
        switch (h.exchangeType, state) {
        case (.IKE_AUTH, _) where secondRound != nil: handleSecondRoundResponse(payloads, now: now)
        case (.IKE_SA_INIT, .initSent): handleInitResponse(payloads, now: now)
        case (.IKE_AUTH, .authSent), (.IKE_AUTH, .eapInProgress): handleEAPRequest(payloads, now: now)
        case (.IKE_AUTH, .finalAuthSent): handleFinalAuthResponse(payloads, now: now)
        case (.INFORMATIONAL, _): break
        case (.CREATE_CHILD_SA, .established):
            if let r = ikeRekeyRequest {
                ikeRekeyRequest = nil
                handleIKERekeyResponse(r, payloads, now: now)
            } else {
                handleRekeyResponse(payloads, now: now)
            }
        default: log(.warning, "unexpected \(h.exchangeType) response in state \(state)")
        }
    }

    func handleInitResponse(_ payloads: [Payload], now: Double) {
        guard let sa = payloads.sa, let p = sa.proposals.first, let ke = payloads.ke, let nonce = payloads.nonce, let dh else {
            fail("IKE_SA_INIT response without SA, KE or Nr"); return
        }
        initResponseBytes = lastReceivedRaw
        guard let encT = p.transforms(.ENCR).first, let prfT = p.transforms(.PRF).first,
              let enc = try? EncryptionAlgorithm(transformID: encT.id, keyLength: encT.keyLength.map(Int.init)),
              let prf = PseudoRandomFunction(rawValue: prfT.id), let group = DHGroup(rawValue: ke.dhGroup), group == dh.group else {
            fail("IKE_SA_INIT response chose an unusable proposal \(p)"); return
        }
        let integ = p.transforms(.INTEG).first.flatMap { IntegrityAlgorithm(rawValue: $0.id) }
        let suite = IKESuite(encryption: enc, integrity: integ, prf: prf, dhGroup: group)
        guard config.ikeSuites.contains(where: { $0.encryption == suite.encryption && $0.integrity == suite.integrity && $0.prf == suite.prf })
                || config.ikeSuites.isEmpty || config.ikeSAOverride != nil else {
            fail("responder chose \(suite), which was not offered"); return
        }
        do {
            nr = nonce
            try deriveKeys(suite: suite, sharedSecret: try dh.sharedSecret(peerPublicValue: ke.keyData))
            // RFC 7296 §2.12: nothing that could recompute the keys outlives their derivation.
            self.dh = nil
        } catch { fail("key exchange failed: \(error)"); return }
        if let dst = payloads.notify(.NAT_DETECTION_DESTINATION_IP)?.data {
            natDetected = dst != NATDetection.hash(spiI: spiI, spiR: spiR, local)
        }
        if let src = payloads.notify(.NAT_DETECTION_SOURCE_IP)?.data, src != NATDetection.hash(spiI: spiI, spiR: spiR, remote) {
            natDetected = true
        }
        fragmentationNegotiated = payloads.has(.IKEV2_FRAGMENTATION_SUPPORTED)
        responderOffersMultipleAuth = payloads.has(.MULTIPLE_AUTH_SUPPORTED)
        if config.forceUDPEncapsulation { natDetected = true }
        if natDetected, remote.port != config.natTraversalPort {
            log(.info, "\(config.forceUDPEncapsulation ? "forcing UDP encapsulation" : "NAT detected"): moving to UDP \(config.natTraversalPort)")
            if local.port == 500 { local.port = config.natTraversalPort }
            remote.port = config.natTraversalPort
        }
        log(.info, "IKE SA keys derived (\(suite))")
        sendFirstAuth(now: now)
    }

    func sendFirstAuth(now: Double) {
        childSPI = max(0x100, SecureRandom.uint32())
        typealias A = CPPayload.Attribute
        var attrs: [A] = []
        if config.requestIPv4 { attrs += [A(A.INTERNAL_IP4_ADDRESS), A(A.INTERNAL_IP4_DNS)] }
        if config.requestIPv6 { attrs += [A(A.INTERNAL_IP6_ADDRESS), A(A.INTERNAL_IP6_DNS)] }
        if config.requestPCSCF {
            if config.requestIPv4 { attrs.append(A(config.pcscfIPv4AttributeType)) }
            if config.requestIPv6 { attrs.append(A(config.pcscfIPv6AttributeType)) }
        }
        if let types = config.cpRequestAttributes { attrs = types.map { A($0) } }
        let proposals = config.espProposalsOverride.map { $0.map { p in var p = p; p.spi = be32(childSPI); return p } }
            ?? config.espSuites.enumerated().map { i, s in
                Proposal(number: UInt8(i + 1), protocolID: .ESP, spi: be32(childSPI), transforms: s.transforms)
            }
        let v4 = attrs.contains { $0.type == A.INTERNAL_IP4_ADDRESS } || (config.requestIPv4 && config.cpRequestAttributes == nil)
        let v6 = attrs.contains { $0.type == A.INTERNAL_IP6_ADDRESS } || (config.requestIPv6 && config.cpRequestAttributes == nil)
        tsiSent = (v4 || !v6 ? [TrafficSelector.anyV4] : []) + (v6 ? [TrafficSelector.anyV6] : [])
        tsrSent = tsiSent
        var payloads: [Payload] = [.idi(idiSent)] + (config.certificateRequest.map { [Payload.certreq($0)] } ?? []) + [
                                   .idr(IDPayload(config.idrType, config.idrValue ?? config.apn)),
                                   .cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: attrs)),
                                   .sa(SAPayload(proposals: proposals)), .tsi(TSPayload(tsiSent)), .tsr(TSPayload(tsrSent))]
        if let n = config.authNotifies {
            payloads += n.map { .notify($0) }
        } else {
            payloads.append(.notify(NotifyPayload(.INITIAL_CONTACT)))
            if config.eapOnly { payloads.append(.notify(NotifyPayload(.EAP_ONLY_AUTHENTICATION))) }
        }
        if let d = config.deviceIdentity, config.deviceIdentityUnasked {
            payloads.append(.notify(NotifyPayload(.DEVICE_IDENTITY, data: d.notifyData)))
            deviceIdentitySent = true
        }
        if wantsSecondAuth { payloads.append(.notify(NotifyPayload(.MULTIPLE_AUTH_SUPPORTED))) }
        imsi = config.imsi
        apn = config.apn
        state = .authSent
        sendRequest(.IKE_AUTH, payloads, now: now)
    }

    /// The IDr the responder authenticated with (from its first IKE_AUTH response).
    var idrForAuth: IDPayload?

    override func open(_ raw: [UInt8], _ m: IKEMessage) -> [Payload]? {
        let p = super.open(raw, m)
        if let p, m.header.exchangeType == .IKE_AUTH, idrForAuth == nil, let idr = p.idr { idrForAuth = idr }
        return p
    }

    override func answerIKERekey(_ h: IKEHeader, _ payloads: [Payload], now: Double) { answerIKERekeyAsPhone(h, payloads, now: now) }

    /// A retired SA's request never answered ends that SA only (`pollRetired`).
    override func requestUnanswered() {
        if inRetired { retiredClosed = true } else { super.requestUnanswered() }
    }

    override func handleRequest(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if inRetired, h.exchangeType == .CREATE_CHILD_SA {
            // RFC 7296 §2.25.2: a request on an IKE SA that is being replaced.
            log(.info, "CREATE_CHILD_SA on the old IKE SA after its rekey: TEMPORARY_FAILURE")
            sendResponse(to: h, [.notify(NotifyPayload(.TEMPORARY_FAILURE))]); return
        }
        guard h.exchangeType == .CREATE_CHILD_SA, state == .established else {
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return
        }
        let current = children.map(\.suite)
        answerCreateChild(h, payloads, now: now, dhGroups: config.ikeSuites.map(\.dhGroup) + (suite.map { [$0.dhGroup] } ?? []), lifetime: 0) { proposals in
            for p in proposals where p.protocolID == .ESP && p.spi.count == 4 {
                for s in current + self.config.espSuites where p.transforms(.ENCR).contains(where: { $0.id == s.encryption.transformID && $0.keyLength.map(Int.init) == s.encryption.keyLengthAttribute })
                    && (s.integrity == nil || p.transforms(.INTEG).contains(where: { $0.id == s.integrity!.rawValue })) {
                    return (s, p)
                }
            }
            return nil
        }
    }

    /// Network-initiated INFORMATIONAL: a CP(CFG_SET) with new P-CSCF addresses updates `assigned`.
    override func handleInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if handleRekeyInformational(h, payloads, now: now) { return }
        if let cp = payloads.cp, cp.cfgType == CPPayload.CFG_SET {
            let types: Set<UInt16> = [config.pcscfIPv4AttributeType, config.pcscfIPv6AttributeType,
                                      CPPayload.Attribute.P_CSCF_IP4_ADDRESS, CPPayload.Attribute.P_CSCF_IP6_ADDRESS]
            let p = cp.attributes.filter { types.contains($0.type) }.compactMap(\.address)
            if assigned == nil { assigned = AssignedConfiguration() }
            assigned?.pcscf = p
            log(.info, "network sent P-CSCF \(p.map(\.description))")
            sendResponse(to: h, [.cp(CPPayload(cfgType: CPPayload.CFG_ACK, attributes: []))])
            return
        }
        if let r = payloads.notify(.REACTIVATION_REQUESTED_CAUSE) {
            log(.info, "network requests PDN reactivation (cause \(r.data.first.map(String.init) ?? "-"))")
        }
        super.handleInformational(h, payloads, now: now)
    }

    /// The Child SA the network installed, once established.
    public var childSA: ChildSADescription? { children.first }
}
