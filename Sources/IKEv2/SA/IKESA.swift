import Crypto
import Wire

/// Mechanics shared by both roles of an IKE SA: message IDs, the SK payload, retransmission
/// of our requests, the cached response for duplicate requests, fragment reassembly,
/// INFORMATIONAL (DPD, Delete) and Child SA bookkeeping. Subclasses handle the exchanges
/// that differ (IKE_SA_INIT, IKE_AUTH). Sans-I/O: every entry point takes `now` and appends
/// to `actions`, which the caller drains.
public class IKESA {
    /// Whether this side is the SA's "original initiator": it sets the I flag and its SPI is
    /// SPIi. A rekey makes whoever started it the initiator of the new SA (RFC 7296 §2.18,
    /// §3.1: the I flag "changes to reflect who initiated the last rekey of the IKE SA").
    public internal(set) var isInitiator: Bool
    public internal(set) var spiI: UInt64
    public internal(set) var spiR: UInt64
    public internal(set) var local: IKEEndpoint
    public internal(set) var remote: IKEEndpoint
    public internal(set) var suite: IKESuite?
    /// Our SPI in this SA: the one the peer's messages name us by (SPIr, or SPIi after a rekey we started).
    public var localSPI: UInt64 { isInitiator ? spiI : spiR }
    public internal(set) var keys: IKEKeys?
    public internal(set) var children: [ChildSADescription] = []
    /// True once IKE_AUTH has completed.
    public internal(set) var isEstablished = false
    /// True once the SA is gone; the owner forgets it.
    public internal(set) var isDead = false
    public internal(set) var natDetected = false
    /// Both sides sent MOBIKE_SUPPORTED in IKE_AUTH (RFC 4555 §3.1).
    public internal(set) var mobikeNegotiated = false
    /// Both sides announced IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383).
    public internal(set) var fragmentationNegotiated = false
    /// Largest IKE message (IKE header onwards) sent unfragmented once fragmentation is negotiated;
    /// 1200 fits a 1280-byte IPv6 path with IP, UDP and the non-ESP marker.
    public var fragmentSize = 1200
    /// Subscriber identity and APN, for logs and the Child SA description.
    public internal(set) var imsi = ""
    public internal(set) var apn = ""

    var protection: SKProtection?
    var ni: [UInt8] = []
    var nr: [UInt8] = []
    /// RealMessage1 / RealMessage2 for AUTH (RFC 7296 §2.15).
    var initRequestBytes: [UInt8] = []
    var initResponseBytes: [UInt8] = []
    /// prf(MSK, "Key Pad for IKEv2") of the last MSK used for AUTH (see `mskAuth`).
    var mskKeyPad: (msk: [UInt8], pad: [UInt8])?

    // Peer's requests.
    var expectedPeerRequestID: UInt32 = 0
    var lastResponse: (id: UInt32, packets: [[UInt8]])?
    // Our requests.
    var nextRequestID: UInt32 = 0
    struct Pending {
        var id: UInt32
        var exchange: ExchangeType
        var packets: [[UInt8]]
        var sentAt: Double
        var retries: Int
    }
    var pending: Pending?
    var fragments: [UInt16: [UInt8]] = [:]
    var fragmentFirstInner: PayloadType = .none
    var lastActivity: Double
    let createdAt: Double
    /// SPIi and peer endpoint of the IKE_SA_INIT that created this SA (the half-open lookup key).
    let initialSPIi: UInt64
    let initialRemote: IKEEndpoint

    var actions: [IKEAction] = []
    /// A Child SA rekey we started, waiting for its CREATE_CHILD_SA response.
    var rekey: RekeyContext?
    /// An IKE SA rekey we started, waiting for its CREATE_CHILD_SA response.
    var ikeRekeyRequest: IKERekeyRequest?
    /// When each Child SA (by inbound SPI) was installed, for lifetime-driven rekeys.
    var childCreatedAt: [UInt32: Double] = [:]
    /// Child SAs whose rekey the peer refused: not asked again before this time.
    var childRekeyDeferredUntil: [UInt32: Double] = [:]
    /// Seconds before a refused Child SA rekey is tried again.
    static let childRekeyRetryDelay: Double = 5
    /// Child SAs ended at their hard lifetime whose Delete the peer has not been sent yet.
    var expiredChildDeletes: [UInt32] = []
    /// The datagram being processed (RealMessage1/2 are kept from it).
    var lastReceivedRaw: [UInt8] = []
    var retransmitBase: Double = 2
    var maxRetransmits = 5

