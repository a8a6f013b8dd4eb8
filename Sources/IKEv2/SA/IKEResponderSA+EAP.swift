import AKA
import Crypto
import Wire

/// IKE_AUTH with EAP-AKA / EAP-AKA' on the ePDG: identities, vectors from the HSS, the
/// challenge, resync, and EAP-Success/Failure (RFC 4187, RFC 5448, TS 33.402 §8.2.2).
extension IKEResponderSA {
    // MARK: IKE_AUTH, first request: identities, then the EAP challenge

    func handleFirstAuth(_ h: IKEHeader, _ payloads: [Payload]) {
        if inject(.ike_auth_step1, h, apn: payloads.idr?.text ?? policy.defaultAPN) { return }
        guard let idi = payloads.idi, let sai2 = payloads.sa, let tsiP = payloads.tsi, let tsrP = payloads.tsr else {
            reject(h, [NotifyPayload(.INVALID_SYNTAX)], reason: "IKE_AUTH without IDi, SA, TSi or TSr"); return
        }
        if payloads.auth != nil, policy.peerCertificates == nil {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "peer uses AUTH without EAP; only EAP-AKA is accepted"); return
        }
        self.idi = idi
        initialContact = payloads.has(.INITIAL_CONTACT)
        peerOffersMOBIKE = payloads.has(.MOBIKE_SUPPORTED)
        secondAuth.anotherAuthFollows = payloads.has(.ANOTHER_AUTH_FOLLOWS)
        noteDeviceIdentity(payloads)
        childProposals = sai2.proposals
        tsi = tsiP.selectors; tsr = tsrP.selectors
        cpRequest = payloads.cp
        // TS 24.302 §7.2.2: no IDr asks for the default APN: `defaultAPN`, else the first one
        // configured (the callbox's "first entry of pdn_list").
        let apnName = payloads.idr?.text ?? policy.defaultAPN ?? policy.apns.first?.name ?? ""
        if payloads.idr == nil { log(.info, "IKE_AUTH without IDr: default APN '\(apnName)'") }
        guard let ap = policy.apn(for: apnName) else {
            reject(h, [NotifyPayload(.NO_APN_SUBSCRIPTION)], reason: "APN '\(apnName)' not configured"); return
        }
        apnPolicy = ap
        apn = ap.name
        let myID = payloads.idr ?? IDPayload(.ID_FQDN, ap.name)
        idrSent = myID
        if let auth = payloads.auth, let trust = policy.peerCertificates {
            handleCertificateAuth(h, payloads, auth: auth, idi: idi, myID: myID, trust: trust)
            return
        }
        var out: [Payload] = [.idr(myID)]
        let eapOnly = payloads.has(.EAP_ONLY_AUTHENTICATION)
        if let signer, !policy.omitAuthInFirstAuthResponse {
            do {
                guard let octets = authOctets(ofInitiator: false, idPrime: myID.idPrime) else { return }
                out.append(.cert(CertPayload(encoding: CertPayload.X509_SIGNATURE, data: signer.certificateDER)))
                out.append(.auth(try signer.sign(octets, peerHashes: peerSignatureHashes)))
            } catch {
                reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "cannot sign AUTH: \(error)"); return
            }
        } else if !eapOnly {
            log(.warning, "peer did not offer EAP_ONLY_AUTHENTICATION and the ePDG has no certificate AUTH: sending no AUTH")
        }
        if deviceIdentity == nil, policy.requestDeviceIdentity {
            out.append(.notify(NotifyPayload(.DEVICE_IDENTITY, data: DeviceIdentity(kind: .imei, digits: "").notifyData)))
        }
        var idText = idi.text
        eapIdentity = idi.data
        if NAI(idText) == nil, let e = payloads.eap, let p = try? EAPPacket(parsing: e), p.code == .response, p.type == 1,
           NAI(String(decoding: p.typeData, as: UTF8.self)) != nil {
            // Some phones put the NAI in an EAP-Response/Identity next to an IDi of another form;
            // it is then the identity the EAP-AKA keys are bound to (RFC 4187 §7).
            idText = String(decoding: p.typeData, as: UTF8.self)
            eapIdentity = p.typeData
            log(.info, "IDi \(idi) is no NAI; using the EAP-Response/Identity '\(idText)'", layer: "eap")
        }
        guard let n = NAI(idText) else {
            // Not a permanent identity: ask for it (RFC 4187 §4.1.4).
            let id = takeEAPID()
            let req = EAPAKAMessage(subtype: .identity, attributes: [.AT_PERMANENT_ID_REQ])
            out.append(.eap(req.packet(code: .request, identifier: id, method: EAPType.aka)))
            log(.info, "IDi '\(idText)' is not a permanent NAI: EAP-Request/AKA-Identity", layer: "eap")
            phase = .identityRequested(eapID: id)
            sendResponse(to: h, out)
            return
        }
        startChallenge(h, nai: n, out: out, resynced: false)
    }

    /// Records the IMEI/IMEISV a phone sends in N(DEVICE_IDENTITY) (TS 24.302 §8.2.9.2).
    func noteDeviceIdentity(_ payloads: [Payload]) {
        guard let d = payloads.notify(.DEVICE_IDENTITY)?.data, !d.isEmpty else { return }
        if let id = DeviceIdentity(notifyData: d), !id.digits.isEmpty {
            deviceIdentity = id
            log(.info, "device identity \(id)")
        } else {
            log(.warning, "malformed DEVICE_IDENTITY \(d.hexString)")
        }
    }

    func takeEAPID() -> UInt8 { defer { nextEAPID &+= 1 }; return nextEAPID }

    /// Gets a vector and answers with EAP-Request/AKA-Challenge (or AKA'-Challenge).
    func startChallenge(_ h: IKEHeader, nai n: NAI, out: [Payload], resynced: Bool) {
        nai = n
        imsi = n.imsi
        let vector: AuthenticationVector
        do {
            vector = try vectors.vector(imsi: n.imsi)
        } catch let e as AuthenticationVectorError {
            let t: NotifyType
            switch e {
            case .userUnknown: t = .USER_UNKNOWN
            case .accessNotAllowed: t = .NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED
            case .resyncFailed: t = .AUTHENTICATION_FAILED
            case .failure: t = .NETWORK_FAILURE
            }
            reject(h, [NotifyPayload(t)], reason: "no vector for IMSI \(n.imsi): \(e)"); return
        } catch {
            reject(h, [NotifyPayload(.NETWORK_FAILURE)], reason: "no vector for IMSI \(n.imsi): \(error)"); return
        }
        let id = takeEAPID()
        let method = n.method == .aka ? EAPType.aka : EAPType.akaPrime
        var attrs: [AKAAttribute] = [.AT_RAND(vector.rand), .AT_AUTN(vector.autn)]
        let kAut: [UInt8], msk: [UInt8]
        do {
            if method == EAPType.aka {
                let k = try EAPAKAKeys.derive(identity: eapIdentity, ik: vector.ik, ck: vector.ck)
                kAut = k.kAut; msk = k.msk
            } else {
                let p = try EAPAKAPrimeKeys.ckIKPrime(ck: vector.ck, ik: vector.ik, accessNetworkName: policy.accessNetworkName, sqnXorAK: vector.sqnXorAK)
                let k = try EAPAKAPrimeKeys.derive(identity: eapIdentity, ckPrime: p.ckPrime, ikPrime: p.ikPrime)
                kAut = k.kAut; msk = k.msk
                attrs += [.AT_KDF(1), .AT_KDF_INPUT(Array(policy.accessNetworkName.utf8))]
            }
        } catch {
            reject(h, [NotifyPayload(.NETWORK_FAILURE)], reason: "EAP key derivation failed: \(error)"); return
        }
        attrs.append(.AT_MAC([]))
        let macFn: ([UInt8]) -> [UInt8] = method == EAPType.aka
            ? { EAPAKAKeys.atMAC(kAut: kAut, packet: $0) } : { EAPAKAPrimeKeys.atMAC(kAut: kAut, packet: $0) }
        let pkt = EAPAKAMessage(subtype: .challenge, attributes: attrs).packet(code: .request, identifier: id, method: method, mac: macFn)
        log(.info, "\(method == EAPType.aka ? "EAP-AKA" : "EAP-AKA'") challenge for IMSI \(n.imsi) (SQN \(vector.sqn))", layer: "eap")
        phase = .challengeSent(Challenge(eapID: id, method: method, vector: vector, kAut: kAut, msk: msk, resynced: resynced))
        sendResponse(to: h, out + [.eap(pkt)])
    }

    /// Drops an EAP packet the authenticator must silently discard: the IKE request is not
    /// answered and its Message ID stays expected, so the phone's retransmission is processed.
    func discardEAP(_ h: IKEHeader, _ why: String) {
        log(.warning, why + ": EAP packet discarded", layer: "eap")
        expectedPeerRequestID = h.messageID
    }

    /// The EAP-Response of an IKE_AUTH request, framed per RFC 3748 §4.1: octets beyond the
    /// EAP Length are padding; a Length beyond the octets received, or an Identifier that does
    /// not match the outstanding Request, means the packet is silently discarded (the phone
    /// may retransmit a good one); no EAP-Response at all ends the exchange. Returns the packet
    /// and its octets (without padding, for AT_MAC), or nil when already handled.
    func eapResponse(_ h: IKEHeader, _ payloads: [Payload], expectedID: UInt8, what: String) -> (EAPPacket, [UInt8])? {
        guard var bytes = payloads.eap, bytes.count >= 4 else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "\(what) without a valid EAP-Response"); return nil
        }
        let eapLength = Int(bytes[2]) << 8 | Int(bytes[3])
        if eapLength > bytes.count || eapLength < 4 {
            discardEAP(h, "EAP Length \(eapLength) but the EAP payload has \(bytes.count) octets"); return nil
        }
        bytes = Array(bytes.prefix(eapLength))
        guard let pkt = try? EAPPacket(parsing: bytes), pkt.code == .response else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "\(what) without a valid EAP-Response"); return nil
        }
        guard pkt.identifier == expectedID else {
            discardEAP(h, "EAP identifier \(pkt.identifier), expected \(expectedID)"); return nil
        }
        return (pkt, bytes)
    }

    func eapFailure(_ h: IKEHeader, id: UInt8, reason: String) {
        reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: reason,
               extra: [.eap(EAPPacket(code: .failure, identifier: id).serialize())])
    }

    // MARK: IKE_AUTH, EAP rounds

    func handleEAP(_ h: IKEHeader, _ payloads: [Payload], expectedID: UInt8) {
        if inject(.ike_auth_step2, h, apn: apn) { return }
        noteDeviceIdentity(payloads)
        guard let (pkt, bytes) = eapResponse(h, payloads, expectedID: expectedID, what: "IKE_AUTH") else { return }
        if pkt.type == EAPType.nak {
            eapFailure(h, id: expectedID, reason: "EAP-Response/Nak: phone wants EAP types \(pkt.typeData.map(Int.init)), the ePDG offers only AKA/AKA'"); return
        }
        guard pkt.type == EAPType.aka || pkt.type == EAPType.akaPrime, let msg = try? EAPAKAMessage(parsing: pkt.typeData) else {
            eapFailure(h, id: expectedID, reason: "EAP-Response of type \(pkt.type.map(String.init) ?? "-") is not AKA/AKA' (or malformed)"); return
        }
        log(.debug, "EAP-Response/\(msg.subtype)", layer: "eap")
        switch (phase, msg.subtype) {
        case (.identityRequested, .identity):
            guard let idBytes = msg.identity, let n = NAI(String(decoding: idBytes, as: UTF8.self)) else {
                eapFailure(h, id: expectedID, reason: "AKA-Identity without a permanent identity"); return
            }
            eapIdentity = idBytes
            startChallenge(h, nai: n, out: [], resynced: false)
        case let (.challengeSent(c), .challenge):
            guard pkt.type == c.method, let off = msg.macValueOffset() else {
                eapFailure(h, id: c.eapID, reason: "challenge response without AT_MAC or of the wrong method"); return
            }
            let macOK = c.method == EAPType.aka
                ? EAPAKAKeys.verifyATMAC(kAut: c.kAut, packet: bytes, macOffset: off)
                : EAPAKAPrimeKeys.verifyATMAC(kAut: c.kAut, packet: bytes, macOffset: off)
            guard macOK else { eapFailure(h, id: c.eapID, reason: "AT_MAC of the challenge response does not verify"); return }
            guard let res = msg.res, constantTimeEqual(res, c.vector.xres) else {
                eapFailure(h, id: c.eapID, reason: "RES does not match XRES for IMSI \(imsi)"); return
            }
            log(.info, "EAP-AKA\(c.method == EAPType.akaPrime ? "'" : "") success for IMSI \(imsi)", layer: "eap")
            phase = .eapSucceeded(msk: c.msk)
            sendResponse(to: h, [.eap(EAPPacket(code: .success, identifier: c.eapID).serialize())])
        case let (.challengeSent(c), .synchronizationFailure):
            guard let auts = msg.auts, !c.resynced, let n = nai else {
                eapFailure(h, id: c.eapID, reason: "synchronization failure without AUTS or after a resync"); return
            }
            do {
                try vectors.resync(imsi: n.imsi, rand: c.vector.rand, auts: auts)
            } catch {
                eapFailure(h, id: c.eapID, reason: "resync for IMSI \(n.imsi) refused: \(error)"); return
            }
            log(.info, "SQN resynchronised for IMSI \(n.imsi); new challenge", layer: "eap")
            startChallenge(h, nai: n, out: [], resynced: true)
        case let (.challengeSent(c), .authenticationReject):
            eapFailure(h, id: c.eapID, reason: "phone rejected the network (AKA-Authentication-Reject, AUTN MAC failure)")
        case (_, .clientError):
            eapFailure(h, id: expectedID, reason: "AKA-Client-Error code \(msg.clientErrorCode.map(String.init) ?? "?")")
        default:
            eapFailure(h, id: expectedID, reason: "unexpected \(msg.subtype)")
        }
    }
}
