import AKA
import Crypto
import Wire

/// IKE_SA_INIT on the ePDG: proposal choice, INVALID_KE, DH, nonces, NAT detection.
extension IKEResponderSA {
    // MARK: IKE_SA_INIT

    func handleInit(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if inject(.ike_sa_init, h, apn: nil) { return }
        initRequestBytes = lastReceivedRaw
        guard let sa = payloads.sa, let ke = payloads.ke, let nonce = payloads.nonce else {
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))])
            phase = .failed; terminate(reason: "IKE_SA_INIT without SA, KE or Ni")
            return
        }
        switch ProposalSelection.chooseIKE(sa.proposals, policy: policy, keGroup: ke.dhGroup) {
        case .noProposalChosen:
            let accepted = "\(policy.ikeEncryption.map(\.description)) \(policy.ikeIntegrity.map(\.description)) \(policy.ikePRF.map(\.description)) \(policy.ikeDHGroups.map(\.description))"
            log(.warning, "NO_PROPOSAL_CHOSEN: offered \(ProposalSelection.describe(sa.proposals)); accepted \(accepted)")
            sendResponse(to: h, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
            phase = .failed; terminate(reason: "no proposal chosen")
        case let .wrongKEGroup(preferred):
            log(.info, "KE group \(DHGroup(rawValue: ke.dhGroup).map { "\($0)" } ?? "\(ke.dhGroup)") not acceptable; INVALID_KE_PAYLOAD asking for \(preferred)")
            // Stateless answer (RFC 7296 §1.3): SPIr stays 0 and the SA is not kept.
            let resp = IKEMessage(header: IKEHeader(spiI: spiI, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: false, isResponse: true, messageID: 0),
                                  payloads: [.notify(NotifyPayload(.INVALID_KE_PAYLOAD, data: [UInt8(preferred.rawValue >> 8), UInt8(preferred.rawValue & 0xff)]))])
            sendPackets([resp.serialize()])
            phase = .failed; isDead = true
        case let .chosen(suite, proposal):
            do {
                let pair = try DHKeyPair(group: suite.dhGroup)
                // The key pair is dropped when this block ends (RFC 7296 §2.12: nothing that
                // could recompute the keys is kept once they are derived).
                let shared = try pair.sharedSecret(peerPublicValue: ke.keyData)
                ni = nonce
                nr = SecureRandom.bytes(32)
                // NAT detection: compare the peer's hashes with what we see.
                let srcSeen = NATDetection.hash(spiI: spiI, spiR: 0, remote)
                let dstSeen = NATDetection.hash(spiI: spiI, spiR: 0, local)
                let srcs = payloads.notifies.filter { $0.type == .NAT_DETECTION_SOURCE_IP }.map(\.data)
                if let dst = payloads.notify(.NAT_DETECTION_DESTINATION_IP)?.data {
                    natDetected = dst != dstSeen || (!srcs.isEmpty && !srcs.contains(srcSeen))
                }
                peerSupportsFragmentation = payloads.has(.IKEV2_FRAGMENTATION_SUPPORTED)
                if let d = payloads.notify(.SIGNATURE_HASH_ALGORITHMS)?.data {
                    peerSignatureHashes = stride(from: 0, to: d.count - 1, by: 2).map { UInt16(d[$0]) << 8 | UInt16(d[$0 + 1]) }
                }
                var out: [Payload] = [.sa(SAPayload(proposals: [proposal])), .ke(KEPayload(dhGroup: suite.dhGroup.rawValue, keyData: pair.publicValue)),
                                      .nonce(nr)]
                if let trust = policy.peerCertificates { out.append(.certreq(trust.certificateRequest)) }
                out += [
                                      .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, local))),
                                      .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, remote)))]
                if signer != nil {
                    // RFC 7427: SHA2-256, SHA2-384, SHA2-512.
                    out.append(.notify(NotifyPayload(.SIGNATURE_HASH_ALGORITHMS, data: [0, 2, 0, 3, 0, 4])))
                }
                if policy.additionalAuth != nil {
                    // RFC 4739 §3.1; TS 33.402 §6.5: a second (PAP/CHAP) authentication will be asked for.
                    out.append(.notify(NotifyPayload(.MULTIPLE_AUTH_SUPPORTED)))
                }
                if policy.fragmentation && peerSupportsFragmentation {
                    out.append(.notify(NotifyPayload(.IKEV2_FRAGMENTATION_SUPPORTED)))
                    fragmentationNegotiated = true
                }
                let respHeader = header(.IKE_SA_INIT, response: true, id: 0)
                let resp = IKEMessage(header: respHeader, payloads: out).serialize()
                initResponseBytes = resp
                try deriveKeys(suite: suite, sharedSecret: shared)
                log(.info, "IKE_SA_INIT from \(remote): chose \(suite)" + (natDetected ? ", NAT detected" : ""))
                lastResponse = (0, [resp])
                sendPackets([resp])
                actions.append(.armTimer(at: now + policy.halfOpenTimeout))
            } catch {
                log(.warning, "IKE_SA_INIT key exchange failed: \(error)")
                sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))])
                phase = .failed; terminate(reason: "bad KE")
            }
        }
    }
}
