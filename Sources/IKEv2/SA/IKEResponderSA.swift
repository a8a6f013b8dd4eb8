import AKA
import Crypto
import Wire

/// The ePDG side of one IKE SA: IKE_SA_INIT, IKE_AUTH with EAP-AKA/AKA' against the HSS,
/// MSK-based AUTH, CFG_REPLY and the first Child SA (TS 33.402 §8.2.2, TS 24.302 §7.2.2).
public final class IKEResponderSA: IKESA {
    enum Phase {
        case initDone
        /// Waiting for EAP-Response/AKA-Identity.
        case identityRequested(eapID: UInt8)
        case challengeSent(Challenge)
        case eapSucceeded(msk: [UInt8])
        /// RFC 4739 round 2 (IKEResponderSA+SecondAuth): waiting for {IDi}, for the EAP-GTC/MD5
        /// response, for the AUTH keyed with SK_pi.
        case awaitingSecondAuth
        case secondEAPSent(eapID: UInt8)
        case secondEAPSucceeded
        case established
        case failed
    }
    struct Challenge {
        var eapID: UInt8
        var method: UInt8
        var vector: AuthenticationVector
        var kAut: [UInt8]
        var msk: [UInt8]
        var resynced: Bool
    }

    let policy: IKEResponderPolicy
    let vectors: AuthenticationVectorSource
    let pool: InnerAddressPool
    let signer: IKEAuthSigner?
    let allocateSPI: () -> UInt32
    var phase: Phase = .initDone

    // From the first IKE_AUTH request.
    var idi: IDPayload?
    var idrSent: IDPayload?
    var eapIdentity: [UInt8] = []
    var nai: NAI?
    var apnPolicy: APNPolicy?
    var childProposals: [Proposal] = []
    var tsi: [TrafficSelector] = []
    var tsr: [TrafficSelector] = []
    var cpRequest: CPPayload?
    var nextEAPID: UInt8 = 1
    var addresses: InnerAddresses?
    var peerSupportsFragmentation = false
    var establishedAt: Double?
    /// IMEI or IMEISV from N(DEVICE_IDENTITY), if the phone sent one.
    public internal(set) var deviceIdentity: DeviceIdentity?
    /// Set once this SA was rekeyed into `spawned`; it then only waits for the peer's Delete.
    var superseded = false
    /// Our own IKE rekey made the successor: we sent the Delete of this SA (RFC 7296 §2.18).
    var closingAfterRekey = false
    /// Made by our rekey that lost a collision (RFC 7296 §2.8.2): it only carries our Delete of it.
    var redundant = false
    /// The SA made by the peer's rekey that crossed ours (RFC 7296 §2.8.2), until ours is answered.
    var peerRekeyed: IKEResponderSA?
    /// When to try the IKE rekey again after TEMPORARY_FAILURE.
    var ikeRekeyRetryAt: Double?
    /// The phone sent N(INITIAL_CONTACT): older SAs of the same identity are stale (RFC 7296 §2.4).
    /// The phone sent INITIAL_CONTACT: every older SA of this IMSI is stale.
    public internal(set) var initialContact = false
    /// The phone sent MOBIKE_SUPPORTED in its first IKE_AUTH request.
    var peerOffersMOBIKE = false
    /// The second authentication (RFC 4739), when `policy.additionalAuth` asks for one.
    var secondAuth = SecondAuthState()
    var spawned: IKEResponderSA?
    /// Allocates a fresh, unused IKE SPI (set by the owning `IKEResponder`).
    var allocateIKESPI: () -> UInt64 = { max(1, SecureRandom.uint64()) }
    /// The owner's `ike_generate_error` hook.
    var injection: (IKEErrorInjection.Exchange, String?) -> InjectedError? = { _, _ in nil }

    /// Applies the error hook at `step`; true when the message was consumed (ignored or rejected).
    func inject(_ step: IKEErrorInjection.Exchange, _ h: IKEHeader, apn: String?) -> Bool {
        switch injection(step, apn) {
        case nil: return false
        case .ignore:
            log(.info, "ike_generate_error: ignoring \(h.exchangeType) #\(h.messageID) (\(step))")
            expectedPeerRequestID = h.messageID // a retransmission is processed normally
            if h.exchangeType == .IKE_SA_INIT { isDead = true }
            return true
        case let .reject(notifies):
            log(.info, "ike_generate_error: rejecting \(step) with \(notifies.map(\.type.name))")
            if h.exchangeType == .IKE_SA_INIT {
                let m = IKEMessage(header: IKEHeader(spiI: spiI, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: false, isResponse: true, messageID: 0),
                                   payloads: notifies.map { .notify($0) })
                sendPackets([m.serialize()])
                isDead = true
            } else if step == .dpd {
                sendResponse(to: h, notifies.map { .notify($0) })
            } else {
                reject(h, notifies, reason: "ike_generate_error at \(step)")
            }
            return true
        }
    }
    /// RFC 7427 hash IDs the peer announced in IKE_SA_INIT.
    var peerSignatureHashes: [UInt16] = []

