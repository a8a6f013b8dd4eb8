import AKA
import Crypto
import Wire

/// Which password method the second authentication runs (callbox `additional_ue_auth_type`).
public enum AdditionalAuthMethod: String, Sendable, Equatable {
    /// PAP over EAP-GTC (RFC 3748 §5.6): the phone sends the password itself.
    case pap
    /// CHAP over EAP-MD5-Challenge (RFC 3748 §5.4): the phone sends MD5(Identifier ‖ password ‖ challenge).
    case chap

    public var eapType: UInt8 { self == .pap ? EAPType.gtc : EAPType.md5Challenge }
    /// "EAP-GTC (pap)" / "EAP-MD5-Challenge (chap)", for logs.
    public var label: String { "\(EAPType.name(eapType) ?? "?") (\(rawValue))" }
}

/// A PDN's `username` / `password` (≤ 100 characters each in the config).
public struct PDNCredentials: Sendable, Equatable {
    public var username: String
    public var password: String
    public init(username: String, password: String) { self.username = username; self.password = password }
}

/// What one IKE SA knows about its second authentication round.
struct SecondAuthState {
    /// The phone sent N(ANOTHER_AUTH_FOLLOWS) in round 1 (RFC 4739 §3.2).
    var anotherAuthFollows = false
    /// IDi of round 2: the phone's identity toward the PDN, also the username checked.
    var idi: IDPayload?
    /// EAP-MD5 challenge we sent.
    var challenge: [UInt8] = []
    /// Set once the password checked out.
    var authenticatedUser: String?
    var method: AdditionalAuthMethod?
}

/// The second authentication of the UE toward the PDN (TS 33.402 §6.5.2/§6.5.3, RFC 4739):
///
///     <- IKE_SA_INIT response ... N(MULTIPLE_AUTH_SUPPORTED)
///     round 1 (EAP-AKA, or a certificate), the phone's AUTH message with N(ANOTHER_AUTH_FOLLOWS)
///     <- { [IDr, CERT,] AUTH }                 no SA/TSi/TSr/CP yet: another round follows
///     -> { IDi }                               the PDN identity, no AUTH: EAP is wanted
///     <- { EAP-Request/GTC or MD5-Challenge }
///     -> { EAP-Response }                      checked against the APN's username/password
///     <- { EAP-Success }
///     -> { AUTH }                              prf(prf(SK_pi, "Key Pad for IKEv2"), RealMessage1 | Nr | prf(SK_pi, IDi'))
///     <- { AUTH, CP, SA, TSi, TSr }            AUTH keyed with SK_pr over RealMessage2 | Ni | prf(SK_pr, IDr')
///
/// GTC and MD5 derive no MSK, so AUTH in round 2 uses SK_pi / SK_pr as the shared secret
/// (RFC 7296 §2.16); IDi' is the round-2 IDi, IDr' the IDr of round 1 (the only one sent).
extension IKEResponderSA {
    /// The PDN username the second authentication proved, nil if there was none.
    public var pdnUsername: String? { secondAuth.authenticatedUser }

    /// The second round is due for this SA: the ePDG asks for it and the APN has credentials
    /// (the emergency PDN has none and is exempt).
    var secondAuthRequired: Bool { policy.additionalAuth != nil && apnPolicy?.credentials != nil }

    /// Called once round 1 has authenticated the phone and `out` holds our answer for it
    /// (IDr/CERT/AUTH). Returns true when it handled the exchange: round 2 starts, or the phone
    /// is refused. A phone that completes round 1 without N(ANOTHER_AUTH_FOLLOWS) gets
    /// AUTHORIZATION_REJECTED (9003, TS 24.302 §8.1.2.2): its identity was authenticated, so
    /// AUTHENTICATION_FAILED would be untrue; what it lacks is the authorization for the APN,
    /// which here requires the PDN credentials (as an AAA's authorization failure is reported on SWu).
    func finishFirstRound(_ h: IKEHeader, _ payloads: [Payload], out: [Payload]) -> Bool {
        if payloads.has(.ANOTHER_AUTH_FOLLOWS) { secondAuth.anotherAuthFollows = true }
        guard let method = policy.additionalAuth else {
            if secondAuth.anotherAuthFollows {
                log(.warning, "phone sent ANOTHER_AUTH_FOLLOWS, but additional_ue_auth_type is none (no MULTIPLE_AUTH_SUPPORTED was sent): ignored")
            }
            return false
        }
        guard apnPolicy?.credentials != nil else {
            log(.info, "additional_ue_auth_type \(method.rawValue): APN \(apn) has no username/password (emergency): no second authentication")
            return false
        }
        guard secondAuth.anotherAuthFollows else {
            reject(h, [NotifyPayload(.AUTHORIZATION_REJECTED)],
                   reason: "IMSI \(imsi) APN \(apn): the ePDG requires a second authentication (\(method.label)), but the phone sent no ANOTHER_AUTH_FOLLOWS (RFC 4739): AUTHORIZATION_REJECTED")
            return true
        }
        secondAuth.method = method
        phase = .awaitingSecondAuth
        log(.info, "first authentication of IMSI \(imsi) done; APN \(apn) needs a second one (\(method.label))")
        sendResponse(to: h, out)
        return true
    }

