import Crypto
import Wire

/// An IKE SA rekey this side started (RFC 7296 §1.3.2): the SPI we chose for the new SA, Ni,
/// our DH pair and the suite offered (the current one; its DH group may change after
/// INVALID_KE_PAYLOAD).
struct IKERekeyRequest {
    var spi: UInt64
    var nonce: [UInt8]
    var dh: DHKeyPair
    var suite: IKESuite
    var keRetries = 0
}

/// The identity and keys of an IKE SA made by a rekey (RFC 7296 §2.18). Whoever started the
/// CREATE_CHILD_SA is the new SA's initiator: its SPI is SPIi, it sets the I flag and sends
/// with SK_ei/SK_ai; message IDs start again at 0.
struct RekeyedIKESA {
    var spiI: UInt64
    var spiR: UInt64
    var suite: IKESuite
    var keys: IKEKeys
    var protection: SKProtection
    var ni: [UInt8]
    var nr: [UInt8]
    /// This side started the exchange that made it.
    var isInitiator: Bool

    /// The lower of its two nonces: of two SAs made by simultaneous rekeys, the one holding
    /// the lowest of the four nonces is redundant (RFC 7296 §2.8.1, octet-by-octet order).
    var lowestNonce: [UInt8] { ni.lexicographicallyPrecedes(nr) ? ni : nr }
    var spiDescription: String { "\(Hex.spi(spiI))/\(Hex.spi(spiR))" }
}

/// How our IKE SA rekey request ended.
enum IKERekeyOutcome {
    case rekeyed(RekeyedIKESA)
    /// The peer answered with an error notify (TEMPORARY_FAILURE, NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD…).
    case refused(NotifyPayload)
    case unusable(String)
}

/// What the rekey responder picked from the initiator's IKE proposals.
enum IKERekeyChoice {
    case chosen(IKESuite, proposal: Proposal)
    case wrongKEGroup(DHGroup)
    case noProposalChosen
}

extension IKESA {
    /// Starts an IKE SA rekey: CREATE_CHILD_SA {SA(IKE, our new SPI), Ni, KEi} with the
    /// current algorithms and a fresh DH (RFC 7296 §1.3.2, §2.18). False when another
    /// exchange of ours is outstanding.
    func sendIKERekeyRequest(now: Double, group: DHGroup? = nil, keRetries: Int = 0) -> Bool {
        guard isEstablished, !isDead, pending == nil, ikeRekeyRequest == nil, rekey == nil, var offer = suite else { return false }
        if let group { offer.dhGroup = group }
        do {
            let pair = try DHKeyPair(group: offer.dhGroup)
            let spi = newIKESPI()
            let nonce = SecureRandom.bytes(32)
            ikeRekeyRequest = IKERekeyRequest(spi: spi, nonce: nonce, dh: pair, suite: offer, keRetries: keRetries)
            sendRequest(.CREATE_CHILD_SA, [.sa(SAPayload(proposals: [Proposal(number: 1, protocolID: .IKE, spi: KeySchedule.be64(spi), transforms: offer.transforms)])),
                                           .nonce(nonce), .ke(KEPayload(dhGroup: offer.dhGroup.rawValue, keyData: pair.publicValue))], now: now)
            return true
        } catch {
            log(.error, "IKE SA rekey: cannot make a \(offer.dhGroup) key pair: \(error)")
            return false
        }
    }

    /// Reads the answer to our IKE rekey request `r`; on success the new SA's keys, with us as
    /// its initiator (SPIi = our new SPI).
    func ikeRekeyOutcome(_ r: IKERekeyRequest, _ payloads: [Payload]) -> IKERekeyOutcome {
        if let err = payloads.notifies.first(where: { $0.type.isError }) { return .refused(err) }
        guard let p = payloads.sa?.proposals.first, p.protocolID == .IKE, p.spi.count == 8, let nr = payloads.nonce, let ke = payloads.ke else {
            return .unusable("response lacks SA(IKE, SPI)/Nr/KEr: \(describe(payloads))")
        }
        guard ke.dhGroup == r.suite.dhGroup.rawValue else { return .unusable("KEr of group \(ke.dhGroup), but \(r.suite.dhGroup) was offered") }
        guard Set(p.transforms) == Set(r.suite.transforms) else { return .unusable("responder chose transforms that were not offered: \(p.transforms)") }
        do {
            let shared = try r.dh.sharedSecret(peerPublicValue: ke.keyData)
            return .rekeyed(try rekeyedSA(suite: r.suite, sharedSecret: shared, ni: r.nonce, nr: nr, spiI: r.spi, spiR: u64(p.spi), weInitiated: true))
        } catch {
            return .unusable("key exchange: \(error)")
        }
    }

