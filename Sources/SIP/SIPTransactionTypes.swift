/// Shared vocabulary of the RFC 3261 §17 transaction state machines. Transactions are sans-I/O:
/// they take events plus the current time (seconds on any monotonic clock) and return actions.

/// T1, T2, T4 of RFC 3261 §17.1.1.1 (defaults 500 ms, 4 s, 5 s; the IMS config may change them).
public struct SIPTimerValues: Sendable, Equatable {
    public var t1: Double
    public var t2: Double
    public var t4: Double
    public init(t1: Double = 0.5, t2: Double = 4, t4: Double = 5) { self.t1 = t1; self.t2 = t2; self.t4 = t4 }
    /// 64*T1: the transaction timeout of timers B, F, H, J (and L, M of RFC 6026).
    public var timeout: Double { 64 * t1 }
}

/// The timers of RFC 3261 §17 (Table 4) plus L and M of RFC 6026 (the "Accepted" states).
public enum SIPTransactionTimer: String, Sendable, Hashable, CaseIterable {
    case A, B, D, E, F, G, H, I, J, K, L, M
}

/// What happens to a transaction: a message from the network, a message the TU wants sent, a timer.
public enum SIPTransactionEvent: Sendable, Equatable {
    case received(SIPMessage)
    case send(SIPMessage)
    case timer(SIPTransactionTimer)
    case transportError
}

/// What a transaction asks for.
public enum SIPTransactionAction: Sendable, Equatable {
    /// Transmit to the transaction's peer (a retransmission is just another send).
    case transmit(SIPMessage)
    /// Pass up to the transaction user (a response, or a new request for server transactions).
    case deliver(SIPMessage)
    case arm(SIPTransactionTimer, at: Double)
    case cancel(SIPTransactionTimer)
    /// Timer B, F or H expired (or the transport failed): the TU treats it as a 408.
    case timedOut
    case terminated
}

public enum SIPTransactionState: String, Sendable {
    case calling, trying, proceeding, completed, accepted, confirmed, terminated
}

/// Transport kinds. The transaction layer only cares whether a transport is reliable (§17).
public enum SIPTransport: String, Sendable, Hashable {
    case udp = "UDP", tcp = "TCP", tls = "TLS"
    public var isReliable: Bool { self != .udp }
}

/// Where a message came from or goes to: an IP literal, a port and a transport, and the
/// local port when it matters (nil = the element's main SIP port). The local port tells IPsec
/// protected ports (TS 33.203 port_pc/port_ps) apart from the unprotected one.
public struct SIPPeer: Sendable, Hashable, CustomStringConvertible {
    public var address: String
    public var port: UInt16
    public var transport: SIPTransport
    public var localPort: UInt16?
    public init(address: String, port: UInt16, transport: SIPTransport, localPort: UInt16? = nil) {
        self.address = address; self.port = port; self.transport = transport; self.localPort = localPort
    }
    public var description: String {
        (address.contains(":") ? "[" + address + "]" : address) + ":" + String(port) + "/" + transport.rawValue
            + (localPort.map { " (local port " + String($0) + ")" } ?? "")
    }
}

/// Transaction identifier of RFC 3261 §17.1.3 / §17.2.3: the top Via branch, its sent-by,
/// and the method (ACK is matched to its INVITE; CANCEL is a transaction of its own).
public struct SIPTransactionKey: Sendable, Hashable {
    public var branch: String
    public var sentBy: String
    public var method: String

    public init(branch: String, sentBy: String, method: String) {
        self.branch = branch; self.sentBy = SIPHeaderName.asciiLowercased(sentBy); self.method = method
    }

    /// The key of a request as a server sees it (ACK maps to INVITE).
    public static func server(for request: SIPMessage) throws -> SIPTransactionKey {
        let via = try request.topVia()
        guard let m = request.method else { throw SIPParseError.badStartLine("not a request") }
        let method = m == "ACK" ? "INVITE" : m
        // RFC 2543 peers without the magic cookie: fall back on Call-ID + CSeq as the branch.
        let branch = via.hasMagicCookie ? via.branch ?? "" : "2543:" + (try request.callID()) + ":" + String(try request.cseq().sequence)
        return SIPTransactionKey(branch: branch, sentBy: via.sentBy, method: method)
    }

    /// The key of a response as the client that sent the request sees it (§17.1.3).
    public static func client(for response: SIPMessage) throws -> SIPTransactionKey {
        let via = try response.topVia()
        let cs = try response.cseq()
        let branch = via.hasMagicCookie ? via.branch ?? "" : "2543:" + (try response.callID()) + ":" + String(cs.sequence)
        return SIPTransactionKey(branch: branch, sentBy: via.sentBy, method: cs.method == "ACK" ? "INVITE" : cs.method)
    }
}

/// Builds the ACK for a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3): same
/// Request-URI, Call-ID, From, top Via and Route as the INVITE, To from the response.
public func sipAckForNon2xx(invite: SIPMessage, response: SIPMessage) -> SIPMessage {
    var ack = SIPMessage.request("ACK", uri: invite.requestURI ?? .other("sip:invalid"))
    if let via = (try? invite.headerValues("Via"))?.first { ack.addHeader("Via", String(via)) }
    for name in ["Max-Forwards", "From"] { if let v = invite.header(name) { ack.addHeader(name, v) } }
    if let to = response.header("To") { ack.addHeader("To", to) }
    if let cid = invite.header("Call-ID") { ack.addHeader("Call-ID", cid) }
    if let cs = try? invite.cseq() { ack.addHeader("CSeq", String(cs.sequence) + " ACK") }
    for r in invite.headerLines("Route") { ack.addHeader("Route", r) }
    return ack
}