    init(policy: IKEResponderPolicy, vectors: AuthenticationVectorSource, pool: InnerAddressPool, signer: IKEAuthSigner?,
         spiI: UInt64, spiR: UInt64, local: IKEEndpoint, remote: IKEEndpoint, now: Double, allocateSPI: @escaping () -> UInt32) {
        self.policy = policy; self.vectors = vectors; self.pool = pool; self.signer = signer; self.allocateSPI = allocateSPI
        super.init(isInitiator: false, spiI: spiI, spiR: spiR, local: local, remote: remote, now: now)
        nextEAPID = UInt8.random(in: 1...200)
    }

    /// Ends the exchange with error notifies and forgets the SA.
    func reject(_ h: IKEHeader, _ notifies: [NotifyPayload], reason: String, extra: [Payload] = []) {
        log(.warning, reason)
        sendResponse(to: h, extra + notifies.map { .notify($0) })
        phase = .failed
        terminate(reason: reason)
    }

    override func handleRequest(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        switch (h.exchangeType, phase) {
        case (.IKE_SA_INIT, _) where h.messageID == 0: handleInit(h, payloads, now: now)
        case (.IKE_AUTH, .initDone): handleFirstAuth(h, payloads)
        case (.IKE_AUTH, .identityRequested(let id)): handleEAP(h, payloads, expectedID: id)
        case (.IKE_AUTH, .challengeSent(let c)): handleEAP(h, payloads, expectedID: c.eapID)
        case (.IKE_AUTH, .eapSucceeded(let msk)): handleFinalAuth(h, payloads, msk: msk)
        case (.IKE_AUTH, .awaitingSecondAuth): handleSecondAuthStart(h, payloads)
        case (.IKE_AUTH, .secondEAPSent(let id)): handleSecondEAP(h, payloads, expectedID: id)
        case (.IKE_AUTH, .secondEAPSucceeded): handleSecondFinalAuth(h, payloads)
        case (.CREATE_CHILD_SA, .established) where superseded && payloads.sa?.proposals.contains(where: { $0.protocolID == .IKE }) != true:
            // RFC 7296 §2.25: this IKE SA is being replaced; the Child SAs live on its successor.
            log(.info, "CREATE_CHILD_SA on a rekeyed IKE SA: TEMPORARY_FAILURE")
            sendResponse(to: h, [.notify(NotifyPayload(.TEMPORARY_FAILURE))])
        case (.CREATE_CHILD_SA, .established):
            answerCreateChild(h, payloads, now: now, dhGroups: policy.ikeDHGroups, lifetime: policy.espLifetime) {
                ProposalSelection.chooseESP($0, policy: self.policy)
            }
        default:
            log(.warning, "unexpected \(h.exchangeType) request in phase \(phase)")
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))])
        }
    }

    // MARK: Timers, rekeys, hooks

    override func allocateChildSPI() -> UInt32 { allocateSPI() }
    override func newIKESPI() -> UInt64 { allocateIKESPI() }

    override func handleInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if payloads.isEmpty, inject(.dpd, h, apn: apn) { return }
        super.handleInformational(h, payloads, now: now)
    }

    override func answerIKERekey(_ h: IKEHeader, _ payloads: [Payload], now: Double) { answerIKERekeyAsResponder(h, payloads, now: now) }

    override func released() {
        if let a = addresses { pool.release(a, imsi: imsi, apn: apn); addresses = nil }
    }

    /// Half-open SAs expire; established ones get DPD when idle.
    func poll(now: Double) {
        pollTimers(now: now)
        guard !isDead else { return }
        if superseded {
            // Our own Delete of it is retransmitted by `pollTimers`; the peer's is awaited.
            if !closingAfterRekey, now - lastActivity >= policy.halfOpenTimeout { terminate(reason: "superseded by rekey; old SA not deleted by peer") }
            return
        }
        if !isEstablished, now - createdAt >= policy.halfOpenTimeout {
            terminate(reason: "IKE_AUTH not completed within \(Int(policy.halfOpenTimeout)) s")
        } else if isEstablished, let t = establishedAt, policy.ikeLifetime > 0, now - t >= Double(policy.ikeLifetime) {
            // The rekey started at 90% did not succeed: end the SA; the phone re-attaches.
            log(.warning, "IKE SA reached ike_duration \(policy.ikeLifetime) s without a successful rekey: deleting it")
            deleteIKESA(now: now, reason: "ike_duration reached without rekey")
        } else if isEstablished, pending == nil, rekey == nil, ikeRekeyRequest == nil, let t = establishedAt, policy.ikeLifetime > 0,
                  now >= (ikeRekeyRetryAt ?? t + ikeRekeyAge) {
            startIKERekey(now: now)
        } else if isEstablished, hardExpiredChild(now: now) != nil || (pending == nil && !expiredChildDeletes.isEmpty) {
            while let c = hardExpiredChild(now: now) { expireChild(c) }
            if pending == nil {
                sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .ESP, spis: expiredChildDeletes.map(be32)))], now: now)
                expiredChildDeletes = []
            }
        } else if isEstablished, pending == nil, rekey == nil, let spi = childDueForRekey(now: now) {
            log(.info, "Child SA in=0x\(Hex.spi(spi)) reached esp lifetime \(policy.espLifetime) s: rekeying")
            startChildRekey(now: now, inboundSPI: spi, pfsGroup: nil)
        } else if isEstablished, pending == nil, policy.dpdInterval > 0, now - lastActivity >= Double(policy.dpdInterval) {
            sendDPD(now: now)
        }
    }

    /// Child SAs are rekeyed at 90% of `espLifetime`, before the ESP layer's hard expiry.
    var childRekeyAge: Double { Double(policy.espLifetime) * 0.9 }

    /// When a Child SA may next be asked to rekey: at 90 % of its lifetime, or after a refusal.
    func childRekeyTime(_ spi: UInt32, createdAt: Double) -> Double {
        max(createdAt + childRekeyAge, childRekeyDeferredUntil[spi] ?? 0)
    }

    /// The oldest Child SA whose rekey is due now.
    func childDueForRekey(now: Double) -> UInt32? {
        guard policy.espLifetime > 0 else { return nil }
        return childCreatedAt.filter { now >= childRekeyTime($0.key, createdAt: $0.value) }.min { $0.value < $1.value }?.key
    }

    /// A Child SA past esp_duration, its hard lifetime (RFC 4301 §4.4.2.1), that no rekey in
    /// flight is replacing.
    func hardExpiredChild(now: Double) -> ChildSADescription? {
        guard policy.espLifetime > 0 else { return nil }
        return children.first { c in
            guard let t = childCreatedAt[c.inboundSPI], now - t >= Double(policy.espLifetime) else { return false }
            return rekey?.old.inboundSPI != c.inboundSPI
        }
    }

    /// When the next Child SA reaches its hard lifetime (one being rekeyed waits for the answer).
    var nextChildHardExpiry: Double? {
        guard policy.espLifetime > 0 else { return nil }
        return childCreatedAt.filter { $0.key != rekey?.old.inboundSPI }.values.min().map { $0 + Double(policy.espLifetime) }
    }

    /// Ends a Child SA at its hard lifetime: ESP stops using it now; the peer gets a Delete as
    /// soon as no other request of ours is outstanding.
    func expireChild(_ c: ChildSADescription) {
        log(.warning, "Child SA in=0x\(Hex.spi(c.inboundSPI)) reached esp_duration \(policy.espLifetime) s without a successful rekey: deleting it")
        children.removeAll { $0.inboundSPI == c.inboundSPI }
        childCreatedAt[c.inboundSPI] = nil
        childRekeyDeferredUntil[c.inboundSPI] = nil
        actions.append(.deleteChildSA(inboundSPI: c.inboundSPI, outboundSPI: c.outboundSPI))
        expiredChildDeletes.append(c.inboundSPI)
    }

    override func handleResponse(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if h.exchangeType == .CREATE_CHILD_SA {
            if let r = ikeRekeyRequest {
                ikeRekeyRequest = nil
                handleIKERekeyResponse(r, payloads, now: now)
            } else {
                handleRekeyResponse(payloads, now: now)
            }
        } else if h.exchangeType == .INFORMATIONAL, closingAfterRekey {
            terminate(reason: redundant ? "the peer answered the Delete of the redundant IKE SA of a simultaneous rekey" : "rekeyed; old IKE SA deleted")
        }
    }

    override func requestUnanswered() {
        guard redundant else { return super.requestUnanswered() }
        terminate(reason: "no answer to the Delete of the redundant IKE SA: forgotten, the surviving IKE SA is kept")
    }

    var wakeup: Double? {
        if isDead { return nil }
        let hardExpiry = nextChildHardExpiry
        if let t = nextDeadline { return isEstablished ? min(t, hardExpiry ?? t) : min(t, createdAt + policy.halfOpenTimeout) }
        if superseded { return lastActivity + policy.halfOpenTimeout }
        if !isEstablished { return createdAt + policy.halfOpenTimeout }
        var times: [Double] = []
        if policy.dpdInterval > 0 { times.append(lastActivity + Double(policy.dpdInterval)) }
        if policy.espLifetime > 0 {
            times += childCreatedAt.map { childRekeyTime($0.key, createdAt: $0.value) }
            if let h = hardExpiry { times.append(h) }
        }
        if !expiredChildDeletes.isEmpty { times.append(lastActivity) }
        if policy.ikeLifetime > 0, let e = establishedAt {
            times.append(e + Double(policy.ikeLifetime))
            if ikeRekeyRequest == nil { times.append(ikeRekeyRetryAt ?? e + ikeRekeyAge) }
        }
        return times.min()
    }
}
