import Crypto
import HSS
import Synchronization
import Wire

/// What became of one datagram.
public enum RADIUSEvent: Sendable, Equatable {
    /// Access-Challenge sent: the EAP conversation goes on.
    case challenge
    /// Access-Accept sent with the MSK as MS-MPPE keys.
    case accepted(EAPAKAResult)
    /// Access-Reject sent.
    case rejected(reason: String)
    /// Nothing sent (unknown client, bad Message-Authenticator, malformed...).
    case discarded(reason: String)
    /// A retransmission: the cached reply was sent again.
    case duplicate
    /// Status-Server answered (RFC 5997).
    case statusServer
}

/// The answer to one datagram: bytes to send back to its source (if any) and what happened.
public struct RADIUSOutput: Sendable, Equatable {
    public var reply: [UInt8]?
    public var event: RADIUSEvent
}

/// RADIUS authentication server (RFC 2865, EAP over RADIUS per RFC 3579, RFC 5080
/// duplicate detection), sans-I/O: feed each datagram with its source and the time, send
/// `reply` back to that source. EAP conversations are kept per State attribute and run by
/// `EAPAKAServer` against the HSS.
///
/// Thread-safe: one mutex guards sessions and the reply cache and is held for the whole
/// datagram (including the HSS call), so retransmissions racing their original are
/// answered from the cache.
public final class RADIUSServer: Sendable {
    struct Session {
        var eap: EAPAKAServer
        let client: IPAddress
        var expires: Double
    }

    struct CachedReply {
        let requestAuthenticator: [UInt8]
        let reply: [UInt8]
        let expires: Double
    }

    struct ReplyKey: Hashable {
        let peer: RADIUSPeer
        let identifier: UInt8
    }

    struct State {
        var sessions: [[UInt8]: Session] = [:]
        var replies: [ReplyKey: CachedReply] = [:]
        var lastSweep: Double = 0
    }

    public let config: RADIUSServerConfig
    public let hss: HSS
    let log: AAALogSink
    let clients: [IPAddress: RADIUSClient]
    private let state = Mutex(State())

    public init(config: RADIUSServerConfig, hss: HSS, log: @escaping AAALogSink = { _, _ in }) {
        self.config = config
        self.hss = hss
        self.log = log
        var c: [IPAddress: RADIUSClient] = [:]
        for client in config.clients { c[client.address] = client }
        clients = c
    }

    /// Number of EAP conversations in progress.
    public var sessionCount: Int { state.withLock { $0.sessions.count } }

    /// Processes one datagram received from `peer` at time `now` (seconds, monotonic).
    public func handle(datagram: [UInt8], from peer: RADIUSPeer, now: Double) -> RADIUSOutput {
        guard let client = clients[peer.address] else {
            return discard("datagram from unknown client \(peer)")
        }
        let packet: RADIUSPacket
        do { packet = try RADIUSPacket(parsing: datagram) } catch {
            return discard("from \(client.name) \(peer): \(error)")
        }
        let bytes = Array(datagram.prefix(Int(datagram[2]) << 8 | Int(datagram[3])))
        return state.withLock { st in
            sweep(&st, now: now)
            let key = ReplyKey(peer: peer, identifier: packet.identifier)
            if let cached = st.replies[key], cached.expires > now,
               cached.requestAuthenticator == packet.authenticator {
                log(.info, "duplicate \(packet.code) id=\(packet.identifier) from \(client.name) \(peer): resending the cached reply")
                return RADIUSOutput(reply: cached.reply, event: .duplicate)
            }
            let out = process(packet, bytes: bytes, client: client, peer: peer, now: now, state: &st)
            if let reply = out.reply {
                st.replies[key] = CachedReply(requestAuthenticator: packet.authenticator, reply: reply,
                                              expires: now + config.duplicateLifetime)
            }
            return out
        }
    }

    /// Drops idle sessions and old cached replies; `handle` also does this as time passes.
    public func expire(now: Double) {
        state.withLock { st in
            st.lastSweep = -.infinity
            sweep(&st, now: now)
        }
    }

    // MARK: processing

