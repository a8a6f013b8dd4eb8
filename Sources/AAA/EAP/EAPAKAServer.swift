import AKA
import Crypto
import HSS
import IKEv2

/// The EAP-AKA / EAP-AKA' authenticator backend for one peer (RFC 4187, RFC 5448/9048),
/// sans-I/O: it takes EAP-Response packets and returns the next EAP packet to send.
///
///     Response/Identity ─▶ (AKA-Identity, AT_PERMANENT_ID_REQ, if not a permanent id)
///                       ─▶ AKA-Challenge (AT_RAND, AT_AUTN, [AT_KDF=1, AT_KDF_INPUT], AT_MAC)
///     Challenge response: AT_MAC and AT_RES good ─▶ EAP-Success + MSK
///                         bad ─▶ AKA-Notification "General failure" ─▶ EAP-Failure
///     Synchronization-Failure (AT_AUTS) ─▶ HSS resync ─▶ new AKA-Challenge
///     Authentication-Reject / Client-Error ─▶ EAP-Failure
///
/// Vectors come from the HSS on demand; nothing here blocks on I/O other than the HSS's
/// own SQN reservation write.
public struct EAPAKAServer: Sendable {
    /// The material of the outstanding challenge.
    struct Challenge: Sendable {
        let rand: [UInt8]
        let xres: [UInt8]
        let kAut: [UInt8]
        let msk: [UInt8]
        let emsk: [UInt8]
    }

    enum State: Sendable {
        /// Nothing received yet (a Request/Identity may have been sent).
        case waitingForIdentity
        /// AKA-Identity sent.
        case identityRequested
        case challenged(Challenge)
        /// AKA-Notification (failure) sent; the peer's acknowledgement ends with EAP-Failure.
        case notifying(reason: String)
        case finished
    }

    public let hss: HSS
    public let config: EAPAKAServerConfig
    var state: State = .waitingForIdentity
    /// Identifier of the last Request; a Response must echo it (RFC 3748 §4.1).
    var pendingIdentifier: UInt8?
    var nextIdentifier: UInt8
    var resynchronizations = 0
    var identityRounds = 0
    var exchanges = 0
    /// The identity octets that enter MK: the last AT_IDENTITY, else the EAP identity.
    var identityOctets: [UInt8]?
    /// The method in use, and the subscriber once known (for the host's logs).
    public private(set) var method: EAPAKAMethod
    public private(set) var imsi: String?
    /// The identity as text (for User-Name and logs).
    public var identity: String? { identityOctets.map { String(decoding: $0, as: UTF8.self) } }

    /// At most this many Request/Response exchanges per session (bounds a looping peer).
    static let maxExchanges = 12
    /// AT_NOTIFICATION "General Failure" before authentication (RFC 4187 §10.19; P bit set).
    public static let generalFailure: UInt16 = 16384

    public init(hss: HSS, config: EAPAKAServerConfig = EAPAKAServerConfig(),
                firstIdentifier: UInt8 = SecureRandom.bytes(1)[0]) {
        self.hss = hss
        self.config = config
        nextIdentifier = firstIdentifier
        method = config.methods.contains(config.defaultMethod) ? config.defaultMethod : (config.methods.first ?? .aka)
    }

    /// EAP-Request/Identity, for authenticators that start with EAP-Start instead of
    /// relaying the peer's Response/Identity.
    public mutating func start() -> EAPServerStep {
        let id = takeIdentifier()
        return .request(EAPPacket(code: .request, identifier: id, type: EAPType.identity).serialize())
    }

    /// Processes one EAP packet from the peer.
    public mutating func receive(_ bytes: [UInt8]) -> EAPServerStep {
        let packet: EAPPacket
        do { packet = try EAPPacket(parsing: bytes) } catch { return .discard(reason: "malformed EAP packet: \(error)") }
        guard packet.code == .response, let type = packet.type else {
            return .discard(reason: "expected an EAP-Response, got \(packet)")
        }
        if case .finished = state { return .discard(reason: "session already finished") }
        if let pending = pendingIdentifier, packet.identifier != pending {
            return .discard(reason: "EAP identifier \(packet.identifier), expected \(pending)")
        }
        exchanges += 1
        guard exchanges <= Self.maxExchanges else {
            return fail(packet.identifier, "more than \(Self.maxExchanges) EAP exchanges")
        }
        switch type {
        case EAPType.identity:
            guard case .waitingForIdentity = state else {
                return .discard(reason: "EAP-Response/Identity in the middle of \(method)")
            }
            return identityReceived(packet.typeData, responseID: packet.identifier)
        case EAPType.nak:
            return nakReceived(packet.typeData, responseID: packet.identifier)
        case method.eapType:
            let msg: EAPAKAMessage
            do { msg = try EAPAKAMessage(parsing: packet.typeData) } catch {
                return fail(packet.identifier, "malformed \(method) message: \(error)")
            }
            return methodResponse(msg, raw: bytes, responseID: packet.identifier)
        default:
            return .discard(reason: "EAP type \(type) while running \(method)")
        }
    }