    init(isInitiator: Bool, spiI: UInt64, spiR: UInt64, local: IKEEndpoint, remote: IKEEndpoint, now: Double) {
        self.isInitiator = isInitiator; self.spiI = spiI; self.spiR = spiR
        self.local = local; self.remote = remote; lastActivity = now; createdAt = now
        initialSPIi = spiI; initialRemote = remote
    }

    func drain() -> [IKEAction] { defer { actions = [] }; return actions }

    /// The finest level the host logs: messages above it are never built (their text,
    /// e.g. a payload description, is a measurable part of an attach's cost).
    public var logLevel: IKELogLevel = .debug

    func log(_ level: IKELogLevel, _ message: @autoclosure () -> String, layer: String = "ikev2") {
        guard level <= logLevel else { return }
        actions.append(.log(IKELogEvent(level: level, layer: layer, spiI: spiI, message: message())))
    }

    var udpEncapsulation: Bool { natDetected || local.port != 500 || remote.port != 500 }

    func header(_ exchange: ExchangeType, response: Bool, id: UInt32) -> IKEHeader {
        IKEHeader(spiI: spiI, spiR: spiR, exchangeType: exchange, isInitiator: isInitiator, isResponse: response, messageID: id)
    }

    func encode(_ h: IKEHeader, _ payloads: [Payload]) -> [[UInt8]] {
        if h.exchangeType == .IKE_SA_INIT || protection == nil { return [IKEMessage(header: h, payloads: payloads).serialize()] }
        guard let protection else { return [] }
        do {
            let whole = try protection.protect(header: h, payloads: payloads)
            // RFC 7383: once both sides announced support, messages over the size are sent as SKF fragments.
            if fragmentationNegotiated, whole.count > fragmentSize {
                let parts = try protection.protectFragmented(header: h, payloads: payloads, maxSize: fragmentSize)
                log(.debug, "\(h.exchangeType) #\(h.messageID) of \(whole.count) bytes sent as \(parts.count) fragments")
                return parts
            }
            return [whole]
        } catch {
            log(.error, "cannot protect \(h.exchangeType): \(error)")
            return []
        }
    }

    func sendPackets(_ packets: [[UInt8]]) {
        for p in packets { actions.append(.send(bytes: p, from: local, to: remote)) }
    }

    /// Sends a request of ours and remembers it for retransmission.
    func sendRequest(_ exchange: ExchangeType, _ payloads: [Payload], now: Double) {
        let id = nextRequestID
        nextRequestID &+= 1
        let packets = encode(header(exchange, response: false, id: id), payloads)
        pending = Pending(id: id, exchange: exchange, packets: packets, sentAt: now, retries: 0)
        log(.info, "send \(exchange) request #\(id) " + describe(payloads))
        sendPackets(packets)
        actions.append(.armTimer(at: now + retransmitBase))
    }

    func sendResponse(to h: IKEHeader, _ payloads: [Payload]) {
        let packets = encode(header(h.exchangeType, response: true, id: h.messageID), payloads)
        lastResponse = (h.messageID, packets)
        log(.info, "send \(h.exchangeType) response #\(h.messageID) " + describe(payloads))
        sendPackets(packets)
    }

    func describe(_ p: [Payload]) -> String {
        "[" + p.map { pl -> String in
            switch pl {
            case let .notify(n): return n.description
            case let .idi(i): return "IDi(\(i))"
            case let .idr(i): return "IDr(\(i))"
            case let .eap(e): return (try? EAPPacket(parsing: e)).map { "EAP(\($0))" } ?? "EAP"
            case let .cp(c): return "CP(\(c.cfgType): " + c.attributes.map(\.description).joined(separator: ", ") + ")"
            case let .tsi(t): return "TSi(\(t))"
            case let .tsr(t): return "TSr(\(t))"
            default: return pl.type.description
            }
        }.joined(separator: " ") + "]"
    }