    private func process(_ packet: RADIUSPacket, bytes: [UInt8], client: RADIUSClient, peer: RADIUSPeer,
                         now: Double, state st: inout State) -> RADIUSOutput {
        let from = "\(packet.code) id=\(packet.identifier) from \(client.name) \(peer)"
        let check = RADIUSAuthenticator.checkRequest(bytes, secret: client.secret)
        switch (packet.code, check) {
        case (_, .invalid):
            return discard("\(from): Message-Authenticator does not verify (wrong shared secret?)")
        case (.statusServer, .absent):
            return discard("\(from): Status-Server without Message-Authenticator (RFC 5997 §3)")
        case (.statusServer, .valid):
            log(.debug, "\(from): answering Status-Server")
            return respond(.accessAccept, to: packet, client: client, attributes: [], event: .statusServer)
        case (.accessRequest, _):
            break
        default:
            return discard("\(from): \(packet.code) is not served on this port")
        }
        guard let eap = packet.eapMessage else {
            return reject(packet, client: client, eapFailureID: nil, reason: "\(from): no EAP-Message (only EAP is offered)")
        }
        guard check == .valid else {
            return discard("\(from): EAP-Message without Message-Authenticator (RFC 3579 §3.2)")
        }
        let eapID: UInt8? = eap.count >= 2 ? eap[1] : nil

        // Find or start the EAP conversation.
        var stateValue: [UInt8]
        var session: Session
        if let s = packet.state {
            guard let existing = st.sessions[s] else {
                return reject(packet, client: client, eapFailureID: eapID, reason: "\(from): unknown or expired State")
            }
            guard existing.client == client.address else {
                return reject(packet, client: client, eapFailureID: eapID, reason: "\(from): State belongs to another client")
            }
            stateValue = s
            session = existing
        } else {
            guard st.sessions.count < config.maxSessions else {
                return discard("\(from): \(config.maxSessions) EAP sessions in progress, dropping a new one")
            }
            stateValue = SecureRandom.bytes(16)
            session = Session(eap: EAPAKAServer(hss: hss, config: config.eap), client: client.address, expires: 0)
        }

        let step = eap.isEmpty ? session.eap.start() : session.eap.receive(eap)
        let who = session.eap.identity.map { " (\($0))" } ?? ""
        switch step {
        case let .request(req):
            session.expires = now + config.sessionLifetime
            st.sessions[stateValue] = session
            log(.debug, "\(from)\(who): Access-Challenge with \(session.eap.method) request")
            var attrs = RADIUSPacket.eapMessageAttributes(req)
            attrs.append(RADIUSAttribute(type: RADIUSAttributeType.state, value: stateValue))
            return respond(.accessChallenge, to: packet, client: client, attributes: attrs, event: .challenge)
        case let .success(pkt, result):
            st.sessions[stateValue] = nil
            log(.info, "\(from): \(result.method) success for IMSI \(result.imsi) (identity \(result.identity)): Access-Accept")
            let salt = SecureRandom.bytes(2)
            let recvSalt = [salt[0] | 0x80, salt[1] & 0xfe], sendSalt = [salt[0] | 0x80, salt[1] | 0x01]
            var attrs = RADIUSPacket.eapMessageAttributes(pkt)
            attrs.append(RADIUSAttribute(type: RADIUSAttributeType.userName, value: Array(result.identity.utf8.prefix(253))))
            // hostapd takes MSK = Recv-Key || Send-Key (RFC 3748 §7.10 key naming; the AP
            // is the receiver of the first half, the PMK).
            attrs.append(RADIUSAuthenticator.mppeKeyAttribute(
                vendorType: RADIUSAuthenticator.msMPPERecvKey, key: Array(result.msk[0..<32]), secret: client.secret,
                requestAuthenticator: packet.authenticator, salt: recvSalt))
            attrs.append(RADIUSAuthenticator.mppeKeyAttribute(
                vendorType: RADIUSAuthenticator.msMPPESendKey, key: Array(result.msk[32..<64]), secret: client.secret,
                requestAuthenticator: packet.authenticator, salt: sendSalt))
            return respond(.accessAccept, to: packet, client: client, attributes: attrs, event: .accepted(result))
        case let .failure(pkt, reason):
            st.sessions[stateValue] = nil
            return reject(packet, client: client, eapPacket: pkt, reason: "\(from)\(who): \(reason)")
        case let .discard(reason):
            if packet.state != nil {
                session.expires = now + config.sessionLifetime
                st.sessions[stateValue] = session
            }
            return discard("\(from)\(who): EAP packet discarded: \(reason)")
        }
    }

    private func reject(_ packet: RADIUSPacket, client: RADIUSClient, eapFailureID: UInt8?, reason: String) -> RADIUSOutput {
        let eap: [UInt8]? = eapFailureID.map { [4, $0, 0, 4] }
        return reject(packet, client: client, eapPacket: eap, reason: reason)
    }

    private func reject(_ packet: RADIUSPacket, client: RADIUSClient, eapPacket: [UInt8]?, reason: String) -> RADIUSOutput {
        log(.info, "\(reason): Access-Reject")
        let attrs = eapPacket.map(RADIUSPacket.eapMessageAttributes) ?? []
        return respond(.accessReject, to: packet, client: client, attributes: attrs, event: .rejected(reason: reason))
    }

    /// Signs a reply. Every reply carries a Message-Authenticator (RFC 3579 §3.2 requires
    /// it with EAP-Message, RFC 5997 with Status-Server answers), placed first as the
    /// BlastRADIUS (CVE-2024-3596) mitigation advises; Proxy-State attributes of the
    /// request are copied back unmodified and in order (RFC 2865 §5.33).
    private func respond(_ code: RADIUSCode, to request: RADIUSPacket, client: RADIUSClient,
                         attributes: [RADIUSAttribute], event: RADIUSEvent) -> RADIUSOutput {
        let ma = RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: RADIUSAuthenticator.zeroMA)
        let proxyState = request.all(RADIUSAttributeType.proxyState)
        let reply = RADIUSPacket(code: code, identifier: request.identifier, attributes: [ma] + attributes + proxyState)
        do {
            let bytes = try RADIUSAuthenticator.signResponse(reply, requestAuthenticator: request.authenticator,
                                                             secret: client.secret)
            return RADIUSOutput(reply: bytes, event: event)
        } catch {
            return discard("cannot encode \(code) for \(client.name): \(error)")
        }
    }

    private func discard(_ reason: String) -> RADIUSOutput {
        log(.info, "RADIUS discard: \(reason)")
        return RADIUSOutput(reply: nil, event: .discarded(reason: reason))
    }

    private func sweep(_ st: inout State, now: Double) {
        guard now - st.lastSweep >= 1 else { return }
        st.lastSweep = now
        let before = st.sessions.count
        st.sessions = st.sessions.filter { $0.value.expires > now }
        st.replies = st.replies.filter { $0.value.expires > now }
        if st.sessions.count < before { log(.debug, "expired \(before - st.sessions.count) idle EAP session(s)") }
    }
}
