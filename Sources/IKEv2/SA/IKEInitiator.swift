import AKA
import Crypto
import Wire

/// What the simulated phone asks for.
public struct IKEInitiatorConfig: Sendable {
    public var imsi: String
    public var mcc: String
    public var mnc: String
    /// EAP-AKA' (NAI prefix 6) instead of EAP-AKA (prefix 0).
    public var useAKAPrime: Bool
    /// IDr: the APN, sent as ID_FQDN.
    public var apn: String
    /// IKE proposals in order; the first one's group is used for the first KE.
    public var ikeSuites: [IKESuite]
    public var espSuites: [ESPSuite]
    public var requestIPv4: Bool
    public var requestIPv6: Bool
    public var requestPCSCF: Bool
    /// CP attribute types used to ask for P-CSCF addresses (20/21, or a private pair).
    public var pcscfIPv4AttributeType: UInt16
    public var pcscfIPv6AttributeType: UInt16
    /// Send N(EAP_ONLY_AUTHENTICATION) (RFC 5998), as Android and Samsung phones do.
    public var eapOnly: Bool
    public var accessNetworkName: String
    /// Local port to move to when a NAT is detected.
    public var natTraversalPort: UInt16
    public var retransmitTimeout: Double
    public var maxRetransmits: Int
    /// Sent as N(DEVICE_IDENTITY) in the first IKE_AUTH request when set.
    public var deviceIdentity: DeviceIdentity? = nil

    // Handset-profile knobs: raw wire forms that replace the ones built from the fields above.
    /// IKE_SA_INIT SA payload as a real phone sends it (several transforms per proposal); the
    /// first KE uses the first D-H transform of the first proposal.
    public var ikeSAOverride: SAPayload? = nil
    /// ESP proposals for IKE_AUTH; their SPI is replaced by ours.
    public var espProposalsOverride: [Proposal]? = nil
    /// CP(CFG_REQUEST) attribute types, in order (empty values).
    public var cpRequestAttributes: [UInt16]? = nil
    /// Notifies of the first IKE_AUTH request (default INITIAL_CONTACT, EAP_ONLY_AUTHENTICATION if `eapOnly`).
    public var authNotifies: [NotifyPayload]? = nil
    /// IDi type and text (default ID_RFC822_ADDR with the NAI; e.g. an emergency NAI).
    public var idiType: IDType = .ID_RFC822_ADDR
    public var identity: String? = nil
    /// IDr type and text (default ID_FQDN with the APN).
    public var idrType: IDType = .ID_FQDN
    public var idrValue: String? = nil

    public init(imsi: String, mcc: String, mnc: String, useAKAPrime: Bool = false, apn: String = "ims",
                ikeSuites: [IKESuite] = [IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .modp2048)],
                espSuites: [ESPSuite] = [ESPSuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96)],
                requestIPv4: Bool = true, requestIPv6: Bool = false, requestPCSCF: Bool = true,
                pcscfIPv4AttributeType: UInt16 = CPPayload.Attribute.P_CSCF_IP4_ADDRESS,
                pcscfIPv6AttributeType: UInt16 = CPPayload.Attribute.P_CSCF_IP6_ADDRESS,
                eapOnly: Bool = true, accessNetworkName: String = "WLAN", natTraversalPort: UInt16 = 4500,
                retransmitTimeout: Double = 2, maxRetransmits: Int = 5) {
        self.imsi = imsi; self.mcc = mcc; self.mnc = mnc; self.useAKAPrime = useAKAPrime; self.apn = apn
        self.ikeSuites = ikeSuites; self.espSuites = espSuites
        self.requestIPv4 = requestIPv4; self.requestIPv6 = requestIPv6; self.requestPCSCF = requestPCSCF
        self.pcscfIPv4AttributeType = pcscfIPv4AttributeType; self.pcscfIPv6AttributeType = pcscfIPv6AttributeType
        self.eapOnly = eapOnly; self.accessNetworkName = accessNetworkName; self.natTraversalPort = natTraversalPort
        self.retransmitTimeout = retransmitTimeout; self.maxRetransmits = maxRetransmits
    }

    public var nai: NAI { NAI(method: useAKAPrime ? .akaPrime : .aka, imsi: imsi, mcc: mcc, mnc: mnc) }
}