    /// Round 2, first request: {IDi} without AUTH; answer with the EAP-GTC or EAP-MD5 request.
    func handleSecondAuthStart(_ h: IKEHeader, _ payloads: [Payload]) {
        guard let method = secondAuth.method else { return }
        guard let idi2 = payloads.idi else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "IMSI \(imsi) APN \(apn): second IKE_AUTH round without IDi"); return
        }
        if let a = payloads.auth {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)],
                   reason: "IMSI \(imsi) APN \(apn): second round offers AUTH (\(a.method)); the ePDG requires \(method.label)"); return
        }
        secondAuth.idi = idi2
        let id = takeEAPID()
        let pkt: EAPPacket
        switch method {
        case .pap:
            pkt = EAPGTC.request(identifier: id)
        case .chap:
            secondAuth.challenge = SecureRandom.bytes(16)
            pkt = EAPPacket(code: .request, identifier: id, type: EAPType.md5Challenge,
                            typeData: EAPMD5Challenge(value: secondAuth.challenge).serialize())
        }
        log(.info, "second authentication of IMSI \(imsi) APN \(apn) as '\(idi2.text)': EAP-Request/\(method.label)", layer: "eap")
        phase = .secondEAPSent(eapID: id)
        sendResponse(to: h, [.eap(pkt.serialize())])
    }

    /// Round 2: the EAP-Response. The username is the round-2 IDi; the password is the GTC
    /// token or proven by the MD5 value.
    func handleSecondEAP(_ h: IKEHeader, _ payloads: [Payload], expectedID: UInt8) {
        guard let method = secondAuth.method, let creds = apnPolicy?.credentials, let idi2 = secondAuth.idi else { return }
        let user = idi2.text
        let who = "IMSI \(imsi) APN \(apn) \(method.label) user '\(user)'"
        func fail(_ why: String) {
            eapFailure(h, id: expectedID, reason: "second authentication failed: \(who): \(why)")
        }
        guard let (pkt, _) = eapResponse(h, payloads, expectedID: expectedID, what: "second authentication: \(who): IKE_AUTH") else { return }
        if pkt.type == EAPType.nak {
            fail("phone refused the method (EAP-Nak, wants \(pkt.typeData.map { EAPType.name($0) ?? "type \($0)" }))"); return
        }
        guard pkt.type == method.eapType else {
            fail("EAP-Response of type \(pkt.type.map { EAPType.name($0) ?? "\($0)" } ?? "-"), expected \(EAPType.name(method.eapType) ?? "")"); return
        }
        let password = Array(creds.password.utf8)
        let passwordOK: Bool
        switch method {
        case .pap:
            passwordOK = constantTimeEqual(pkt.typeData, password)
        case .chap:
            guard let r = try? EAPMD5Challenge(parsing: pkt.typeData), r.value.count == 16 else {
                fail("malformed MD5-Challenge response (\(pkt.typeData.count) bytes)"); return
            }
            let expected = EAPMD5Challenge.responseValue(identifier: expectedID, secret: password, challenge: secondAuth.challenge)
            passwordOK = constantTimeEqual(r.value, expected)
        }
        guard user == creds.username else { fail("unknown username (APN \(apn) expects another)"); return }
        guard passwordOK else { fail("password mismatch"); return }
        secondAuth.authenticatedUser = user
        log(.info, "second authentication success: \(who)", layer: "eap")
        phase = .secondEAPSucceeded
        sendResponse(to: h, [.eap(EAPPacket(code: .success, identifier: expectedID).serialize())])
    }

    /// Round 2, last request: the phone's AUTH keyed with SK_pi; we answer with ours (SK_pr),
    /// the configuration and the Child SA.
    func handleSecondFinalAuth(_ h: IKEHeader, _ payloads: [Payload]) {
        guard let suite, let keys, let idi2 = secondAuth.idi, let idrSent else { return }
        guard let auth = payloads.auth, auth.method == .SHARED_KEY_MIC,
              let octets = authOctets(ofInitiator: true, idPrime: idi2.idPrime),
              constantTimeEqual(AuthComputation.sharedKeyAuth(prf: suite.prf, sharedSecret: keys.SK_pi, signedOctets: octets), auth.data) else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)],
                   reason: "IMSI \(imsi) APN \(apn): initiator AUTH of the second round (keyed with SK_pi, IDi '\(idi2.text)') does not verify"); return
        }
        guard let mine = authOctets(ofInitiator: false, idPrime: idrSent.idPrime) else { return }
        var out: [Payload] = [.auth(AuthPayload(method: .SHARED_KEY_MIC,
                                                data: AuthComputation.sharedKeyAuth(prf: suite.prf, sharedSecret: keys.SK_pr, signedOctets: mine)))]
        establish(h, out: &out)
    }
}