    // MARK: identity

    mutating func identityReceived(_ octets: [UInt8], responseID: UInt8) -> EAPServerStep {
        // Some peers NUL-terminate; the octets without it enter MK (RFC 4187 §7).
        var octets = octets
        while octets.last == 0 { octets.removeLast() }
        let id = EAPAKAIdentity(String(decoding: octets, as: UTF8.self))
        if let m = id.preferredMethod, config.methods.contains(m) { method = m }
        guard case .permanent = id.kind, let imsi = id.imsi else {
            return requestPermanentIdentity(responseID: responseID)
        }
        if let reason = realmMismatch(id) { return fail(responseID, reason) }
        identityOctets = octets
        self.imsi = imsi
        return challenge(responseID: responseID)
    }

    func realmMismatch(_ id: EAPAKAIdentity) -> String? {
        if let home = config.homeMCC, let mcc = id.mcc, mcc != home { return "realm MCC \(mcc) is not ours (\(home))" }
        if let home = config.homeMNC, let mnc = id.mnc, mnc != home { return "realm MNC \(mnc) is not ours (\(home))" }
        return nil
    }

    mutating func requestPermanentIdentity(responseID: UInt8) -> EAPServerStep {
        identityRounds += 1
        guard identityRounds <= config.maxIdentityRounds else {
            return fail(responseID, "no permanent identity after \(config.maxIdentityRounds) AKA-Identity rounds")
        }
        state = .identityRequested
        let id = takeIdentifier()
        let msg = EAPAKAMessage(subtype: .identity, attributes: [.AT_PERMANENT_ID_REQ])
        return .request(msg.packet(code: .request, identifier: id, method: method.eapType))
    }

    // MARK: Nak

    mutating func nakReceived(_ desired: [UInt8], responseID: UInt8) -> EAPServerStep {
        switch state {
        case .identityRequested, .challenged: break
        default: return .discard(reason: "EAP-Nak before any method request")
        }
        let wanted = desired.compactMap(EAPAKAMethod.init(eapType:)).first { $0 != method && config.methods.contains($0) }
        guard let next = wanted else {
            return fail(responseID, "peer Nak'd \(method) and proposes no method we run (types \(desired))")
        }
        method = next
        if imsi != nil, identityOctets != nil { return challenge(responseID: responseID) }
        return requestPermanentIdentity(responseID: responseID)
    }

    // MARK: method messages

    mutating func methodResponse(_ msg: EAPAKAMessage, raw: [UInt8], responseID: UInt8) -> EAPServerStep {
        switch (msg.subtype, state) {
        case (.clientError, _):
            return fail(responseID, "peer sent AKA-Client-Error code \(msg.clientErrorCode.map(String.init) ?? "?")")
        case (.authenticationReject, .challenged):
            return fail(responseID, "peer sent AKA-Authentication-Reject (AUTN did not verify: wrong K/OPc or AMF)")
        case (.identity, .identityRequested):
            guard let octets = msg.identity else { return fail(responseID, "AKA-Identity response without AT_IDENTITY") }
            let id = EAPAKAIdentity(String(decoding: octets, as: UTF8.self))
            guard case .permanent = id.kind, let imsi = id.imsi else {
                return fail(responseID, "AT_IDENTITY '\(id)' is not a permanent identity (no pseudonyms are issued)")
            }
            if let reason = realmMismatch(id) { return fail(responseID, reason) }
            identityOctets = octets
            self.imsi = imsi
            return challenge(responseID: responseID)
        case (.synchronizationFailure, .challenged(let c)):
            return resynchronize(msg, challenge: c, responseID: responseID)
        case (.challenge, .challenged(let c)):
            return verifyChallengeResponse(msg, raw: raw, challenge: c, responseID: responseID)
        case (.notification, .notifying(let reason)):
            return fail(responseID, reason)
        default:
            return .discard(reason: "unexpected \(msg.subtype) in state \(stateName)")
        }
    }

    /// Gets a vector and builds the AKA-Challenge (or AKA'-Challenge).
    mutating func challenge(responseID: UInt8) -> EAPServerStep {
        guard let imsi, let identity = identityOctets else { return fail(responseID, "no identity") }
        let id = takeIdentifier()
        var attributes: [AKAAttribute]
        let c: Challenge
        let mac: ([UInt8]) -> [UInt8]
        do {
            switch method {
            case .aka:
                let v = try hss.vector(imsi: imsi)
                let k = try EAPAKAKeys.derive(identity: identity, ik: v.ik, ck: v.ck)
                attributes = [.AT_RAND(v.rand), .AT_AUTN(v.autn)]
                c = Challenge(rand: v.rand, xres: v.xres, kAut: k.kAut, msk: k.msk, emsk: k.emsk)
                mac = { EAPAKAKeys.atMAC(kAut: k.kAut, packet: $0) }
            case .akaPrime:
                let v = try hss.vectorPrime(imsi: imsi, accessNetworkName: config.accessNetworkName)
                let k = try EAPAKAPrimeKeys.derive(identity: identity, ckPrime: v.ckPrime, ikPrime: v.ikPrime)
                attributes = [.AT_RAND(v.rand), .AT_AUTN(v.autn), .AT_KDF(1),
                              .AT_KDF_INPUT(Array(config.accessNetworkName.utf8))]
                c = Challenge(rand: v.rand, xres: v.xres, kAut: k.kAut, msk: k.msk, emsk: k.emsk)
                mac = { EAPAKAPrimeKeys.atMAC(kAut: k.kAut, packet: $0) }
            }
        } catch {
            return fail(responseID, "no vector for IMSI \(imsi): \(error)")
        }
        attributes.append(.AT_MAC([UInt8](repeating: 0, count: 16)))
        state = .challenged(c)
        return .request(EAPAKAMessage(subtype: .challenge, attributes: attributes)
            .packet(code: .request, identifier: id, method: method.eapType, mac: mac))
    }

