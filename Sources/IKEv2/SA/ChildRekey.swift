import Crypto
import Wire

/// CREATE_CHILD_SA for Child SAs (RFC 7296 §1.3.1, §1.3.3, §2.8), for either role: the side
/// that starts the exchange is its "initiator" for KEYMAT (§2.17), whatever its IKE role.
extension IKESA {
    struct RekeyContext {
        var old: ChildSADescription
        var spi: UInt32
        var nonce: [UInt8]
        var dh: DHKeyPair?
        var suite: ESPSuite
    }

    /// Rekeys the Child SA with inbound SPI `inboundSPI` (default: the oldest): CREATE_CHILD_SA with
    /// N(REKEY_SA) and optionally a KE (PFS). On the answer the new pair is installed, the old pair
    /// removed, and a Delete for it sent to the peer.
    public func rekeyChildSA(now: Double, inboundSPI: UInt32? = nil, pfsGroup: DHGroup? = nil) -> [IKEAction] {
        startChildRekey(now: now, inboundSPI: inboundSPI, pfsGroup: pfsGroup)
        return drain()
    }

    func startChildRekey(now: Double, inboundSPI: UInt32?, pfsGroup: DHGroup?) {
        guard isEstablished, !isDead, pending == nil,
              let old = inboundSPI.flatMap({ s in children.first { $0.inboundSPI == s } }) ?? children.first else { return }
        let spi = allocateChildSPI()   // the ePDG's SPIs come from its allocator (sharding by SPI)
        let nonce = SecureRandom.bytes(32)
        var transforms = old.suite.transforms
        var pair: DHKeyPair?
        if let g = pfsGroup {
            do { pair = try DHKeyPair(group: g) } catch { log(.error, "rekey DH: \(error)"); return }
            transforms.append(Transform(.DH, g.rawValue))
        }
        var payloads: [Payload] = [.notify(NotifyPayload(.REKEY_SA, protocolID: SecurityProtocol.ESP.rawValue, spi: be32(old.inboundSPI))),
                                   .sa(SAPayload(proposals: [Proposal(number: 1, protocolID: .ESP, spi: be32(spi), transforms: transforms)])),
                                   .nonce(nonce)]
        if let pair { payloads.append(.ke(KEPayload(dhGroup: pair.group.rawValue, keyData: pair.publicValue))) }
        // TSi/TSr are the exchange initiator's and responder's selectors.
        payloads += [.tsi(TSPayload(old.localTS)), .tsr(TSPayload(old.remoteTS))]
        rekey = RekeyContext(old: old, spi: spi, nonce: nonce, dh: pair, suite: old.suite)
        sendRequest(.CREATE_CHILD_SA, payloads, now: now)
    }

