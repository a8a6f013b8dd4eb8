import Crypto
import Wire

/// The per-SA protocol state that the phone swaps when its IKE SA is rekeyed in place
/// (RFC 7296 §2.18): SPIs and role, keys, message IDs. A retired state still answers the
/// peer on the old SA (its Delete, a retransmitted request) until that SA is gone.
struct IKESAState {
    var spiI: UInt64
    var spiR: UInt64
    var isInitiator: Bool
    var suite: IKESuite?
    var keys: IKEKeys?
    var protection: SKProtection?
    var ni: [UInt8]
    var nr: [UInt8]
    var nextRequestID: UInt32
    var expectedPeerRequestID: UInt32
    var lastResponse: (id: UInt32, packets: [[UInt8]])?
    var pending: IKESA.Pending?
    var since: Double
    /// The redundant SA of a simultaneous rekey (RFC 7296 §2.8.2), not an old one.
    var redundant = false
}

extension IKESA {
    func currentState(now: Double) -> IKESAState {
        IKESAState(spiI: spiI, spiR: spiR, isInitiator: isInitiator, suite: suite, keys: keys, protection: protection, ni: ni, nr: nr,
                   nextRequestID: nextRequestID, expectedPeerRequestID: expectedPeerRequestID, lastResponse: lastResponse,
                   pending: pending, since: now)
    }

    func load(_ s: IKESAState) {
        spiI = s.spiI; spiR = s.spiR; isInitiator = s.isInitiator
        suite = s.suite; keys = s.keys; protection = s.protection; ni = s.ni; nr = s.nr
        nextRequestID = s.nextRequestID; expectedPeerRequestID = s.expectedPeerRequestID
        lastResponse = s.lastResponse; pending = s.pending
        fragments = [:]
    }
}

/// IKE SA rekeying on the phone, both ways. The phone keeps one `IKEInitiator` and switches
/// it to the new SPIs, keys and role; the old SA, and the redundant one of a simultaneous
/// rekey, are kept aside (`retired`) only for the Delete of them, ours or the peer's.
extension IKEInitiator {
    /// Rekeys the IKE SA (same algorithms, fresh DH): CREATE_CHILD_SA with an IKE proposal. On
    /// the answer this object switches to the new SA and sends a Delete for the old one.
    public func rekeyIKESA(now: Double) -> [IKEAction] {
        guard state == .established else { return [] }
        _ = sendIKERekeyRequest(now: now)
        return drain()
    }

    func handleIKERekeyResponse(_ r: IKERekeyRequest, _ payloads: [Payload], now: Double) {
        let theirs = peerRekeyed
        peerRekeyed = nil
        switch ikeRekeyOutcome(r, payloads) {
        case let .rekeyed(n):
            guard let theirs else {
                deleteOldAndSwitch(to: n, now: now)
                return
            }
            // Simultaneous rekey (RFC 7296 §2.8.2): the SA holding the lowest nonce is redundant.
            if n.lowestNonce.lexicographicallyPrecedes(theirs.lowestNonce) {
                log(.info, "IKE SA rekey collision lost: deleting the redundant IKE SA \(n.spiDescription) we created")
                switchTo(theirs, now: now)
                retireRedundant(n, deleting: true, now: now)
            } else {
                log(.info, "IKE SA rekey collision won: \(n.spiDescription) stays, the peer deletes its redundant \(theirs.spiDescription)")
                deleteOldAndSwitch(to: n, now: now)
                retireRedundant(theirs, deleting: false, now: now)
            }
        case let .refused(err):
            log(.warning, "IKE SA rekey refused with \(err.type.name)")
            if let theirs { switchTo(theirs, now: now) }
        case let .unusable(why):
            log(.warning, "IKE SA rekey response unusable: \(why)")
            if let theirs { switchTo(theirs, now: now) }
        }
    }

