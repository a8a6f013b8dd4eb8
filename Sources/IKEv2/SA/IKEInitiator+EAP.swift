import AKA
import Crypto
import Wire

/// The phone's EAP-AKA / EAP-AKA' peer: answers challenges with the USIM (RES, AUTS or
/// Authentication-Reject) and checks the network's AT_MAC.
extension IKEInitiator {
    func handleEAPRequest(_ payloads: [Payload], now: Double) {
        guard let bytes = payloads.eap, let pkt = try? EAPPacket(parsing: bytes) else {
            fail("IKE_AUTH response without EAP"); return
        }
        if let auth = payloads.auth, !responderSignatureChecked {
            // The ePDG's certificate AUTH (RFC 7296 §2.16): check the signature with the certificate's key.
            // The certificate chain itself is not validated (test networks use self-signed certificates).
            guard let der = payloads.certs.first?.data else {
                fail("responder signed its AUTH (\(auth.method)) but sent no CERT to check it with (send a CERTREQ: certificateRequest)",
                     notify: .AUTHENTICATION_FAILED); return
            }
            guard let cert = try? Certificate(der: der), let publicKey = try? cert.publicKey,
                  let idr = payloads.idr, let octets = authOctets(ofInitiator: false, idPrime: idr.idPrime),
                  SignatureAuthVerifier.verify(auth, signedOctets: octets, publicKey: publicKey) else {
                fail("responder signature AUTH does not verify", notify: .AUTHENTICATION_FAILED); return
            }
            responderSignatureChecked = true
            log(.info, "responder \(auth.method) AUTH verified with certificate \(cert.subject)")
        }
        if payloads.has(.DEVICE_IDENTITY), !deviceIdentitySent {
            deviceIdentityRequested = true
            log(.info, "ePDG asks for the device identity" + (config.deviceIdentity == nil ? " (none configured)" : ""))
        }
        switch pkt.code {
        case .success:
            guard let msk else { fail("EAP-Success before a challenge"); return }
            guard let auth = mskAuth(msk: msk, ofInitiator: true, idPrime: idiSent.idPrime) else { return }
            state = .finalAuthSent
            log(.info, "EAP-Success", layer: "eap")
            // RFC 4739 §3.2: ANOTHER_AUTH_FOLLOWS rides with the AUTH of the round it follows.
            sendRequest(.IKE_AUTH, [.auth(AuthPayload(method: .SHARED_KEY_MIC, data: auth))]
                        + (wantsSecondAuth ? [.notify(NotifyPayload(.ANOTHER_AUTH_FOLLOWS))] : []), now: now)
        case .failure:
            fail("EAP-Failure", notify: .AUTHENTICATION_FAILED)
        case .request where pkt.type == EAPType.identity:
            // RFC 3748 §5.1: a gateway that relays EAP to an AAA server (strongSwan with
            // eap-radius and eap_id=%any) asks for the identity first; the phone gives its NAI.
            state = .eapInProgress
            log(.info, "EAP-Request/Identity: answering with the NAI", layer: "eap")
            sendRequest(.IKE_AUTH, [.eap(EAPPacket(code: .response, identifier: pkt.identifier, type: EAPType.identity,
                                                   typeData: Array(config.nai.description.utf8)).serialize())], now: now)
        case .request:
            guard pkt.type == EAPType.aka || pkt.type == EAPType.akaPrime, let msg = try? EAPAKAMessage(parsing: pkt.typeData) else {
                fail("unsupported EAP request type \(pkt.type.map(String.init) ?? "-")"); return
            }
            state = .eapInProgress
            answer(pkt, msg, raw: bytes, now: now)
        case .response:
            fail("EAP-Response from the network")
        }
    }

    func sendEAP(_ msg: EAPAKAMessage, id: UInt8, method: UInt8, mac: (([UInt8]) -> [UInt8])? = nil, now: Double) {
        sendRequest(.IKE_AUTH, [.eap(msg.packet(code: .response, identifier: id, method: method, mac: mac))] + askedDeviceIdentity(), now: now)
    }