/// What the network gave the phone in CFG_REPLY.
public struct AssignedConfiguration: Sendable, Equatable {
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    public var ipv6PrefixLength: UInt8?
    public var dns: [IPAddress] = []
    public var pcscf: [IPAddress] = []
}

/// The phone side of SWu: IKE_SA_INIT, IKE_AUTH with EAP-AKA/AKA' answered by a software
/// USIM, MSK AUTH, configuration and the Child SA. Mirrors `IKEResponderSA`.
public final class IKEInitiator: IKESA {
    public enum State: Equatable, Sendable {
        case idle, initSent, authSent, eapInProgress, finalAuthSent, established
        /// `notify` is the error notify that ended it, if any.
        case failed(reason: String, notify: NotifyType?)
    }

    public let config: IKEInitiatorConfig
    public private(set) var usim: USIM
    public private(set) var state: State = .idle
    public private(set) var assigned: AssignedConfiguration?
    public private(set) var kePreference: DHGroup
    var dh: DHKeyPair?
    var idiSent: IDPayload
    var msk: [UInt8]?
    var childSPI: UInt32 = 0
    var tsiSent: [TrafficSelector] = []
    var tsrSent: [TrafficSelector] = []
    var keRetries = 0
    struct IKERekeyContext { var spiI: UInt64; var nonce: [UInt8]; var dh: DHKeyPair; var suite: IKESuite }
    var ikeRekey: IKERekeyContext?
    var responderSignatureChecked = false
    /// Whether the ePDG authenticated with a certificate signature (false: EAP-only).
    public var responderUsedCertificate: Bool { responderSignatureChecked }

    public init(config: IKEInitiatorConfig, usim: USIM, local: IKEEndpoint, remote: IKEEndpoint, now: Double) {
        self.config = config
        self.usim = usim
        kePreference = config.ikeSAOverride?.proposals.first?.transforms(.DH).first.flatMap { DHGroup(rawValue: $0.id) }
            ?? config.ikeSuites.first?.dhGroup ?? .modp2048
        idiSent = IDPayload(config.idiType, config.identity ?? config.nai.description)
        super.init(isInitiator: true, spiI: max(1, SecureRandom.uint64()), spiR: 0, local: local, remote: remote, now: now)
        retransmitBase = config.retransmitTimeout
        maxRetransmits = config.maxRetransmits
    }

    func fail(_ reason: String, notify: NotifyType? = nil) {
        state = .failed(reason: reason, notify: notify)
        log(.warning, "attach failed: \(reason)")
        terminate(reason: reason)
    }

