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
/// it to the new SPIs, keys and role; the old SA is kept aside (`retired`) only to answer
/// the peer's Delete of it.
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
                deleteRedundant(n)
                switchTo(theirs, now: now)
            } else {
                log(.info, "IKE SA rekey collision won: \(n.spiDescription) stays, the peer deletes its redundant \(theirs.spiDescription)")
                deleteOldAndSwitch(to: n, now: now)
                retired.append(IKESAState(spiI: theirs.spiI, spiR: theirs.spiR, isInitiator: false, suite: theirs.suite, keys: theirs.keys,
                                          protection: theirs.protection, ni: theirs.ni, nr: theirs.nr, nextRequestID: 0,
                                          expectedPeerRequestID: 0, lastResponse: nil, pending: nil, since: now))
            }
        case let .refused(err):
            log(.warning, "IKE SA rekey refused with \(err.type.name)")
            if let theirs { switchTo(theirs, now: now) }
        case let .unusable(why):
            log(.warning, "IKE SA rekey response unusable: \(why)")
            if let theirs { switchTo(theirs, now: now) }
        }
    }

    /// Sends the Delete of the current (old) SA with its keys, then switches to `n`.
    func deleteOldAndSwitch(to n: RekeyedIKESA, now: Double) {
        let id = nextRequestID
        nextRequestID &+= 1
        let packets = encode(header(.INFORMATIONAL, response: false, id: id), [.delete(DeletePayload(protocolID: .IKE))])
        sendPackets(packets)
        // Kept with the retired state, so the answer is recognised (it is not retransmitted).
        pending = Pending(id: id, exchange: .INFORMATIONAL, packets: packets, sentAt: now, retries: 0)
        switchTo(n, now: now)
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

    /// A datagram for a retired SA: processed with that SA's keys and message IDs.
    func receiveOnRetired(_ index: Int, _ raw: [UInt8], message m: IKEMessage, from: IKEEndpoint, to: IKEEndpoint, now: Double) {
        let current = currentState(now: now)
        let pendingRekey = ikeRekeyRequest
        load(retired[index])
        inRetired = true
        retiredClosed = false
        receive(raw, message: m, from: from, to: to, now: now)
        inRetired = false
        let after = currentState(now: retired[index].since)
        load(current)
        ikeRekeyRequest = pendingRekey
        if retiredClosed || (m.header.isResponse && after.pending == nil) {
            retired.remove(at: index)
        } else {
            retired[index] = after
        }
    }

    /// INFORMATIONAL on a retired SA, or a Delete of the old SA while our own rekey is open;
    /// true when handled here.
    func handleRekeyInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) -> Bool {
        let deletesIKE = payloads.deletes.contains { $0.protocolID == .IKE }
        if inRetired {
            sendResponse(to: h, [])
            if deletesIKE {
                retiredClosed = true
                log(.info, "old IKE SA \(String(spiI, radix: 16))/\(String(spiR, radix: 16)) deleted by the peer after the rekey")
            }
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

    /// Retired SAs the peer never deleted are forgotten after a while.
    func expireRetired(now: Double) {
        retired.removeAll { now - $0.since > 60 }
    }
}
