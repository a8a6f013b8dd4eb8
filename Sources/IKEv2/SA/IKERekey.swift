import Crypto
import Wire

/// IKE SA rekeying on the ePDG (RFC 7296 §1.3.2, §2.18), both ways. New SPIs, nonces and a
/// fresh DH give a new `IKEResponderSA` that inherits the session (Child SAs, inner
/// addresses, identity); the side that started the rekey is the new SA's initiator and
/// deletes the old SA. The ePDG starts one at 90% of `ike_duration` (as Child SAs at 90%
/// of `esp_duration`); when it cannot, the SA is deleted at `ike_duration`.
extension IKEResponderSA {
    // MARK: The phone rekeys

    func answerIKERekeyAsResponder(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        guard isEstablished, !isDead else { sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return }
        if superseded || rekey != nil {
            // §2.25.2: this SA is being closed (already rekeyed) or a Child SA rekey of ours is open.
            log(.info, "IKE SA rekey request while \(superseded ? "this SA is being replaced" : "a Child SA rekey is open"): TEMPORARY_FAILURE")
            sendResponse(to: h, [.notify(NotifyPayload(.TEMPORARY_FAILURE))]); return
        }
        let policy = policy
        guard let n = answerIKERekeyRequest(h, payloads, choose: { proposals, keGroup in
            switch ProposalSelection.chooseIKE(proposals, policy: policy, keGroup: keGroup, spiSize: 8) {
            case let .chosen(s, proposal): return .chosen(s, proposal: proposal)
            case let .wrongKEGroup(g): return .wrongKEGroup(g)
            case .noProposalChosen: return .noProposalChosen
            }
        }) else { return }
        let next = successor(n, now: now)
        handOver(to: next)
        logRekeyed(n)
        if ikeRekeyRequest != nil {
            // Both sides rekey at once (§2.8.2): the lowest of the four nonces decides once our answer arrives.
            peerRekeyed = next
            log(.info, "simultaneous IKE SA rekey: answered the peer's; the lowest nonce decides which new SA stays")
        }
    }

    // MARK: The ePDG rekeys

    /// Starts the rekey at 90% of `ike_duration` (or when a TEMPORARY_FAILURE retry is due).
    func startIKERekey(now: Double) {
        log(.info, "IKE SA reached \(Int(ikeRekeyAge)) s of ike_duration \(policy.ikeLifetime) s: rekeying it")
        ikeRekeyRetryAt = nil
        if !sendIKERekeyRequest(now: now) { ikeRekeyRetryAt = now + ikeRekeyRetryDelay }
    }

    /// The answer to our IKE rekey request.
    func handleIKERekeyResponse(_ r: IKERekeyRequest, _ payloads: [Payload], now: Double) {
        switch ikeRekeyOutcome(r, payloads) {
        case let .rekeyed(n):
            if superseded {
                // Simultaneous rekey: the peer's request was answered first (`peerRekeyed`).
                let theirs = peerRekeyed
                peerRekeyed = nil
                guard let theirs, !n.lowestNonce.lexicographicallyPrecedes(theirs.ni.lexicographicallyPrecedes(theirs.nr) ? theirs.ni : theirs.nr) else {
                    // Ours holds the lowest nonce: it is redundant; the peer deletes the old SA.
                    deleteRedundant(n, now: now)
                    return
                }
                log(.info, "IKE SA rekey collision won: \(n.spiDescription) keeps the session, the peer deletes its redundant \(Hex.spi(theirs.spiI))/\(Hex.spi(theirs.spiR))")
                let next = successor(n, now: now)
                theirs.handOver(to: next)
                theirs.spawned = nil
                actions += theirs.drain()
                spawned = next
                logRekeyed(n)
                closeAfterRekey(now: now)
                return
            }
            let next = successor(n, now: now)
            handOver(to: next)
            logRekeyed(n)
            closeAfterRekey(now: now)
        case let .refused(err):
            if superseded {
                // The peer finished its own rekey first (§2.8.2, collision seen by one side only).
                log(.info, "IKE SA rekey answered \(err.type.name) after the peer's own rekey: keeping the peer's")
                peerRekeyed = nil
                return
            }
            switch err.type {
            case .TEMPORARY_FAILURE:
                ikeRekeyRetryAt = now + ikeRekeyRetryDelay
                log(.info, "IKE SA rekey: TEMPORARY_FAILURE, retrying in \(Int(ikeRekeyRetryDelay)) s (deleted at ike_duration if it never succeeds)")
            case .INVALID_KE_PAYLOAD where r.keRetries == 0:
                if err.data.count == 2, let g = DHGroup(rawValue: UInt16(err.data[0]) << 8 | UInt16(err.data[1])), policy.ikeDHGroups.contains(g) {
                    log(.info, "IKE SA rekey: INVALID_KE_PAYLOAD, retrying with \(g)")
                    if !sendIKERekeyRequest(now: now, group: g, keRetries: 1) { ikeRekeyRetryAt = now + ikeRekeyRetryDelay }
                } else {
                    log(.warning, "IKE SA rekey: INVALID_KE_PAYLOAD asks for a group not in ike_dh_group_list: deleting the IKE SA (the phone re-attaches)")
                    deleteIKESA(now: now, reason: "IKE SA rekey refused (INVALID_KE_PAYLOAD)")
                }
            default:
                log(.warning, "IKE SA rekey refused with \(err.type.name): deleting the IKE SA (the phone re-attaches)")
                deleteIKESA(now: now, reason: "IKE SA rekey refused (\(err.type.name))")
            }
        case let .unusable(why):
            if superseded { log(.warning, "IKE SA rekey response unusable (\(why)); keeping the peer's rekey"); peerRekeyed = nil; return }
            log(.warning, "IKE SA rekey response unusable: \(why); deleting the IKE SA (the phone re-attaches)")
            deleteIKESA(now: now, reason: "IKE SA rekey failed")
        }
    }