    /// Sends IKE_SA_INIT.
    public func start(now: Double) -> [IKEAction] {
        do {
            let pair = try DHKeyPair(group: kePreference)
            dh = pair
            ni = SecureRandom.bytes(32)
            spiR = 0
            let proposals = config.ikeSuites.enumerated().map { i, s in
                Proposal(number: UInt8(i + 1), protocolID: .IKE, transforms: s.transforms)
            }
            initPayloads = [
                .sa(config.ikeSAOverride ?? SAPayload(proposals: proposals)), .ke(KEPayload(dhGroup: kePreference.rawValue, keyData: pair.publicValue)), .nonce(ni),
                .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: NATDetection.hash(spiI: spiI, spiR: 0, local))),
                .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: 0, remote))),
                .notify(NotifyPayload(.IKEV2_FRAGMENTATION_SUPPORTED)),
                .notify(NotifyPayload(.SIGNATURE_HASH_ALGORITHMS, data: [0, 2, 0, 3, 0, 4])),
            ]
            cookie = nil
            sendInit(now: now)
        } catch {
            fail("cannot create DH key pair: \(error)")
        }
        return drain()
    }

    var initPayloads: [Payload] = []
    var cookie: [UInt8]?
    var cookieRetries = 0

    func sendInit(now: Double) {
        nextRequestID = 0
        let h = header(.IKE_SA_INIT, response: false, id: 0)
        let payloads = (cookie.map { [Payload.notify(NotifyPayload(.COOKIE, data: $0))] } ?? []) + initPayloads
        initRequestBytes = IKEMessage(header: h, payloads: payloads).serialize()
        nextRequestID = 1
        pending = Pending(id: 0, exchange: .IKE_SA_INIT, packets: [initRequestBytes], sentAt: now, retries: 0)
        log(.info, "send IKE_SA_INIT (\(config.ikeSuites.map(\.description)), KE \(kePreference))" + (cookie == nil ? "" : " with COOKIE"))
        sendPackets([initRequestBytes])
        actions.append(.armTimer(at: now + retransmitBase))
        state = .initSent
    }

    /// Feeds one datagram from the ePDG (without the non-ESP marker).
    public func handle(datagram: [UInt8], from: IKEEndpoint, to: IKEEndpoint, now: Double) -> [IKEAction] {
        guard !isDead else { return [] }
        let m: IKEMessage
        do { m = try IKEMessage(parsing: datagram) } catch {
            log(.warning, "dropping datagram: \(error)"); return drain()
        }
        guard m.header.spiI == spiI else { log(.debug, "not our SPIi"); return drain() }
        if m.header.exchangeType == .IKE_SA_INIT, m.header.isResponse, spiR == 0 || m.header.spiR == 0 || m.header.spiR == spiR {
            // SPIr is learnt from this response (or is 0 for a stateless error).
            if pending?.exchange == .IKE_SA_INIT { spiR = m.header.spiR }
        }
        guard m.header.spiR == spiR || m.header.exchangeType == .IKE_SA_INIT else { log(.debug, "not our SPIr"); return drain() }
        receive(datagram, message: m, from: from, to: to, now: now)
        return drain()
    }

    public func poll(now: Double) -> [IKEAction] {
        pollTimers(now: now)
        if isDead, case .failed = state {} else if isDead { state = .failed(reason: "peer not responding", notify: nil) }
        return drain()
    }

    public var wakeup: Double? { nextDeadline }

    override func handleResponse(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if h.exchangeType == .IKE_SA_INIT, state == .initSent, let c = payloads.notify(.COOKIE), cookieRetries < 2 {
            // RFC 7296 §2.6: repeat the same request with the cookie first.
            cookieRetries += 1
            cookie = c.data
            log(.info, "responder asked for a COOKIE; retrying IKE_SA_INIT")
            spiR = 0
            sendInit(now: now)
            return
        }
        if let err = payloads.notifies.first(where: { $0.type.isError }), h.exchangeType == .IKE_SA_INIT || h.exchangeType == .IKE_AUTH {
            if h.exchangeType == .IKE_SA_INIT, err.type == .INVALID_KE_PAYLOAD, err.data.count == 2, keRetries < 2,
               let g = DHGroup(rawValue: UInt16(err.data[0]) << 8 | UInt16(err.data[1])) {
                keRetries += 1
                log(.info, "INVALID_KE_PAYLOAD: retrying with \(g)")
                kePreference = g
                spiR = 0
                actions += start(now: now)
                return
            }
            // EAP-Failure may accompany AUTHENTICATION_FAILED.
            fail("\(h.exchangeType) rejected with \(err.type.name)", notify: err.type)
            return
        }
        switch (h.exchangeType, state) {
        case (.IKE_SA_INIT, .initSent): handleInitResponse(payloads, now: now)
        case (.IKE_AUTH, .authSent), (.IKE_AUTH, .eapInProgress): handleEAPRequest(payloads, now: now)
        case (.IKE_AUTH, .finalAuthSent): handleFinalAuthResponse(payloads)
        case (.INFORMATIONAL, _): break
        case (.CREATE_CHILD_SA, .established):
            if ikeRekey != nil { handleIKERekeyResponse(payloads, now: now) } else { handleRekeyResponse(payloads, now: now) }
        default: log(.warning, "unexpected \(h.exchangeType) response in state \(state)")
        }
    }

    func handleInitResponse(_ payloads: [Payload], now: Double) {
        guard let sa = payloads.sa, let p = sa.proposals.first, let ke = payloads.ke, let nonce = payloads.nonce, let dh else {
            fail("IKE_SA_INIT response without SA, KE or Nr"); return
        }
        initResponseBytes = lastReceivedRaw
        guard let encT = p.transforms(.ENCR).first, let prfT = p.transforms(.PRF).first,
              let enc = try? EncryptionAlgorithm(transformID: encT.id, keyLength: encT.keyLength.map(Int.init)),
              let prf = PseudoRandomFunction(rawValue: prfT.id), let group = DHGroup(rawValue: ke.dhGroup), group == dh.group else {
            fail("IKE_SA_INIT response chose an unusable proposal \(p)"); return
        }
        let integ = p.transforms(.INTEG).first.flatMap { IntegrityAlgorithm(rawValue: $0.id) }
        let suite = IKESuite(encryption: enc, integrity: integ, prf: prf, dhGroup: group)
        guard config.ikeSuites.contains(where: { $0.encryption == suite.encryption && $0.integrity == suite.integrity && $0.prf == suite.prf })
                || config.ikeSuites.isEmpty || config.ikeSAOverride != nil else {
            fail("responder chose \(suite), which was not offered"); return
        }
        do {
            nr = nonce
            try deriveKeys(suite: suite, sharedSecret: try dh.sharedSecret(peerPublicValue: ke.keyData))
        } catch { fail("key exchange failed: \(error)"); return }
        if let dst = payloads.notify(.NAT_DETECTION_DESTINATION_IP)?.data {
            natDetected = dst != NATDetection.hash(spiI: spiI, spiR: spiR, local)
        }
        if let src = payloads.notify(.NAT_DETECTION_SOURCE_IP)?.data, src != NATDetection.hash(spiI: spiI, spiR: spiR, remote) {
            natDetected = true
        }
        if natDetected, remote.port == 500 {
            log(.info, "NAT detected: moving to UDP \(config.natTraversalPort)")
            local.port = config.natTraversalPort
            remote.port = 4500
        }
        log(.info, "IKE SA keys derived (\(suite))")
        sendFirstAuth(now: now)
    }

    func sendFirstAuth(now: Double) {
        childSPI = max(0x100, SecureRandom.uint32())
        typealias A = CPPayload.Attribute
        var attrs: [A] = []
        if config.requestIPv4 { attrs += [A(A.INTERNAL_IP4_ADDRESS), A(A.INTERNAL_IP4_DNS)] }
        if config.requestIPv6 { attrs += [A(A.INTERNAL_IP6_ADDRESS), A(A.INTERNAL_IP6_DNS)] }
        if config.requestPCSCF {
            if config.requestIPv4 { attrs.append(A(config.pcscfIPv4AttributeType)) }
            if config.requestIPv6 { attrs.append(A(config.pcscfIPv6AttributeType)) }
        }
        if let types = config.cpRequestAttributes { attrs = types.map { A($0) } }
        let proposals = config.espProposalsOverride.map { $0.map { p in var p = p; p.spi = be32(childSPI); return p } }
            ?? config.espSuites.enumerated().map { i, s in
                Proposal(number: UInt8(i + 1), protocolID: .ESP, spi: be32(childSPI), transforms: s.transforms)
            }
        let v4 = attrs.contains { $0.type == A.INTERNAL_IP4_ADDRESS } || (config.requestIPv4 && config.cpRequestAttributes == nil)
        let v6 = attrs.contains { $0.type == A.INTERNAL_IP6_ADDRESS } || (config.requestIPv6 && config.cpRequestAttributes == nil)
        tsiSent = (v4 || !v6 ? [TrafficSelector.anyV4] : []) + (v6 ? [TrafficSelector.anyV6] : [])
        tsrSent = tsiSent
        var payloads: [Payload] = [.idi(idiSent), .idr(IDPayload(config.idrType, config.idrValue ?? config.apn)),
                                   .cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: attrs)),
                                   .sa(SAPayload(proposals: proposals)), .tsi(TSPayload(tsiSent)), .tsr(TSPayload(tsrSent))]
        if let n = config.authNotifies {
            payloads += n.map { .notify($0) }
        } else {
            payloads.append(.notify(NotifyPayload(.INITIAL_CONTACT)))
            if config.eapOnly { payloads.append(.notify(NotifyPayload(.EAP_ONLY_AUTHENTICATION))) }
        }
        if let d = config.deviceIdentity { payloads.append(.notify(NotifyPayload(.DEVICE_IDENTITY, data: d.notifyData))) }
        imsi = config.imsi
        apn = config.apn
        state = .authSent
        sendRequest(.IKE_AUTH, payloads, now: now)
    }

    func handleEAPRequest(_ payloads: [Payload], now: Double) {
        guard let bytes = payloads.eap, let pkt = try? EAPPacket(parsing: bytes) else {
            fail("IKE_AUTH response without EAP"); return
        }
        if let auth = payloads.auth, !responderSignatureChecked {
            // The ePDG's certificate AUTH (RFC 7296 §2.16): check the signature with the certificate's key.
            // The certificate chain itself is not validated (test networks use self-signed certificates).
            guard let der = payloads.certs.first?.data, let cert = try? Certificate(der: der), let publicKey = try? cert.publicKey,
                  let idr = payloads.idr, let octets = authOctets(ofInitiator: false, idPrime: idr.idPrime),
                  SignatureAuthVerifier.verify(auth, signedOctets: octets, publicKey: publicKey) else {
                fail("responder signature AUTH does not verify", notify: .AUTHENTICATION_FAILED); return
            }
            responderSignatureChecked = true
            log(.info, "responder \(auth.method) AUTH verified with certificate \(cert.subject)")
        }
        switch pkt.code {
        case .success:
            guard let msk else { fail("EAP-Success before a challenge"); return }
            guard let auth = mskAuth(msk: msk, ofInitiator: true, idPrime: idiSent.idPrime) else { return }
            state = .finalAuthSent
            log(.info, "EAP-Success", layer: "eap")
            sendRequest(.IKE_AUTH, [.auth(AuthPayload(method: .SHARED_KEY_MIC, data: auth))], now: now)
        case .failure:
            fail("EAP-Failure", notify: .AUTHENTICATION_FAILED)
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
        sendRequest(.IKE_AUTH, [.eap(msg.packet(code: .response, identifier: id, method: method, mac: mac))], now: now)
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
                    var attrs: [AKAAttribute] = [.AT_RES(res: res, bits: UInt16(res.count * 8))]
                    if method == EAPType.akaPrime { attrs.append(.AT_KDF(1)) }
                    attrs.append(.AT_MAC([]))
                    sendEAP(EAPAKAMessage(subtype: .challenge, attributes: attrs), id: pkt.identifier, method: method, mac: macFn, now: now)
                } catch {
                    fail("EAP key derivation failed: \(error)")
                }
            }
        default:
            sendEAP(EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]), id: pkt.identifier, method: method, now: now)
        }
    }

    func handleFinalAuthResponse(_ payloads: [Payload]) {
        guard let msk, let auth = payloads.auth, let idr = payloads.idr ?? Optional(IDPayload(.ID_FQDN, config.apn)) else {
            fail("final IKE_AUTH response without AUTH"); return
        }
        guard let expected = mskAuth(msk: msk, ofInitiator: false, idPrime: idrForAuth?.idPrime ?? idr.idPrime),
              constantTimeEqual(expected, auth.data) else {
            fail("responder AUTH (MSK) does not verify", notify: .AUTHENTICATION_FAILED); return
        }
        isEstablished = true
        state = .established
        if let cp = payloads.cp {
            typealias A = CPPayload.Attribute
            var a = AssignedConfiguration()
            for attr in cp.attributes {
                switch attr.type {
                case A.INTERNAL_IP4_ADDRESS: a.ipv4 = attr.address
                case A.INTERNAL_IP6_ADDRESS: a.ipv6 = attr.address; a.ipv6PrefixLength = attr.value.count == 17 ? attr.value[16] : nil
                case A.INTERNAL_IP4_DNS, A.INTERNAL_IP6_DNS: if let d = attr.address { a.dns.append(d) }
                case config.pcscfIPv4AttributeType, config.pcscfIPv6AttributeType, A.P_CSCF_IP4_ADDRESS, A.P_CSCF_IP6_ADDRESS:
                    if let d = attr.address { a.pcscf.append(d) }
                default:
                    // Private attribute types the phone asked for carry P-CSCF addresses (TS 24.302 legacy forms).
                    if attr.type >= 16384, (config.cpRequestAttributes ?? []).contains(attr.type), let d = attr.address { a.pcscf.append(d) }
                }
            }
            assigned = a
        }
        log(.info, "IKE SA established" + (assigned?.ipv4.map { ", inner \($0)" } ?? ""))
        if let i = info() { actions.append(.ikeSAEstablished(i)) }
        guard let sa = payloads.sa, let p = sa.proposals.first, p.spi.count == 4, let tsi = payloads.tsi, let tsr = payloads.tsr,
              let suite, let keys else {
            log(.warning, "no Child SA in the IKE_AUTH response"); return
        }
        guard let encT = p.transforms(.ENCR).first, let enc = try? EncryptionAlgorithm(transformID: encT.id, keyLength: encT.keyLength.map(Int.init)) else {
            log(.warning, "unusable Child SA proposal \(p)"); return
        }
        let integ = p.transforms(.INTEG).first.flatMap { $0.id == 0 ? nil : IntegrityAlgorithm(rawValue: $0.id) }
        let esp = ESPSuite(encryption: enc, integrity: integ, extendedSequenceNumbers: p.transforms(.ESN).first?.id == 1)
        do {
            let ck = try KeySchedule.childKeys(prf: suite.prf, skD: keys.SK_d, ni: ni, nr: nr, suite: esp)
            let child = ChildSADescription(ikeSPIi: spiI, ikeSPIr: spiR, inboundSPI: childSPI, outboundSPI: u32(p.spi), suite: esp,
                                           inboundEncryptionKey: ck.encryptionR, inboundIntegrityKey: ck.integrityR,
                                           outboundEncryptionKey: ck.encryptionI, outboundIntegrityKey: ck.integrityI,
                                           localTS: tsi.selectors, remoteTS: tsr.selectors, local: local, remote: remote,
                                           udpEncapsulation: udpEncapsulation, innerIPv4: assigned?.ipv4, innerIPv6: assigned?.ipv6,
                                           lifetimeSeconds: 0, imsi: imsi, apn: apn)
            children.append(child)
            actions.append(.installChildSA(child))
        } catch {
            log(.error, "Child SA key derivation failed: \(error)")
        }
    }

    /// The IDr the responder authenticated with (from its first IKE_AUTH response).
    var idrForAuth: IDPayload?

    override func open(_ raw: [UInt8], _ m: IKEMessage) -> [Payload]? {
        let p = super.open(raw, m)
        if let p, m.header.exchangeType == .IKE_AUTH, idrForAuth == nil, let idr = p.idr { idrForAuth = idr }
        return p
    }

    override func handleRequest(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        guard h.exchangeType == .CREATE_CHILD_SA, state == .established else {
            sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))]); return
        }
        let current = children.map(\.suite)
        answerCreateChild(h, payloads, now: now, dhGroups: config.ikeSuites.map(\.dhGroup) + (suite.map { [$0.dhGroup] } ?? []), lifetime: 0) { proposals in
            for p in proposals where p.protocolID == .ESP && p.spi.count == 4 {
                for s in current + self.config.espSuites where p.transforms(.ENCR).contains(where: { $0.id == s.encryption.transformID && $0.keyLength.map(Int.init) == s.encryption.keyLengthAttribute })
                    && (s.integrity == nil || p.transforms(.INTEG).contains(where: { $0.id == s.integrity!.rawValue })) {
                    return (s, p)
                }
            }
            return nil
        }
    }

    /// Network-initiated INFORMATIONAL: a CP(CFG_SET) with new P-CSCF addresses updates `assigned`.
    override func handleInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        if let cp = payloads.cp, cp.cfgType == CPPayload.CFG_SET {
            let types: Set<UInt16> = [config.pcscfIPv4AttributeType, config.pcscfIPv6AttributeType,
                                      CPPayload.Attribute.P_CSCF_IP4_ADDRESS, CPPayload.Attribute.P_CSCF_IP6_ADDRESS]
            let p = cp.attributes.filter { types.contains($0.type) }.compactMap(\.address)
            if assigned == nil { assigned = AssignedConfiguration() }
            assigned?.pcscf = p
            log(.info, "network sent P-CSCF \(p.map(\.description))")
            sendResponse(to: h, [.cp(CPPayload(cfgType: CPPayload.CFG_ACK, attributes: []))])
            return
        }
        if let r = payloads.notify(.REACTIVATION_REQUESTED_CAUSE) {
            log(.info, "network requests PDN reactivation (cause \(r.data.first.map(String.init) ?? "-"))")
        }
        super.handleInformational(h, payloads, now: now)
    }

    /// The Child SA the network installed, once established.
    public var childSA: ChildSADescription? { children.first }
}