    /// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF, then the keys
    /// with the new SPIs and the new suite's PRF (RFC 7296 §2.18).
    func rekeyedSA(suite newSuite: IKESuite, sharedSecret: [UInt8], ni: [UInt8], nr: [UInt8], spiI: UInt64, spiR: UInt64, weInitiated: Bool) throws -> RekeyedIKESA {
        guard let oldSuite = suite, let oldKeys = keys else { throw IKERekeyError.noKeys }
        let seed = KeySchedule.rekeySkeyseed(prf: oldSuite.prf, oldSKd: oldKeys.SK_d, newSharedSecret: sharedSecret, ni: ni, nr: nr)
        let k = try KeySchedule.ikeKeys(suite: newSuite, skeyseed: seed, ni: ni, nr: nr, spiI: spiI, spiR: spiR)
        return RekeyedIKESA(spiI: spiI, spiR: spiR, suite: newSuite, keys: k, protection: try SKProtection(suite: newSuite, keys: k, isInitiator: weInitiated),
                            ni: ni, nr: nr, isInitiator: weInitiated)
    }

    /// Answers the peer's IKE rekey request: `choose` picks a proposal for the KE group the
    /// peer sent; on success SA(IKE, our new SPI), Nr and KEr go back (on this, the old SA)
    /// and the new SA is returned, with the peer as its initiator. Errors are answered here.
    func answerIKERekeyRequest(_ h: IKEHeader, _ payloads: [Payload], choose: ([Proposal], UInt16) -> IKERekeyChoice) -> RekeyedIKESA? {
        guard let sa = payloads.sa, let ke = payloads.ke, let peerNonce = payloads.nonce, payloads.tsi == nil else {
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return nil
        }
        let proposals = sa.proposals.filter { $0.protocolID == .IKE && $0.spi.count == 8 }
        switch choose(proposals, ke.dhGroup) {
        case .noProposalChosen:
            log(.warning, "IKE SA rekey: NO_PROPOSAL_CHOSEN for \(ProposalSelection.describe(sa.proposals))")
            sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
            return nil
        case let .wrongKEGroup(g):
            log(.info, "IKE SA rekey: KE of group \(ke.dhGroup), asking for \(g)")
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_KE_PAYLOAD, data: [UInt8(g.rawValue >> 8), UInt8(g.rawValue & 0xff)]))])
            return nil
        case let .chosen(newSuite, chosen):
            guard let offered = proposals.first(where: { $0.number == chosen.number }) else {
                sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))]); return nil
            }
            do {
                let pair = try DHKeyPair(group: newSuite.dhGroup)
                let shared = try pair.sharedSecret(peerPublicValue: ke.keyData)
                let nonce = SecureRandom.bytes(32)
                let next = try rekeyedSA(suite: newSuite, sharedSecret: shared, ni: peerNonce, nr: nonce,
                                         spiI: u64(offered.spi), spiR: newIKESPI(), weInitiated: false)
                let proposal = Proposal(number: chosen.number, protocolID: .IKE, spi: KeySchedule.be64(next.spiR), transforms: newSuite.transforms)
                sendResponse(to: h, [.sa(SAPayload(proposals: [proposal])), .nonce(nonce), .ke(KEPayload(dhGroup: newSuite.dhGroup.rawValue, keyData: pair.publicValue))])
                return next
            } catch {
                log(.warning, "IKE SA rekey failed: \(error)")
                sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
                return nil
            }
        }
    }

    /// Log line with the new SA's SK_* (keys are already in the host's key log).
    func logRekeyed(_ n: RekeyedIKESA) {
        log(.info, "IKE SA rekeyed into \(n.spiDescription) (\(n.suite)); this side is its \(n.isInitiator ? "initiator" : "responder")")
    }
}

enum IKERekeyError: Error { case noKeys }

func u64(_ b: [UInt8]) -> UInt64 { b.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
