import Crypto
import Wire

/// IKE SA rekeying with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18): new SPIs, nonces and a fresh
/// DH give a new IKE SA that inherits the Child SAs; the initiator then deletes the old one.
/// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF (as strongSwan does).
extension IKEResponderSA {
    func answerIKERekeyAsResponder(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        guard isEstablished, !superseded, let oldSuite = suite, let oldKeys = keys, let sa = payloads.sa,
              let ke = payloads.ke, let peerNonce = payloads.nonce else {
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return
        }
        let ikeProposals = sa.proposals.filter { $0.protocolID == .IKE && $0.spi.count == 8 }
        switch ProposalSelection.chooseIKE(ikeProposals, policy: policy, keGroup: ke.dhGroup) {
        case .noProposalChosen:
            log(.warning, "IKE rekey NO_PROPOSAL_CHOSEN: offered \(ProposalSelection.describe(sa.proposals))")
            sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
        case let .wrongKEGroup(g):
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_KE_PAYLOAD, data: [UInt8(g.rawValue >> 8), UInt8(g.rawValue & 0xff)]))])
        case let .chosen(newSuite, chosen):
            guard let offered = ikeProposals.first(where: { $0.number == chosen.number }) else { return }
            do {
                let pair = try DHKeyPair(group: newSuite.dhGroup)
                let shared = try pair.sharedSecret(peerPublicValue: ke.keyData)
                let nonce = SecureRandom.bytes(32)
                let newSPIi = offered.spi.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let newSPIr = allocateIKESPI()
                let seed = KeySchedule.rekeySkeyseed(prf: oldSuite.prf, oldSKd: oldKeys.SK_d, newSharedSecret: shared, ni: peerNonce, nr: nonce)
                let newKeys = try KeySchedule.ikeKeys(suite: newSuite, skeyseed: seed, ni: peerNonce, nr: nonce, spiI: newSPIi, spiR: newSPIr)
                let next = IKEResponderSA(policy: policy, vectors: vectors, pool: pool, signer: signer, spiI: newSPIi, spiR: newSPIr,
                                          local: local, remote: remote, now: now, allocateSPI: allocateSPI)
                next.suite = newSuite
                next.keys = newKeys
                next.protection = try SKProtection(suite: newSuite, keys: newKeys, isInitiator: false)
                next.ni = peerNonce; next.nr = nonce
                next.isEstablished = true
                next.phase = .established
                next.establishedAt = now
                next.natDetected = natDetected
                next.imsi = imsi; next.apn = apn
                next.idi = idi; next.idrSent = idrSent; next.apnPolicy = apnPolicy; next.nai = nai
                next.addresses = addresses
                next.secondAuth = secondAuth
                next.children = children.map { c in
                    var c = c; c.ikeSPIi = newSPIi; c.ikeSPIr = newSPIr; return c
                }
                next.childCreatedAt = childCreatedAt
                // The old SA keeps nothing that its deletion would release.
                addresses = nil
                children = []
                childCreatedAt = [:]
                superseded = true
                spawned = next
                let proposal = Proposal(number: chosen.number, protocolID: .IKE, spi: KeySchedule.be64(newSPIr), transforms: newSuite.transforms)
                sendResponse(to: h, [.sa(SAPayload(proposals: [proposal])), .nonce(nonce), .ke(KEPayload(dhGroup: newSuite.dhGroup.rawValue, keyData: pair.publicValue))])
                log(.info, "IKE SA rekeyed into \(String(newSPIi, radix: 16))/\(String(newSPIr, radix: 16)) (\(newSuite))")
                if let i = next.info() { actions.append(.ikeSARekeyed(oldSPIi: spiI, oldSPIr: spiR, new: i)) }
            } catch {
                log(.warning, "IKE rekey failed: \(error)")
                sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
            }
        }
    }
}

extension IKEInitiator {
    /// Rekeys the IKE SA (same algorithms, fresh DH): CREATE_CHILD_SA with an IKE proposal. On the
    /// answer this object switches to the new SPIs and keys and sends a Delete for the old SA.
    public func rekeyIKESA(now: Double) -> [IKEAction] {
        guard state == .established, pending == nil, let suite else { return [] }
        do {
            let pair = try DHKeyPair(group: suite.dhGroup)
            let spi = max(1, SecureRandom.uint64())
            let nonce = SecureRandom.bytes(32)
            ikeRekey = IKERekeyContext(spiI: spi, nonce: nonce, dh: pair, suite: suite)
            sendRequest(.CREATE_CHILD_SA, [.sa(SAPayload(proposals: [Proposal(number: 1, protocolID: .IKE, spi: KeySchedule.be64(spi), transforms: suite.transforms)])),
                                           .nonce(nonce), .ke(KEPayload(dhGroup: suite.dhGroup.rawValue, keyData: pair.publicValue))], now: now)
        } catch {
            log(.error, "IKE rekey DH: \(error)")
        }
        return drain()
    }

    func handleIKERekeyResponse(_ payloads: [Payload], now: Double) {
        guard let r = ikeRekey, let oldSuite = suite, let oldKeys = keys else { return }
        ikeRekey = nil
        guard let p = payloads.sa?.proposals.first, p.protocolID == .IKE, p.spi.count == 8, let nr2 = payloads.nonce, let ke = payloads.ke,
              let shared = try? r.dh.sharedSecret(peerPublicValue: ke.keyData) else {
            log(.warning, "IKE rekey response unusable: \(describe(payloads))"); return
        }
        let newSPIr = p.spi.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        do {
            let seed = KeySchedule.rekeySkeyseed(prf: oldSuite.prf, oldSKd: oldKeys.SK_d, newSharedSecret: shared, ni: r.nonce, nr: nr2)
            let newKeys = try KeySchedule.ikeKeys(suite: r.suite, skeyseed: seed, ni: r.nonce, nr: nr2, spiI: r.spiI, spiR: newSPIr)
            let newProtection = try SKProtection(suite: r.suite, keys: newKeys, isInitiator: true)
            // Delete the old IKE SA with the old keys (its response is not awaited).
            let id = nextRequestID
            sendPackets(encode(header(.INFORMATIONAL, response: false, id: id), [.delete(DeletePayload(protocolID: .IKE))]))
            let oldI = spiI, oldR = spiR
            spiI = r.spiI; spiR = newSPIr
            keys = newKeys; protection = newProtection
            ni = r.nonce; nr = nr2
            nextRequestID = 0; expectedPeerRequestID = 0; lastResponse = nil; pending = nil
            children = children.map { var c = $0; c.ikeSPIi = r.spiI; c.ikeSPIr = newSPIr; return c }
            log(.info, "IKE SA rekeyed into \(String(r.spiI, radix: 16))/\(String(newSPIr, radix: 16))")
            if let i = info() { actions.append(.ikeSARekeyed(oldSPIi: oldI, oldSPIr: oldR, new: i)) }
        } catch {
            log(.error, "IKE rekey keys: \(error)")
        }
    }
}