    mutating func verifyChallengeResponse(_ msg: EAPAKAMessage, raw: [UInt8], challenge c: Challenge,
                                          responseID: UInt8) -> EAPServerStep {
        guard let macOffset = Self.macValueOffset(inEAPPacket: raw) else {
            return notifyFailure("challenge response without AT_MAC")
        }
        let macOK = method == .aka
            ? EAPAKAKeys.verifyATMAC(kAut: c.kAut, packet: raw, macOffset: macOffset)
            : EAPAKAPrimeKeys.verifyATMAC(kAut: c.kAut, packet: raw, macOffset: macOffset)
        guard macOK else { return notifyFailure("AT_MAC of the challenge response does not verify") }
        if method == .akaPrime, !msg.kdfs.isEmpty {
            return fail(responseID, "peer refuses KDF 1 (offers \(msg.kdfs)); no other KDF is supported")
        }
        guard let res = msg.first({ if case let .AT_RES(r, bits) = $0 { (r, bits) } else { nil } }) else {
            return notifyFailure("challenge response without AT_RES")
        }
        guard Int(res.1) == c.xres.count * 8, constantTimeEqual(res.0, c.xres) else {
            return notifyFailure("AT_RES does not match XRES (\(res.1) bits)")
        }
        guard let imsi, let identity = identityOctets else { return fail(responseID, "no identity") }
        state = .finished
        pendingIdentifier = nil
        let result = EAPAKAResult(method: method, identity: String(decoding: identity, as: UTF8.self), imsi: imsi,
                                  msk: c.msk, emsk: c.emsk)
        return .success(EAPPacket(code: .success, identifier: responseID).serialize(), result)
    }

    mutating func resynchronize(_ msg: EAPAKAMessage, challenge c: Challenge, responseID: UInt8) -> EAPServerStep {
        guard let imsi else { return fail(responseID, "no identity") }
        guard let auts = msg.auts else { return fail(responseID, "AKA-Synchronization-Failure without AT_AUTS") }
        resynchronizations += 1
        guard resynchronizations <= config.maxResynchronizations else {
            return fail(responseID, "more than \(config.maxResynchronizations) synchronization failures")
        }
        do { try hss.resync(imsi: imsi, rand: c.rand, auts: auts) } catch {
            return fail(responseID, "resynchronisation refused for IMSI \(imsi): \(error)")
        }
        return challenge(responseID: responseID)
    }

    /// RFC 4187 §6.3.1: a peer that fails authentication gets AKA-Notification "General
    /// Failure" (P bit set: no AT_MAC); its acknowledgement is answered with EAP-Failure.
    mutating func notifyFailure(_ reason: String) -> EAPServerStep {
        state = .notifying(reason: reason)
        let id = takeIdentifier()
        let msg = EAPAKAMessage(subtype: .notification, attributes: [.AT_NOTIFICATION(Self.generalFailure)])
        return .request(msg.packet(code: .request, identifier: id, method: method.eapType))
    }

    mutating func fail(_ responseID: UInt8, _ reason: String) -> EAPServerStep {
        state = .finished
        pendingIdentifier = nil
        return .failure(EAPPacket(code: .failure, identifier: responseID).serialize(), reason: reason)
    }

    mutating func takeIdentifier() -> UInt8 {
        let id = nextIdentifier
        nextIdentifier &+= 1
        pendingIdentifier = id
        return id
    }

    var stateName: String {
        switch state {
        case .waitingForIdentity: "waiting-for-identity"
        case .identityRequested: "identity-requested"
        case .challenged: "challenged"
        case .notifying: "notifying"
        case .finished: "finished"
        }
    }

    /// Offset of the AT_MAC value in a whole EAP-AKA packet, found by walking the attributes
    /// as received (re-encoding could move it).
    static func macValueOffset(inEAPPacket p: [UInt8]) -> Int? {
        var off = 8
        while off + 2 <= p.count {
            let len = Int(p[off + 1]) * 4
            guard len > 0, off + len <= p.count else { return nil }
            if p[off] == AKAAttribute.typeMAC { return len == 20 ? off + 4 : nil }
            off += len
        }
        return nil
    }
}
