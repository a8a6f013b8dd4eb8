import AKA
import Crypto
import Wire

/// Where the phone's second authentication round stands.
struct InitiatorSecondRound {
    enum Step { case identitySent, eapAnswered, authSent }
    var step: Step
    /// IDi of round 2 (the PDN username), which its AUTH covers.
    var idi: IDPayload
    /// The EAP method the ePDG asked for (GTC or MD5-Challenge).
    var method: UInt8?
}

/// The phone's side of RFC 4739 toward an ePDG with `additional_ue_auth_type` (TS 33.402 §6.5):
/// after the EAP-AKA round, IKE_AUTH {IDi = PDN username}, the EAP-GTC or EAP-MD5 answer,
/// then AUTH keyed with SK_pi (the methods derive no MSK, RFC 7296 §2.16) and the ePDG's
/// AUTH keyed with SK_pr, which carries the configuration and the Child SA.
extension IKEInitiator {
    /// Round 2 will run: the ePDG offered it and the phone has PDN credentials.
    var wantsSecondAuth: Bool { responderOffersMultipleAuth && config.pdnUsername != nil && config.pdnPassword != nil }

    /// Round 1 is complete (the ePDG's AUTH verified): sends the round-2 IDi without AUTH.
    func startSecondRound(now: Double) {
        guard let user = config.pdnUsername else { return }
        let idi = IDPayload(user.contains("@") ? .ID_RFC822_ADDR : .ID_KEY_ID, user)
        secondRound = InitiatorSecondRound(step: .identitySent, idi: idi, method: nil)
        state = .eapInProgress
        log(.info, "first authentication done; second authentication as '\(user)'")
        sendRequest(.IKE_AUTH, [.idi(idi)], now: now)
    }

    func handleSecondRoundResponse(_ payloads: [Payload], now: Double) {
        guard var round = secondRound else { return }
        switch round.step {
        case .identitySent, .eapAnswered:
            guard let bytes = payloads.eap, let pkt = try? EAPPacket(parsing: bytes) else {
                fail("second-round IKE_AUTH response without EAP"); return
            }
            switch pkt.code {
            case .request:
                guard let reply = answerPasswordRequest(pkt) else { return }
                round.step = .eapAnswered
                round.method = pkt.type
                secondRound = round
                sendRequest(.IKE_AUTH, [.eap(reply.serialize())], now: now)
            case .success:
                guard round.step == .eapAnswered, let suite, let keys,
                      let octets = authOctets(ofInitiator: true, idPrime: round.idi.idPrime) else {
                    fail("EAP-Success before the second-round challenge"); return
                }
                log(.info, "second authentication: EAP-Success (\(round.method.flatMap(EAPType.name) ?? "-"))", layer: "eap")
                round.step = .authSent
                secondRound = round
                let auth = AuthComputation.sharedKeyAuth(prf: suite.prf, sharedSecret: keys.SK_pi, signedOctets: octets)
                state = .finalAuthSent
                sendRequest(.IKE_AUTH, [.auth(AuthPayload(method: .SHARED_KEY_MIC, data: auth))], now: now)
            case .failure:
                fail("second authentication: EAP-Failure", notify: .AUTHENTICATION_FAILED)
            case .response:
                fail("EAP-Response from the network")
            }
        case .authSent:
            guard let suite, let keys, let auth = payloads.auth, let idr = idrForAuth ?? payloads.idr,
                  let octets = authOctets(ofInitiator: false, idPrime: idr.idPrime),
                  constantTimeEqual(AuthComputation.sharedKeyAuth(prf: suite.prf, sharedSecret: keys.SK_pr, signedOctets: octets), auth.data) else {
                fail("responder AUTH of the second round (SK_pr) does not verify", notify: .AUTHENTICATION_FAILED); return
            }
            secondRound = nil
            secondAuthentication = "\(round.method.flatMap(EAPType.name) ?? "EAP") as '\(round.idi.text)'"
            adoptFinalResponse(payloads)
        }
    }

    /// EAP-GTC: the password as the token; EAP-MD5-Challenge: MD5(Identifier ‖ password ‖ challenge).
    func answerPasswordRequest(_ pkt: EAPPacket) -> EAPPacket? {
        let password = Array((config.pdnPassword ?? "").utf8)
        switch pkt.type {
        case EAPType.gtc:
            log(.info, "EAP-Request/EAP-GTC \"\(String(decoding: pkt.typeData, as: UTF8.self))\": sending the PDN password", layer: "eap")
            return EAPGTC.response(identifier: pkt.identifier, token: password)
        case EAPType.md5Challenge:
            guard let c = try? EAPMD5Challenge(parsing: pkt.typeData) else { fail("malformed EAP-MD5-Challenge request"); return nil }
            log(.info, "EAP-Request/EAP-MD5-Challenge: answering with MD5(id | password | challenge)", layer: "eap")
            let value = EAPMD5Challenge.responseValue(identifier: pkt.identifier, secret: password, challenge: c.value)
            return EAPPacket(code: .response, identifier: pkt.identifier, type: EAPType.md5Challenge, typeData: EAPMD5Challenge(value: value).serialize())
        case EAPType.identity:
            return EAPPacket(code: .response, identifier: pkt.identifier, type: EAPType.identity, typeData: Array((config.pdnUsername ?? "").utf8))
        default:
            // RFC 3748 §5.3.1: Nak with the methods this peer can do.
            log(.warning, "second round asks for EAP type \(pkt.type.map(String.init) ?? "-"): EAP-Nak (GTC, MD5)", layer: "eap")
            return EAPPacket(code: .response, identifier: pkt.identifier, type: EAPType.nak, typeData: [EAPType.md5Challenge, EAPType.gtc])
        }
    }
}
