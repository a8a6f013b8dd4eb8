import AKA
import Crypto
import Wire

/// The ePDG side of one IKE SA: IKE_SA_INIT, IKE_AUTH with EAP-AKA/AKA' against the HSS,
/// MSK-based AUTH, CFG_REPLY and the first Child SA (TS 33.402 §8.2.2, TS 24.302 §7.2.2).
public final class IKEResponderSA: IKESA {
    enum Phase {
        case initDone
        /// Waiting for EAP-Response/AKA-Identity.
        case identityRequested(eapID: UInt8)
        case challengeSent(Challenge)
        case eapSucceeded(msk: [UInt8])
        case established
        case failed
    }
    struct Challenge {
        var eapID: UInt8
        var method: UInt8
        var vector: AuthenticationVector
        var kAut: [UInt8]
        var msk: [UInt8]
        var resynced: Bool
    }

    let policy: IKEResponderPolicy
    let vectors: AuthenticationVectorSource
    let pool: InnerAddressPool
    let signer: IKEAuthSigner?
    let allocateSPI: () -> UInt32
    var phase: Phase = .initDone
    var dh: DHKeyPair?

    // From the first IKE_AUTH request.
    var idi: IDPayload?
    var idrSent: IDPayload?
    var eapIdentity: [UInt8] = []
    var nai: NAI?
    var apnPolicy: APNPolicy?
    var childProposals: [Proposal] = []
    var tsi: [TrafficSelector] = []
    var tsr: [TrafficSelector] = []
    var cpRequest: CPPayload?
    var nextEAPID: UInt8 = 1
    var addresses: InnerAddresses?
    var peerSupportsFragmentation = false
    var establishedAt: Double?
    /// IMEI or IMEISV from N(DEVICE_IDENTITY), if the phone sent one.
    public internal(set) var deviceIdentity: DeviceIdentity?
    /// Set once this SA was rekeyed into `spawned`; it then only waits for the peer's Delete.
    var superseded = false
    var spawned: IKEResponderSA?
    /// Allocates a fresh, unused IKE SPI (set by the owning `IKEResponder`).
    var allocateIKESPI: () -> UInt64 = { max(1, SecureRandom.uint64()) }
    /// The owner's `ike_generate_error` hook.
    var injection: (IKEErrorInjection.Exchange, String?) -> InjectedError? = { _, _ in nil }

    /// Applies the error hook at `step`; true when the message was consumed (ignored or rejected).
    func inject(_ step: IKEErrorInjection.Exchange, _ h: IKEHeader, apn: String?) -> Bool {
        switch injection(step, apn) {
        case nil: return false
        case .ignore:
            log(.info, "ike_generate_error: ignoring \(h.exchangeType) #\(h.messageID) (\(step))")
            expectedPeerRequestID = h.messageID // a retransmission is processed normally
            if h.exchangeType == .IKE_SA_INIT { isDead = true }
            return true
        case let .reject(notifies):
            log(.info, "ike_generate_error: rejecting \(step) with \(notifies.map(\.type.name))")
            if h.exchangeType == .IKE_SA_INIT {
                let m = IKEMessage(header: IKEHeader(spiI: spiI, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: false, isResponse: true, messageID: 0),
                                   payloads: notifies.map { .notify($0) })
                sendPackets([m.serialize()])
                isDead = true
            } else if step == .dpd {
                sendResponse(to: h, notifies.map { .notify($0) })
            } else {
                reject(h, notifies, reason: "ike_generate_error at \(step)")
            }
            return true
        }
    }
    /// RFC 7427 hash IDs the peer announced in IKE_SA_INIT.
    var peerSignatureHashes: [UInt16] = []

    init(policy: IKEResponderPolicy, vectors: AuthenticationVectorSource, pool: InnerAddressPool, signer: IKEAuthSigner?,
         spiI: UInt64, spiR: UInt64, local: IKEEndpoint, remote: IKEEndpoint, now: Double, allocateSPI: @escaping () -> UInt32) {
        self.policy = policy; self.vectors = vectors; self.pool = pool; self.signer = signer; self.allocateSPI = allocateSPI
        super.init(isInitiator: false, spiI: spiI, spiR: spiR, local: local, remote: remote, now: now)
        nextEAPID = UInt8.random(in: 1...200)
    }