    /// N(DEVICE_IDENTITY) (TS 24.302 §8.2.9.2) for the next EAP request when the ePDG asked for
    /// it in an IKE_AUTH response, once.
    func askedDeviceIdentity() -> [Payload] {
        guard deviceIdentityRequested, !deviceIdentitySent, let d = config.deviceIdentity else { return [] }
        deviceIdentitySent = true
        return [.notify(NotifyPayload(.DEVICE_IDENTITY, data: d.notifyData))]
    }

    /// Answers one EAP-AKA request with the USIM.
    func answer(_ pkt: EAPPacket, _ msg: EAPAKAMessage, raw: [UInt8], now: Double) {
        let method = pkt.type ?? EAPType.aka
        let identity = Array(config.nai.description.utf8)
        switch msg.subtype {
        case .identity:
            sendEAP(EAPAKAMessage(subtype: .identity, attributes: [.AT_IDENTITY(identity)]), id: pkt.identifier, method: method, now: now)
        case .challenge:
            guard let rand = msg.rand, let autn = msg.autn, let macOff = msg.macValueOffset() else {
                sendEAP(EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]), id: pkt.identifier, method: method, now: now)
                return
            }
            let result: USIMResult
            do { result = try usim.authenticate(rand: rand, autn: autn) } catch {
                sendEAP(EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]), id: pkt.identifier, method: method, now: now)
                return
            }
            switch result {
            case .macFailure:
                log(.warning, "AUTN MAC failure: network not authentic, AKA-Authentication-Reject", layer: "eap")
                sendEAP(EAPAKAMessage(subtype: .authenticationReject, attributes: []), id: pkt.identifier, method: method, now: now)
            case let .syncFailure(auts):
                log(.info, "SQN out of range: AKA-Synchronization-Failure", layer: "eap")
                sendEAP(EAPAKAMessage(subtype: .synchronizationFailure, attributes: [.AT_AUTS(auts)]), id: pkt.identifier, method: method, now: now)
            case let .success(res, ck, ik):
                do {
                    let kAut: [UInt8], mskV: [UInt8]
                    let macFn: ([UInt8]) -> [UInt8]
                    let ok: Bool
                    if method == EAPType.aka {
                        let k = try EAPAKAKeys.derive(identity: identity, ik: ik, ck: ck)
                        kAut = k.kAut; mskV = k.msk
                        ok = EAPAKAKeys.verifyATMAC(kAut: kAut, packet: raw, macOffset: macOff)
                        macFn = { EAPAKAKeys.atMAC(kAut: kAut, packet: $0) }
                    } else {
                        let name = msg.kdfInput.map { String(decoding: $0, as: UTF8.self) } ?? config.accessNetworkName
                        guard msg.kdfs.first == 1 else {
                            sendEAP(EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]), id: pkt.identifier, method: method, now: now)
                            return
                        }
                        let k = try EAPAKAPrimeKeys.derive(identity: config.nai.description, ck: ck, ik: ik, accessNetworkName: name, autn: autn)
                        kAut = k.kAut; mskV = k.msk
                        ok = EAPAKAPrimeKeys.verifyATMAC(kAut: kAut, packet: raw, macOffset: macOff)
                        macFn = { EAPAKAPrimeKeys.atMAC(kAut: kAut, packet: $0) }
                    }
                    guard ok else {
                        log(.warning, "AT_MAC of the challenge does not verify", layer: "eap")
                        sendEAP(EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]), id: pkt.identifier, method: method, now: now)
                        return
                    }
                    msk = mskV
                    // No AT_KDF here: in an AKA'-Challenge response it means "I refuse the first KDF,
                    // use this one" (RFC 9048 §3.2), and an AAA server rightly rejects it.
                    let attrs: [AKAAttribute] = [.AT_RES(res: res, bits: UInt16(res.count * 8)), .AT_MAC([])]
                    sendEAP(EAPAKAMessage(subtype: .challenge, attributes: attrs), id: pkt.identifier, method: method, mac: macFn, now: now)
                } catch {
                    fail("EAP key derivation failed: \(error)")
                }
            }
        default:
            sendEAP(EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]), id: pkt.identifier, method: method, now: now)
        }
    }
}