    /// Entry point for one datagram addressed to this SA.
    func receive(_ raw: [UInt8], message m: IKEMessage, from: IKEEndpoint, to: IKEEndpoint, now: Double) {
        lastReceivedRaw = raw
        let h = m.header
        if h.isInitiator == isInitiator {
            log(.warning, "dropping message with our own I flag"); return
        }
        if h.isResponse {
            guard let p = pending, p.id == h.messageID, p.exchange == h.exchangeType else {
                log(.debug, "dropping unexpected response #\(h.messageID) \(h.exchangeType)"); return
            }
            guard let payloads = open(raw, m) else { return }
            pending = nil
            lastActivity = now
            noteAddress(from: from, to: to)
            handleResponse(h, payloads, now: now)
            return
        }
        // A request from the peer.
        if !isInitiator, h.exchangeType == .IKE_SA_INIT, h.messageID == 0, !initResponseBytes.isEmpty {
            log(.debug, "retransmitted IKE_SA_INIT: resending our response")
            sendPackets([initResponseBytes])
            return
        }
        if let last = lastResponse, h.messageID == last.id {
            log(.debug, "retransmitted \(h.exchangeType) request #\(h.messageID): resending cached response")
            sendPackets(last.packets)
            return
        }
        guard h.messageID == expectedPeerRequestID else {
            log(.warning, "dropping \(h.exchangeType) request #\(h.messageID), expected #\(expectedPeerRequestID)"); return
        }
        malformedAfterICV = false
        guard let payloads = open(raw, m) else {
            if malformedAfterICV { answerInvalidSyntax(h) }
            return
        }
        lastActivity = now
        noteAddress(from: from, to: to)
        expectedPeerRequestID &+= 1
        if let crit = payloads.unsupportedCritical {
            log(.warning, "unsupported critical payload \(crit)")
            sendResponse(to: h, [.notify(NotifyPayload(.UNSUPPORTED_CRITICAL_PAYLOAD, data: [crit.rawValue]))])
            // RFC 7296 §2.5/§3.2: the message is rejected; an IKE_SA_INIT one leaves no state.
            if h.exchangeType == .IKE_SA_INIT { terminate(reason: "IKE_SA_INIT with unsupported critical payload \(crit)") }
            return
        }
        // RFC 7296 §3.10.1: unknown error types in a request and unknown status types are ignored, and logged.
        let unknown = payloads.notifies.filter { NotifyType.names[$0.type.rawValue] == nil }
        if !unknown.isEmpty {
            log(.info, "ignoring unrecognised notify types \(unknown.map { "\($0.type.rawValue)" + ($0.type.isError ? " (error)" : " (status)") }.joined(separator: ", ")) in \(h.exchangeType) request #\(h.messageID)")
        }
        if h.exchangeType == .INFORMATIONAL {
            handleInformational(h, payloads, now: now)
        } else {
            handleRequest(h, payloads, now: now)
        }
    }

    /// Set by `open` when the ICV verified but the decrypted payloads did not parse.
    var malformedAfterICV = false