    /// Ends the exchange with error notifies and forgets the SA.
    func reject(_ h: IKEHeader, _ notifies: [NotifyPayload], reason: String, extra: [Payload] = []) {
        log(.warning, reason)
        sendResponse(to: h, extra + notifies.map { .notify($0) })
        phase = .failed
        terminate(reason: reason)
    }

    override func handleRequest(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        switch (h.exchangeType, phase) {
        case (.IKE_SA_INIT, _) where h.messageID == 0: handleInit(h, payloads, now: now)
        case (.IKE_AUTH, .initDone): handleFirstAuth(h, payloads)
        case (.IKE_AUTH, .identityRequested(let id)): handleEAP(h, payloads, expectedID: id)
        case (.IKE_AUTH, .challengeSent(let c)): handleEAP(h, payloads, expectedID: c.eapID)
        case (.IKE_AUTH, .eapSucceeded(let msk)): handleFinalAuth(h, payloads, msk: msk)
        case (.CREATE_CHILD_SA, .established):
            answerCreateChild(h, payloads, now: now, dhGroups: policy.ikeDHGroups, lifetime: policy.espLifetime) {
                ProposalSelection.chooseESP($0, policy: self.policy)
            }
        default:
            log(.warning, "unexpected \(h.exchangeType) request in phase \(phase)")
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))])
        }
    }

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
                let shared = try pair.sharedSecret(peerPublicValue: ke.keyData)
                dh = pair
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
                                      .nonce(nr),
                                      .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, local))),
                                      .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, remote)))]
                if signer != nil {
                    // RFC 7427: SHA2-256, SHA2-384, SHA2-512.
                    out.append(.notify(NotifyPayload(.SIGNATURE_HASH_ALGORITHMS, data: [0, 2, 0, 3, 0, 4])))
                }
                if policy.fragmentation && peerSupportsFragmentation { out.append(.notify(NotifyPayload(.IKEV2_FRAGMENTATION_SUPPORTED))) }
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

    // MARK: IKE_AUTH, first request: identities, then the EAP challenge

    func handleFirstAuth(_ h: IKEHeader, _ payloads: [Payload]) {
        if inject(.ike_auth_step1, h, apn: payloads.idr?.text ?? policy.defaultAPN) { return }
        guard let idi = payloads.idi, let sai2 = payloads.sa, let tsiP = payloads.tsi, let tsrP = payloads.tsr else {
            reject(h, [NotifyPayload(.INVALID_SYNTAX)], reason: "IKE_AUTH without IDi, SA, TSi or TSr"); return
        }
        if payloads.auth != nil {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "peer uses AUTH without EAP; only EAP-AKA is accepted"); return
        }
        self.idi = idi
        noteDeviceIdentity(payloads)
        childProposals = sai2.proposals
        tsi = tsiP.selectors; tsr = tsrP.selectors
        cpRequest = payloads.cp
        let apnName = payloads.idr?.text ?? policy.defaultAPN ?? ""
        guard let ap = policy.apn(for: apnName) else {
            reject(h, [NotifyPayload(.NO_APN_SUBSCRIPTION)], reason: "APN '\(apnName)' not configured"); return
        }
        apnPolicy = ap
        apn = ap.name
        let myID = payloads.idr ?? IDPayload(.ID_FQDN, ap.name)
        idrSent = myID
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
        let idText = idi.text
        eapIdentity = idi.data
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
        if let id = DeviceIdentity(notifyData: d) {
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

    func eapFailure(_ h: IKEHeader, id: UInt8, reason: String) {
        reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: reason,
               extra: [.eap(EAPPacket(code: .failure, identifier: id).serialize())])
    }

    // MARK: IKE_AUTH, EAP rounds

    func handleEAP(_ h: IKEHeader, _ payloads: [Payload], expectedID: UInt8) {
        if inject(.ike_auth_step2, h, apn: apn) { return }
        noteDeviceIdentity(payloads)
        guard let bytes = payloads.eap, let pkt = try? EAPPacket(parsing: bytes), pkt.code == .response else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "IKE_AUTH without a valid EAP-Response"); return
        }
        guard pkt.identifier == expectedID else {
            eapFailure(h, id: expectedID, reason: "EAP identifier \(pkt.identifier), expected \(expectedID)"); return
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

    // MARK: IKE_AUTH, last request: AUTH from the MSK, then configuration and the Child SA

    func handleFinalAuth(_ h: IKEHeader, _ payloads: [Payload], msk: [UInt8]) {
        if inject(.ike_auth_step3, h, apn: apn) { return }
        guard let auth = payloads.auth, let idi, let idrSent else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "final IKE_AUTH without AUTH"); return
        }
        guard auth.method == .SHARED_KEY_MIC, let expected = mskAuth(msk: msk, ofInitiator: true, idPrime: idi.idPrime),
              constantTimeEqual(expected, auth.data) else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "initiator AUTH (MSK) does not verify"); return
        }
        guard let myAuth = mskAuth(msk: msk, ofInitiator: false, idPrime: idrSent.idPrime) else { return }
        var out: [Payload] = [.auth(AuthPayload(method: .SHARED_KEY_MIC, data: myAuth))]
        isEstablished = true
        establishedAt = lastActivity
        phase = .established

        // Configuration payload.
        var wantV4 = true, wantV6 = false
        if let cp = cpRequest {
            wantV4 = cp.has(CPPayload.Attribute.INTERNAL_IP4_ADDRESS)
            wantV6 = cp.has(CPPayload.Attribute.INTERNAL_IP6_ADDRESS)
        }
        var childOK = true
        do {
            let a = try pool.allocate(imsi: imsi, apn: apn, wantIPv4: wantV4, wantIPv6: wantV6)
            addresses = a
            if cpRequest != nil { out.append(.cp(configReply(a))) }
        } catch {
            log(.warning, "address allocation failed for IMSI \(imsi) APN \(apn): \(error)")
            out.append(.notify(NotifyPayload(.INTERNAL_ADDRESS_FAILURE)))
            childOK = false
        }
        if childOK, let child = makeChild(&out) {
            children.append(child)
            childCreatedAt[child.inboundSPI] = lastActivity
            actions.append(.installChildSA(child))
        }
        sendResponse(to: h, out)
        log(.info, "IKE SA established for IMSI \(imsi) APN \(apn)" + (addresses?.ipv4.map { " inner \($0)" } ?? "") + (addresses?.ipv6.map { " inner \($0)" } ?? ""))
        if let i = info() { actions.append(.ikeSAEstablished(i)) }
    }

    func configReply(_ a: InnerAddresses) -> CPPayload {
        typealias A = CPPayload.Attribute
        var attrs: [A] = []
        guard let req = cpRequest, let ap = apnPolicy else { return CPPayload(cfgType: CPPayload.CFG_REPLY, attributes: []) }
        if let v4 = a.ipv4, req.has(A.INTERNAL_IP4_ADDRESS) { attrs.append(A(A.INTERNAL_IP4_ADDRESS, v4.bytes)) }
        if a.ipv4 != nil, req.has(A.INTERNAL_IP4_NETMASK) { attrs.append(A(A.INTERNAL_IP4_NETMASK, [255, 255, 255, 255])) }
        if let v6 = a.ipv6, req.has(A.INTERNAL_IP6_ADDRESS) { attrs.append(A(A.INTERNAL_IP6_ADDRESS, v6.bytes + [a.ipv6PrefixLength])) }
        if req.has(A.INTERNAL_IP4_DNS) { for d in ap.dnsServers where d.isIPv4 { attrs.append(A(A.INTERNAL_IP4_DNS, d.bytes)) } }
        if req.has(A.INTERNAL_IP6_DNS) { for d in ap.dnsServers where d.isIPv6 { attrs.append(A(A.INTERNAL_IP6_DNS, d.bytes)) } }
        let v4Types = Set([A.P_CSCF_IP4_ADDRESS] + (policy.pcscfIPv4AttributeType.map { [$0] } ?? []))
        let v6Types = Set([A.P_CSCF_IP6_ADDRESS] + (policy.pcscfIPv6AttributeType.map { [$0] } ?? []))
        var answered = Set<UInt16>()
        for r in req.attributes where !answered.contains(r.type) {
            if v4Types.contains(r.type) {
                let t = policy.pcscfIPv4AttributeType ?? r.type
                for p in ap.pcscfAddresses where p.isIPv4 { attrs.append(A(t, p.bytes)) }
                answered.formUnion(v4Types)
            } else if v6Types.contains(r.type) {
                let t = policy.pcscfIPv6AttributeType ?? r.type
                for p in ap.pcscfAddresses where p.isIPv6 { attrs.append(A(t, p.bytes)) }
                answered.formUnion(v6Types)
            }
        }
        return CPPayload(cfgType: CPPayload.CFG_REPLY, attributes: attrs)
    }

    /// Chooses the ESP proposal, narrows TSi to the assigned addresses and TSr to what was asked,
    /// derives KEYMAT. Appends SA/TSi/TSr (or an error notify) to `out`.
    func makeChild(_ out: inout [Payload]) -> ChildSADescription? {
        guard let suite, let keys else { return nil }
        guard let (esp, offered) = ProposalSelection.chooseESP(childProposals, policy: policy) else {
            log(.warning, "Child SA NO_PROPOSAL_CHOSEN: offered \(ProposalSelection.describe(childProposals)); accepted \(policy.espEncryption.map(\.description)) \(policy.espIntegrity.map { $0?.description ?? "null" })")
            out.append(.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN)))
            return nil
        }
        var narrowedI: [TrafficSelector] = []
        var families: [Bool] = [] // isIPv4
        if let a = addresses {
            if let v4 = a.ipv4 {
                let mine = TrafficSelector.single(v4)
                narrowedI += tsi.compactMap { $0.intersection(mine) }.prefix(1)
                families.append(true)
            }
            if let v6 = a.ipv6 {
                let mine = prefixRange(v6, a.ipv6PrefixLength)
                narrowedI += tsi.compactMap { $0.intersection(mine) }.prefix(1)
                families.append(false)
            }
        } else {
            narrowedI = tsi
            families = [true, false]
        }
        let narrowedR = tsr.filter { ts in families.contains(ts.isIPv4) }
        guard !narrowedI.isEmpty, !narrowedR.isEmpty else {
            log(.warning, "TS_UNACCEPTABLE: TSi \(tsi.map(\.description)) TSr \(tsr.map(\.description)) vs assigned \(String(describing: addresses))")
            out.append(.notify(NotifyPayload(.TS_UNACCEPTABLE)))
            return nil
        }
        let ck: ChildKeys
        do { ck = try KeySchedule.childKeys(prf: suite.prf, skD: keys.SK_d, ni: ni, nr: nr, suite: esp) } catch {
            log(.error, "Child SA key derivation failed: \(error)"); return nil
        }
        let mySPI = allocateSPI()
        let chosen = Proposal(number: offered.number, protocolID: .ESP, spi: be32(mySPI), transforms: esp.transforms)
        out += [.sa(SAPayload(proposals: [chosen])), .tsi(TSPayload(narrowedI)), .tsr(TSPayload(narrowedR))]
        return ChildSADescription(ikeSPIi: spiI, ikeSPIr: spiR, inboundSPI: mySPI, outboundSPI: u32(offered.spi), suite: esp,
                                  inboundEncryptionKey: ck.encryptionI, inboundIntegrityKey: ck.integrityI,
                                  outboundEncryptionKey: ck.encryptionR, outboundIntegrityKey: ck.integrityR,
                                  localTS: narrowedR, remoteTS: narrowedI, local: local, remote: remote, udpEncapsulation: udpEncapsulation,
                                  innerIPv4: addresses?.ipv4, innerIPv6: addresses?.ipv6, lifetimeSeconds: policy.espLifetime, imsi: imsi, apn: apn)
    }

    // MARK: CREATE_CHILD_SA (Child SA rekey, RFC 7296 §1.3.3 / §2.8)

    override func allocateChildSPI() -> UInt32 { allocateSPI() }

    override func handleInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if payloads.isEmpty, inject(.dpd, h, apn: apn) { return }
        super.handleInformational(h, payloads, now: now)
    }

    override func answerIKERekey(_ h: IKEHeader, _ payloads: [Payload], now: Double) { answerIKERekeyAsResponder(h, payloads, now: now) }

    override func released() {
        if let a = addresses { pool.release(a, imsi: imsi, apn: apn); addresses = nil }
    }

    /// Half-open SAs expire; established ones get DPD when idle.
    func poll(now: Double) {
        pollTimers(now: now)
        guard !isDead else { return }
        if superseded {
            if now - lastActivity >= policy.halfOpenTimeout { terminate(reason: "superseded by rekey; old SA not deleted by peer") }
            return
        }
        if !isEstablished, now - createdAt >= policy.halfOpenTimeout {
            terminate(reason: "IKE_AUTH not completed within \(Int(policy.halfOpenTimeout)) s")
        } else if isEstablished, let t = establishedAt, policy.ikeLifetime > 0, now - t >= Double(policy.ikeLifetime) {
            // IKE SA rekeying from this side is not implemented: end the SA; the phone re-attaches.
            _ = delete(now: now)
        } else if isEstablished, pending == nil, rekey == nil, let (spi, t) = oldestChild, policy.espLifetime > 0, now - t >= childRekeyAge {
            log(.info, "Child SA in=0x\(String(spi, radix: 16)) reached esp lifetime \(policy.espLifetime) s: rekeying")
            startChildRekey(now: now, inboundSPI: spi, pfsGroup: nil)
        } else if isEstablished, pending == nil, policy.dpdInterval > 0, now - lastActivity >= Double(policy.dpdInterval) {
            sendDPD(now: now)
        }
    }

    /// Child SAs are rekeyed at 90% of `espLifetime`, before the ESP layer's hard expiry.
    var childRekeyAge: Double { Double(policy.espLifetime) * 0.9 }

    var oldestChild: (UInt32, Double)? { childCreatedAt.min { $0.value < $1.value }.map { ($0.key, $0.value) } }

    override func handleResponse(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if h.exchangeType == .CREATE_CHILD_SA { handleRekeyResponse(payloads, now: now) }
    }

    var wakeup: Double? {
        if isDead { return nil }
        if let t = nextDeadline { return isEstablished ? t : min(t, createdAt + policy.halfOpenTimeout) }
        if superseded { return lastActivity + policy.halfOpenTimeout }
        if !isEstablished { return createdAt + policy.halfOpenTimeout }
        var times: [Double] = []
        if policy.dpdInterval > 0 { times.append(lastActivity + Double(policy.dpdInterval)) }
        if policy.espLifetime > 0, let (_, c) = oldestChild { times.append(c + childRekeyAge) }
        if policy.ikeLifetime > 0, let e = establishedAt { times.append(e + Double(policy.ikeLifetime)) }
        return times.min()
    }
}

/// The address range of `prefixLength` around `a`.
func prefixRange(_ a: IPAddress, _ prefixLength: UInt8) -> TrafficSelector {
    var lo = a.bytes, hi = a.bytes
    for bit in min(Int(prefixLength), lo.count * 8)..<(lo.count * 8) {
        lo[bit / 8] &= ~(0x80 >> UInt8(bit % 8))
        hi[bit / 8] |= (0x80 >> UInt8(bit % 8))
    }
    return TrafficSelector(startAddress: IPAddress(bytes: lo) ?? a, endAddress: IPAddress(bytes: hi) ?? a)
}