    /// Sends the Delete of the current (old) SA with its keys, then switches to `n`; the Delete
    /// stays pending with the retired state (retransmitted by `pollRetired`, its answer recognised).
    func deleteOldAndSwitch(to n: RekeyedIKESA, now: Double) {
        sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .IKE))], now: now)
        switchTo(n, now: now)
    }

    /// Keeps the redundant SA `n` of a simultaneous rekey (§2.8.2) as a retired state, so what
    /// arrives for its SPIs reaches it, and announces its keys. `deleting`: we lost, so we
    /// send INFORMATIONAL {D(IKE)} on it, pending there like any request of ours.
    func retireRedundant(_ n: RekeyedIKESA, deleting: Bool, now: Double) {
        let current = currentState(now: now)
        load(IKESAState(spiI: n.spiI, spiR: n.spiR, isInitiator: n.isInitiator, suite: n.suite, keys: n.keys, protection: n.protection,
                        ni: n.ni, nr: n.nr, nextRequestID: 0, expectedPeerRequestID: 0, lastResponse: nil, pending: nil, since: now))
        if let i = info() { actions.append(.ikeSARedundant(i)) }
        if deleting { sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .IKE))], now: now) }
        var s = currentState(now: now)
        s.redundant = true
        retired.append(s)
        load(current)
    }

    /// Makes `n` the current SA; the old one is retired (its Delete is still answered).
    func switchTo(_ n: RekeyedIKESA, now: Double) {
        let oldI = spiI, oldR = spiR
        retired.append(currentState(now: now))
        load(IKESAState(spiI: n.spiI, spiR: n.spiR, isInitiator: n.isInitiator, suite: n.suite, keys: n.keys, protection: n.protection,
                        ni: n.ni, nr: n.nr, nextRequestID: 0, expectedPeerRequestID: 0, lastResponse: nil, pending: nil, since: now))
        ikeRekeyRequest = nil
        children = children.map { var c = $0; c.ikeSPIi = n.spiI; c.ikeSPIr = n.spiR; return c }
        logRekeyed(n)
        if let i = info() { actions.append(.ikeSARekeyed(oldSPIi: oldI, oldSPIr: oldR, new: i)) }
    }

    /// The ePDG rekeys the IKE SA: answer SA/Nr/KEr, then use the new SA, where the ePDG is
    /// the initiator (SPIi is its SPI, the phone now sends with SK_er/SK_ar and a clear I flag).
    func answerIKERekeyAsPhone(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        guard state == .established, !inRetired, rekey == nil, peerRekeyed == nil else {
            log(.info, "IKE SA rekey request while busy: TEMPORARY_FAILURE")
            sendResponse(to: h, [.notify(NotifyPayload(.TEMPORARY_FAILURE))]); return
        }
        guard let n = answerIKERekeyRequest(h, payloads, choose: phoneIKEChoice) else { return }
        if ikeRekeyRequest != nil {
            peerRekeyed = n
            log(.info, "simultaneous IKE SA rekey: answered the peer's; the lowest nonce decides which new SA stays")
            return
        }
        switchTo(n, now: now)
    }

    /// The phone accepts the algorithms it uses or offers, with the KE group it was sent if it knows it.
    func phoneIKEChoice(_ proposals: [Proposal], _ keGroup: UInt16) -> IKERekeyChoice {
        let acceptable = (suite.map { [$0] } ?? []) + config.ikeSuites
        var wanted: DHGroup?
        for p in proposals {
            for s in acceptable where p.transforms(.ENCR).contains(where: { $0.id == s.encryption.transformID && $0.keyLength.map(Int.init) == s.encryption.keyLengthAttribute })
                && p.transforms(.PRF).contains(where: { $0.id == s.prf.rawValue })
                && (s.integrity.map { i in p.transforms(.INTEG).contains { $0.id == i.rawValue } } ?? p.transforms(.INTEG).allSatisfy { $0.id == 0 }) {
                let groups = p.transforms(.DH).compactMap { DHGroup(rawValue: $0.id) }
                if let g = DHGroup(rawValue: keGroup), groups.contains(g) {
                    var chosen = s
                    chosen.dhGroup = g
                    return .chosen(chosen, proposal: Proposal(number: p.number, protocolID: .IKE, spi: [], transforms: chosen.transforms))
                }
                if wanted == nil { wanted = groups.first { g in acceptable.contains { $0.dhGroup == g } } }
            }
        }
        return wanted.map { .wrongKEGroup($0) } ?? .noProposalChosen
    }

    /// A datagram for a retired SA: processed with that SA's keys and message IDs. The SA is
    /// forgotten once the peer deleted it or answered our pending request (our Delete of it).
    func receiveOnRetired(_ index: Int, _ raw: [UInt8], message m: IKEMessage, from: IKEEndpoint, to: IKEEndpoint, now: Double) {
        let before = retired[index]
        let after = onRetired(index, now: now) { receive(raw, message: m, from: from, to: to, now: now) }
        if retiredClosed {
            log(.info, "\(retiredName(before)) deleted by the peer after the rekey")
            retired.remove(at: index)
        } else if m.header.isResponse, let p = before.pending, after.pending == nil {
            log(.info, "\(retiredName(before)): the peer answered our \(p.exchange) #\(p.id); forgotten")
            retired.remove(at: index)
        } else {
            retired[index] = after
        }
    }

    /// Retransmits the pending requests of retired SAs (our Delete of the old or redundant SA)
    /// with the same back-off as any request; one never answered ends only that retired SA.
    func pollRetired(now: Double) {
        for index in retired.indices.reversed() {
            guard let p = retired[index].pending, now >= retransmitDue(p) else { continue }
            let before = retired[index]
            let after = onRetired(index, now: now) { pollTimers(now: now) }
            if retiredClosed {
                log(.warning, "\(retiredName(before)): no answer to our \(p.exchange) #\(p.id); forgotten, the current IKE SA is kept")
                retired.remove(at: index)
            } else {
                retired[index] = after
            }
        }
    }

    /// Runs `body` as the retired SA `index` (its SPIs, keys, message IDs) and returns its
    /// state afterwards; `retiredClosed` then tells whether it ended.
    func onRetired(_ index: Int, now: Double, _ body: () -> Void) -> IKESAState {
        let current = currentState(now: now)
        let pendingRekey = ikeRekeyRequest
        let s = retired[index]
        load(s)
        inRetired = true
        retiredClosed = false
        body()
        inRetired = false
        var after = currentState(now: s.since)
        after.redundant = s.redundant
        load(current)
        ikeRekeyRequest = pendingRekey
        return after
    }

    func retiredName(_ s: IKESAState) -> String {
        "\(s.redundant ? "redundant" : "old") IKE SA \(Hex.spi(s.spiI))/\(Hex.spi(s.spiR))"
    }

    /// INFORMATIONAL on a retired SA, or a Delete of the old SA while our own rekey is open;
    /// true when handled here.
    func handleRekeyInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) -> Bool {
        let deletesIKE = payloads.deletes.contains { $0.protocolID == .IKE }
        if inRetired {
            sendResponse(to: h, [])
            if deletesIKE { retiredClosed = true }
            return true
        }
        if deletesIKE, let theirs = peerRekeyed {
            // The peer finished its rekey and did not see ours (§2.8.2): forget ours, keep the peer's.
            sendResponse(to: h, [])
            peerRekeyed = nil
            pending = nil
            log(.info, "the peer deleted the old IKE SA during a simultaneous rekey: keeping its new SA")
            switchTo(theirs, now: now)
            retired.removeLast()
            return true
        }
        return false
    }

    /// Retired SAs the peer never deleted are forgotten after a while (one with a request of
    /// ours pending ends with its answer or its last retransmission).
    func expireRetired(now: Double) {
        retired.removeAll { $0.pending == nil && now - $0.since > 60 }
    }
}