    /// RFC 7296 §2.21/§3.10.1: a request whose Message ID and ICV are valid but whose content is
    /// malformed gets INVALID_SYNTAX in a protected response; before IKE_AUTH completes the SA ends.
    func answerInvalidSyntax(_ h: IKEHeader) {
        expectedPeerRequestID &+= 1
        log(.warning, "\(h.exchangeType) request #\(h.messageID) is malformed after a valid ICV: INVALID_SYNTAX")
        sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))])
        if !isEstablished { terminate(reason: "malformed \(h.exchangeType) request") }
    }

    /// Decrypts (and reassembles) a message; nil means "not yet complete" or "dropped".
    func open(_ raw: [UInt8], _ m: IKEMessage) -> [Payload]? {
        if m.header.exchangeType == .IKE_SA_INIT { return m.payloads }
        guard let protection else { log(.warning, "dropping \(m.header.exchangeType): no keys yet"); return nil }
        do {
            if let f = m.payloads.skf {
                let plain = try protection.unprotectFragment(raw: raw, fragment: f)
                if f.fragmentNumber == 1 { fragmentFirstInner = f.firstInnerPayload }
                fragments[f.fragmentNumber] = plain
                guard fragments.count == Int(f.totalFragments) else { return nil }
                var all: [UInt8] = []
                for n in 1...f.totalFragments {
                    guard let part = fragments[n] else { return nil }
                    all += part
                }
                fragments = [:]
                var r = ByteReader(all)
                return try Payload.parseChain(first: fragmentFirstInner, &r)
            }
            return try protection.unprotect(raw: raw, message: m)
        } catch let e as WireError {
            malformedAfterICV = true
            log(.warning, "\(m.header.exchangeType) #\(m.header.messageID) decrypted but malformed: \(e)")
            return nil
        } catch {
            log(.warning, "dropping \(m.header.exchangeType) #\(m.header.messageID): \(error)")
            return nil
        }
    }

    /// NAT-T: follow the peer to a new address/port once a protected message proves it (RFC 7296 §2.23).
    func noteAddress(from: IKEEndpoint, to: IKEEndpoint) {
        if from != remote || to != local {
            if protection != nil || from.address == remote.address {
                log(.info, "peer moved \(remote) -> \(from) (local \(to))")
                remote = from; local = to
                if isEstablished { actions.append(.peerAddressChanged(spiI: spiI, spiR: spiR, remote: from, local: to)) }
            }
        }
    }

    // MARK: Subclass hooks

    func handleRequest(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        sendResponse(to: h, [.notify(NotifyPayload(.INVALID_SYNTAX))])
    }

    func handleResponse(_ h: IKEHeader, _ payloads: [Payload], now: Double) {}

    /// INFORMATIONAL requests: liveness check, Delete of the IKE SA or of Child SAs.
    func handleInformational(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        var reply: [Payload] = []
        var deleteIKE = false
        for d in payloads.deletes {
            switch d.protocolID {
            case .IKE: deleteIKE = true
            case .ESP, .AH:
                var ours: [[UInt8]] = []
                for spi in d.spis where spi.count == 4 {
                    let v = spi.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                    if let i = children.firstIndex(where: { $0.outboundSPI == v }) {
                        let c = children.remove(at: i)
                        childCreatedAt[c.inboundSPI] = nil
                        childRekeyDeferredUntil[c.inboundSPI] = nil
                        ours.append(be32(c.inboundSPI))
                        actions.append(.deleteChildSA(inboundSPI: c.inboundSPI, outboundSPI: c.outboundSPI))
                        log(.info, "peer deleted Child SA out=0x\(Hex.spi(c.outboundSPI))")
                    }
                }
                if !ours.isEmpty { reply.append(.delete(DeletePayload(protocolID: d.protocolID, spis: ours))) }
            case .none: break
            }
        }
        if deleteIKE {
            sendResponse(to: h, [])
            terminate(reason: "deleted by peer")
            return
        }
        if payloads.isEmpty { log(.debug, "liveness check (DPD) from peer") }
        reply += informationalExtra(payloads)
        sendResponse(to: h, reply)
    }

    /// IKE SA rekey requested by the peer; by default refused (the peer then re-authenticates).
    func answerIKERekey(_ h: IKEHeader, _ payloads: [Payload], now: Double) {
        log(.warning, "IKE SA rekey requested; not supported here, answering NO_ADDITIONAL_SAS")
        sendResponse(to: h, [.notify(NotifyPayload(.NO_ADDITIONAL_SAS))])
    }

    /// Our SPI for a new IKE SA made by a rekey (the ePDG's must hash to its shard).
    func newIKESPI() -> UInt64 { max(1, SecureRandom.uint64()) }

    /// Inbound ESP SPI for a Child SA this side creates.
    func allocateChildSPI() -> UInt32 { max(0x100, SecureRandom.uint32()) }

    /// Extra payloads a subclass adds to an INFORMATIONAL response (e.g. DEVICE_IDENTITY).
    func informationalExtra(_ payloads: [Payload]) -> [Payload] { mobikeExtra(payloads) + deviceIdentityAnswer(payloads) }

    /// The answer to N(DEVICE_IDENTITY) in an INFORMATIONAL request (TS 24.302 §8.2.9.2); only
    /// a phone has one to give.
    func deviceIdentityAnswer(_ payloads: [Payload]) -> [Payload] { [] }

    /// MOBIKE (RFC 4555 §3.5, §3.8): an UPDATE_SA_ADDRESSES request already moved the SA
    /// (`noteAddress`); the answer carries our NAT detection for the new path and echoes
    /// COOKIE2.
    func mobikeExtra(_ payloads: [Payload]) -> [Payload] {
        guard mobikeNegotiated, payloads.has(.UPDATE_SA_ADDRESSES) else { return [] }
        log(.info, "MOBIKE: UPDATE_SA_ADDRESSES, peer now at \(remote)")
        var out: [Payload] = [.notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, local))),
                              .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, remote)))]
        if let c2 = payloads.notify(.COOKIE2) { out.append(.notify(c2)) }
        return out
    }

    /// Sends a liveness check (empty INFORMATIONAL request, "DPD"); the answer clears `pending`.
    public func checkLiveness(now: Double) -> [IKEAction] {
        sendDPD(now: now)
        return drain()
    }

    func sendDPD(now: Double) {
        guard pending == nil, isEstablished, !isDead else { return }
        sendRequest(.INFORMATIONAL, [], now: now)
    }

    /// Deletes the IKE SA (and with it every Child SA): INFORMATIONAL with D(IKE).
    public func delete(now: Double) -> [IKEAction] {
        deleteIKESA(now: now, reason: "deleted locally")
        return drain()
    }

    func deleteIKESA(now: Double, reason: String) {
        if isEstablished && !isDead {
            pending = nil
            sendRequest(.INFORMATIONAL, [.delete(DeletePayload(protocolID: .IKE))], now: now)
        }
        terminate(reason: reason)
    }

    /// Releases everything; the owner drops the SA.
    func terminate(reason: String) {
        guard !isDead else { return }
        for c in children { actions.append(.deleteChildSA(inboundSPI: c.inboundSPI, outboundSPI: c.outboundSPI)) }
        children = []
        isDead = true
        log(.info, "IKE SA closed: \(reason)")
        actions.append(.ikeSADeleted(spiI: spiI, spiR: spiR, reason: reason))
        released()
    }

    /// Subclass hook: give back addresses etc.
    func released() {}

    /// Retransmits our pending request with exponential back-off, or gives up.
    func pollTimers(now: Double) {
        guard !isDead, var p = pending, now >= retransmitDue(p) else { return }
        if p.retries >= maxRetransmits {
            pending = nil
            log(.warning, "no answer to \(p.exchange) #\(p.id) after \(p.retries) retransmissions")
            requestUnanswered()
            return
        }
        p.retries += 1
        p.sentAt = now
        pending = p
        log(.debug, "retransmit \(p.exchange) #\(p.id) (\(p.retries))")
        sendPackets(p.packets)
        actions.append(.armTimer(at: now + retransmitBase * Double(1 << min(p.retries, 10))))
    }

    /// Our request went unanswered through every retransmission: the SA is given up.
    func requestUnanswered() { terminate(reason: "peer not responding") }

    /// When `p` is due to be retransmitted (or given up).
    func retransmitDue(_ p: Pending) -> Double { p.sentAt + retransmitBase * Double(1 << min(p.retries, 10)) }

    /// The earliest time `poll` has something to do.
    var nextDeadline: Double? {
        guard let p = pending, !isDead else { return nil }
        return retransmitDue(p)
    }

    func info() -> IKESAInfo? {
        guard let suite, let keys else { return nil }
        return IKESAInfo(spiI: spiI, spiR: spiR, suite: suite, keys: keys, local: local, remote: remote, imsi: imsi, apn: apn, isInitiator: isInitiator)
    }

    /// Derives SKEYSEED and the SA keys, and sets up SK protection.
    func deriveKeys(suite: IKESuite, sharedSecret: [UInt8]) throws {
        let seed = KeySchedule.skeyseed(prf: suite.prf, ni: ni, nr: nr, sharedSecret: sharedSecret)
        let k = try KeySchedule.ikeKeys(suite: suite, skeyseed: seed, ni: ni, nr: nr, spiI: spiI, spiR: spiR)
        self.suite = suite
        keys = k
        protection = try SKProtection(suite: suite, keys: k, isInitiator: isInitiator)
    }

    /// Our AUTH octets or the peer's, per role.
    func authOctets(ofInitiator: Bool, idPrime: [UInt8]) -> [UInt8]? {
        guard let suite, let keys else { return nil }
        return ofInitiator
            ? AuthComputation.signedOctets(prf: suite.prf, message: initRequestBytes, peerNonce: nr, skP: keys.SK_pi, idPrime: idPrime)
            : AuthComputation.signedOctets(prf: suite.prf, message: initResponseBytes, peerNonce: ni, skP: keys.SK_pr, idPrime: idPrime)
    }

    /// AUTH from the MSK (RFC 7296 §2.16). Both AUTHs of an exchange share the key pad
    /// prf(MSK, "Key Pad for IKEv2"): it is computed once per MSK.
    func mskAuth(msk: [UInt8], ofInitiator: Bool, idPrime: [UInt8]) -> [UInt8]? {
        guard let suite, let octets = authOctets(ofInitiator: ofInitiator, idPrime: idPrime) else { return nil }
        let pad: [UInt8]
        if let memo = mskKeyPad, memo.msk == msk {
            pad = memo.pad
        } else {
            pad = AuthComputation.keyPad(prf: suite.prf, sharedSecret: msk)
            mskKeyPad = (msk, pad)
        }
        return suite.prf.prf(key: pad, data: octets)
    }
}

func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
func u32(_ b: [UInt8]) -> UInt32 { b.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