    /// Our rekey made `spawned`: the old SA is deleted with INFORMATIONAL {D(IKE)} sent on
    /// it (retransmitted like any request); its answer ends it.
    func closeAfterRekey(now: Double) {
        closingAfterRekey = true
        sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .IKE))], now: now)
    }

    /// Our rekey lost a collision (§2.8.2): the SA it made is filed under our SPI like any
    /// other (so what arrives for it reaches it), its keys are announced, and INFORMATIONAL
    /// {D(IKE)} is sent on it, retransmitted like any request. Its answer, the peer's own Delete
    /// or the retransmission limit ends that SA alone.
    func deleteRedundant(_ n: RekeyedIKESA, now: Double) {
        log(.info, "IKE SA rekey collision lost: deleting the redundant IKE SA \(n.spiDescription) we created")
        let redundant = successor(n, now: now)
        redundant.imsi = imsi; redundant.apn = apn
        redundant.superseded = true
        redundant.redundant = true
        if let i = redundant.info() { actions.append(.ikeSARedundant(i)) }
        redundant.closeAfterRekey(now: now)
        actions += redundant.drain()
        spawned = redundant
    }

    /// How long to wait before asking again after TEMPORARY_FAILURE (RFC 7296 §2.25: not at once).
    var ikeRekeyRetryDelay: Double { min(60, max(1, Double(policy.ikeLifetime) * 0.05)) }

    /// IKE SAs are rekeyed at 90% of `ike_duration`, like Child SAs at 90% of `esp_duration`.
    var ikeRekeyAge: Double { Double(policy.ikeLifetime) * 0.9 }

    // MARK: Handing the session over

    /// A new SA object for `n`, with this SA's negotiated properties; the session moves with `handOver`.
    func successor(_ n: RekeyedIKESA, now: Double) -> IKEResponderSA {
        let next = IKEResponderSA(policy: policy, vectors: vectors, pool: pool, signer: signer, spiI: n.spiI, spiR: n.spiR,
                                  local: local, remote: remote, now: now, allocateSPI: allocateSPI)
        next.isInitiator = n.isInitiator
        next.suite = n.suite
        next.keys = n.keys
        next.protection = n.protection
        next.ni = n.ni; next.nr = n.nr
        next.isEstablished = true
        next.phase = .established
        next.establishedAt = now
        next.natDetected = natDetected
        next.mobikeNegotiated = mobikeNegotiated
        next.fragmentationNegotiated = fragmentationNegotiated
        next.fragmentSize = fragmentSize
        next.logLevel = logLevel
        next.allocateIKESPI = allocateIKESPI
        next.injection = injection
        return next
    }

    /// Moves the subscriber's session (Child SAs, inner addresses, identity) to `next`, which
    /// the owner then files under its SPI; the host learns it from `ikeSARekeyed`.
    func handOver(to next: IKEResponderSA) {
        next.imsi = imsi; next.apn = apn
        next.idi = idi; next.idrSent = idrSent; next.apnPolicy = apnPolicy; next.nai = nai
        next.deviceIdentity = deviceIdentity
        next.secondAuth = secondAuth
        next.addresses = addresses
        next.children = children.map { c in
            var c = c; c.ikeSPIi = next.spiI; c.ikeSPIr = next.spiR; return c
        }
        next.childCreatedAt = childCreatedAt
        next.childRekeyDeferredUntil = childRekeyDeferredUntil
        next.expiredChildDeletes = expiredChildDeletes
        // This SA keeps nothing that its deletion would release.
        addresses = nil
        children = []
        childCreatedAt = [:]
        childRekeyDeferredUntil = [:]
        expiredChildDeletes = []
        superseded = true
        spawned = next
        if let i = next.info() { actions.append(.ikeSARekeyed(oldSPIi: spiI, oldSPIr: spiR, new: i)) }
    }
}