    func handleRekeyResponse(_ payloads: [Payload], now: Double) {
        guard let r = rekey else { return }
        rekey = nil
        if let err = payloads.notifies.first(where: { $0.type.isError }) {
            log(.warning, "Child SA rekey refused: \(err.type)")
            // Retried shortly; the SA's age is kept, so its hard lifetime still ends it in time.
            childRekeyDeferredUntil[r.old.inboundSPI] = now + Self.childRekeyRetryDelay
            return
        }
        guard let suite, let keys, let p = payloads.sa?.proposals.first, p.spi.count == 4, let peerNonce = payloads.nonce else {
            log(.warning, "CREATE_CHILD_SA response unusable"); return
        }
        var shared: [UInt8]?
        if let dh = r.dh {
            guard let ke = payloads.ke, let s = try? dh.sharedSecret(peerPublicValue: ke.keyData) else {
                log(.warning, "CREATE_CHILD_SA response without a usable KE"); return
            }
            shared = s
        }
        let ck: ChildKeys
        do { ck = try KeySchedule.childKeys(prf: suite.prf, skD: keys.SK_d, newSharedSecret: shared, ni: r.nonce, nr: peerNonce, suite: r.suite) } catch {
            log(.error, "rekey KEYMAT: \(error)"); return
        }
        var child = r.old
        child.inboundSPI = r.spi
        child.outboundSPI = u32(p.spi)
        // We started the exchange: initiator→responder keys are ours outbound.
        child.outboundEncryptionKey = ck.encryptionI; child.outboundIntegrityKey = ck.integrityI
        child.inboundEncryptionKey = ck.encryptionR; child.inboundIntegrityKey = ck.integrityR
        children.removeAll { $0.inboundSPI == r.old.inboundSPI }
        children.append(child)
        childCreatedAt[child.inboundSPI] = now
        childCreatedAt[r.old.inboundSPI] = nil
        childRekeyDeferredUntil[r.old.inboundSPI] = nil
        actions.append(.installChildSA(child))
        log(.info, "Child SA rekeyed: \(child.description)")
        actions.append(.deleteChildSA(inboundSPI: r.old.inboundSPI, outboundSPI: r.old.outboundSPI))
        sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .ESP, spis: [be32(r.old.inboundSPI)]))], now: now)
    }

    /// Answers a peer's CREATE_CHILD_SA for a Child SA (new or rekey). `choose` picks the ESP
    /// suite; a KE is accepted for a group in `dhGroups` that the chosen proposal lists.
    func answerCreateChild(_ h: IKEHeader, _ payloads: [Payload], now: Double, dhGroups: [DHGroup], lifetime: Int,
                           choose: ([Proposal]) -> (ESPSuite, Proposal)?) {
        guard let sa = payloads.sa, let peerNonce = payloads.nonce, let suite, let keys else {
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return
        }
        if sa.proposals.contains(where: { $0.protocolID == .IKE }) {
            answerIKERekey(h, payloads, now: now)
            return
        }
        if rekey != nil || ikeRekeyRequest != nil {
            // Simultaneous Child rekey (RFC 7296 §2.8.1): keep it simple and let the peer's win
            // later; while the IKE SA is being rekeyed, §2.25.2 asks for TEMPORARY_FAILURE.
            sendResponse(to: h, [.notify(NotifyPayload(.TEMPORARY_FAILURE))]); return
        }
        var old: ChildSADescription?
        if let r = payloads.notify(.REKEY_SA) {
            let spi = u32(r.spi)
            guard let c = children.first(where: { $0.outboundSPI == spi }) else {
                sendResponse(to: h, [.notify(NotifyPayload(.CHILD_SA_NOT_FOUND, protocolID: SecurityProtocol.ESP.rawValue, spi: r.spi))]); return
            }
            old = c
        }
        guard let (esp, offered) = choose(sa.proposals) else {
            log(.warning, "CREATE_CHILD_SA NO_PROPOSAL_CHOSEN: offered \(ProposalSelection.describe(sa.proposals))")
            sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))]); return
        }
        var shared: [UInt8]?
        var keOut: KEPayload?
        var transforms = esp.transforms
        if let ke = payloads.ke {
            let groups = offered.transforms(.DH).compactMap { DHGroup(rawValue: $0.id) }.filter { dhGroups.contains($0) }
            guard let g = DHGroup(rawValue: ke.dhGroup), groups.contains(g) else {
                let pref = groups.first ?? dhGroups.first ?? .modp2048
                sendResponse(to: h, [.notify(NotifyPayload(.INVALID_KE_PAYLOAD, data: [UInt8(pref.rawValue >> 8), UInt8(pref.rawValue & 0xff)]))]); return
            }
            do {
                let pair = try DHKeyPair(group: g)
                shared = try pair.sharedSecret(peerPublicValue: ke.keyData)
                keOut = KEPayload(dhGroup: g.rawValue, keyData: pair.publicValue)
                transforms.append(Transform(.DH, g.rawValue))
            } catch {
                sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return
            }
        }
        let localTS = old?.localTS ?? (payloads.tsr?.selectors ?? [])
        let remoteTS = old?.remoteTS ?? (payloads.tsi?.selectors ?? [])
        guard !localTS.isEmpty, !remoteTS.isEmpty else {
            sendResponse(to: h, [.notify(NotifyPayload(.TS_UNACCEPTABLE))]); return
        }
        let nonce = SecureRandom.bytes(32)
        let ck: ChildKeys
        do { ck = try KeySchedule.childKeys(prf: suite.prf, skD: keys.SK_d, newSharedSecret: shared, ni: peerNonce, nr: nonce, suite: esp) } catch {
            sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))]); return
        }
        let mySPI = allocateChildSPI()
        let template = old ?? children.first
        let child = ChildSADescription(ikeSPIi: spiI, ikeSPIr: spiR, inboundSPI: mySPI, outboundSPI: u32(offered.spi), suite: esp,
                                       inboundEncryptionKey: ck.encryptionI, inboundIntegrityKey: ck.integrityI,
                                       outboundEncryptionKey: ck.encryptionR, outboundIntegrityKey: ck.integrityR,
                                       localTS: localTS, remoteTS: remoteTS, local: local, remote: remote, udpEncapsulation: udpEncapsulation,
                                       innerIPv4: template?.innerIPv4, innerIPv6: template?.innerIPv6,
                                       lifetimeSeconds: lifetime, imsi: imsi, apn: apn)
        var out: [Payload] = [.sa(SAPayload(proposals: [Proposal(number: offered.number, protocolID: .ESP, spi: be32(mySPI), transforms: transforms)])),
                              .nonce(nonce)]
        if let keOut { out.append(.ke(keOut)) }
        // Our TSi/TSr answer mirrors the request's (TSi = the exchange initiator's side).
        out += [.tsi(TSPayload(remoteTS)), .tsr(TSPayload(localTS))]
        children.append(child)
        childCreatedAt[mySPI] = now
        actions.append(.installChildSA(child))
        let what = old.map { "rekeyed (old in=0x\(Hex.spi($0.inboundSPI)))" } ?? "new"
        log(.info, "\(what) \(child.description)" + (shared == nil ? "" : " with PFS"))
        sendResponse(to: h, out)
    }
}
