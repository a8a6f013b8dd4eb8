/// Holds the transactions of one SIP element, matches messages to them (§17.1.3, §17.2.3),
/// keeps their timer deadlines, and tells the transaction user (TU) what to do. Sans-I/O:
/// feed received messages, TU sends, and `tick(now:)` when `nextDeadline` passes.
public struct SIPTransactionLayer: Sendable {
    public enum Output: Sendable, Equatable {
        /// Transmit a message to a peer.
        case send(SIPMessage, to: SIPPeer)
        /// A new request (or an ACK for a 2xx) or a response for the TU.
        case deliver(SIPMessage, from: SIPPeer)
        /// A client transaction got no final response, or a server transaction no ACK (§17).
        case timedOut(SIPMessage)
    }

    enum Machine: Sendable {
        case ict(SIPInviteClientTransaction)
        case nict(SIPNonInviteClientTransaction)
        case ist(SIPInviteServerTransaction)
        case nist(SIPNonInviteServerTransaction)

        mutating func handle(_ e: SIPTransactionEvent, now: Double) -> [SIPTransactionAction] {
            switch self {
            case .ict(var t): let a = t.handle(e, now: now); self = .ict(t); return a
            case .nict(var t): let a = t.handle(e, now: now); self = .nict(t); return a
            case .ist(var t): let a = t.handle(e, now: now); self = .ist(t); return a
            case .nist(var t): let a = t.handle(e, now: now); self = .nist(t); return a
            }
        }

        var request: SIPMessage {
            switch self {
            case .ict(let t): return t.request
            case .nict(let t): return t.request
            case .ist(let t): return t.request
            case .nist(let t): return t.request
            }
        }
    }

    struct Record: Sendable {
        var machine: Machine
        var peer: SIPPeer
        var deadlines: [SIPTransactionTimer: Double] = [:]
    }

    public var timers: SIPTimerValues
    var servers: [SIPTransactionKey: Record] = [:]
    /// Server transactions by the text of their request's first Via, CSeq and Call-ID lines:
    /// a response the TU built by copying those (RFC 3261 §8.2.6.2) finds its transaction in
    /// `respond` without parsing its Via again.
    var serverByText: [String: SIPTransactionKey] = [:]
    var clients: [SIPTransactionKey: Record] = [:]
    /// Every armed timer by deadline (a binary min-heap). Entries whose timer was cancelled,
    /// re-armed or whose transaction ended stay until they reach the top and are dropped
    /// there, so arming is O(log n) and `nextDeadline` O(1) however many transactions live
    /// (completed ones linger 64*T1 for Timer J/K).
    var heap: [TimerEntry] = []

    struct TimerEntry: Sendable {
        var at: Double
        var key: SIPTransactionKey
        var server: Bool
        var timer: SIPTransactionTimer
    }

    public init(timers: SIPTimerValues = SIPTimerValues()) { self.timers = timers }

    public var serverCount: Int { servers.count }
    public var clientCount: Int { clients.count }

    /// The earliest armed timer, when `tick` should next be called.
    public var nextDeadline: Double? { heap.first?.at }

    /// A message received from `peer`. Requests that match no transaction start one (ACK excepted)
    /// and are delivered; responses that match none (2xx retransmissions, proxied responses) are delivered as is.
    public mutating func receive(_ message: SIPMessage, from peer: SIPPeer, now: Double) -> [Output] {
        if message.isRequest {
            guard let key = try? SIPTransactionKey.server(for: message) else { return [] }
            if var rec = servers[key] {
                let acts = rec.machine.handle(.received(message), now: now)
                return apply(acts, to: &rec, key: key, server: true)
            }
            if message.method == "ACK" { return [.deliver(message, from: peer)] }
            if let t = Self.matchText(message) { serverByText[t] = key }
            let reliable = peer.transport.isReliable
            var rec: Record
            var acts: [SIPTransactionAction]
            if message.method == "INVITE" {
                var t = SIPInviteServerTransaction(request: message, reliable: reliable, timers: timers)
                acts = t.start(now: now)
                rec = Record(machine: .ist(t), peer: peer)
            } else {
                var t = SIPNonInviteServerTransaction(request: message, reliable: reliable, timers: timers)
                acts = t.start(now: now)
                rec = Record(machine: .nist(t), peer: peer)
            }
            return apply(acts, to: &rec, key: key, server: true)
        }
        guard let key = try? SIPTransactionKey.client(for: message) else { return [] }
        guard var rec = clients[key] else { return [.deliver(message, from: peer)] }
        let acts = rec.machine.handle(.received(message), now: now)
        return apply(acts, to: &rec, key: key, server: false)
    }

    /// The TU answers a request it was given. Without a matching server transaction (an ACK-less
    /// stateless answer), the response is sent to `fallbackPeer`.
    public mutating func respond(_ response: SIPMessage, now: Double, fallbackPeer: SIPPeer? = nil) -> [Output] {
        if let t = Self.matchText(response), let key = serverByText[t], var rec = servers[key] {
            let acts = rec.machine.handle(.send(response), now: now)
            return apply(acts, to: &rec, key: key, server: true)
        }
        if let key = try? SIPTransactionKey.client(for: response), var rec = servers[key] {
            let acts = rec.machine.handle(.send(response), now: now)
            return apply(acts, to: &rec, key: key, server: true)
        }
        return fallbackPeer.map { [.send(response, to: $0)] } ?? []
    }

    /// The TU sends a request. ACK (for a 2xx) has no transaction and is simply sent.
    public mutating func sendRequest(_ request: SIPMessage, to peer: SIPPeer, now: Double) -> [Output] {
        guard request.method != "ACK", let via = try? request.topVia(), let cs = try? request.cseq() else {
            return [.send(request, to: peer)]
        }
        let key = SIPTransactionKey(branch: via.branch ?? "", sentBy: via.sentBy, method: cs.method)
        let reliable = peer.transport.isReliable
        var rec: Record
        var acts: [SIPTransactionAction]
        if request.method == "INVITE" {
            var t = SIPInviteClientTransaction(request: request, reliable: reliable, timers: timers)
            acts = t.start(now: now)
            rec = Record(machine: .ict(t), peer: peer)
        } else {
            var t = SIPNonInviteClientTransaction(request: request, reliable: reliable, timers: timers)
            acts = t.start(now: now)
            rec = Record(machine: .nict(t), peer: peer)
        }
        return apply(acts, to: &rec, key: key, server: false)
    }

    /// The client transaction key of a request we sent (top Via branch and sent-by, method).
    static func clientKey(for request: SIPMessage) -> SIPTransactionKey? {
        guard let via = try? request.topVia(), let cs = try? request.cseq() else { return nil }
        return SIPTransactionKey(branch: via.branch ?? "", sentBy: via.sentBy, method: cs.method)
    }

    /// True while a client transaction for `request` is alive.
    public func hasClientTransaction(for request: SIPMessage) -> Bool {
        Self.clientKey(for: request).map { clients[$0] != nil } ?? false
    }

    /// Whether any transaction is with `address`:`port` (either transport): a connection to
    /// that peer is still needed.
    public func hasTransaction(withAddress address: String, port: UInt16) -> Bool {
        servers.values.contains { $0.peer.address == address && $0.peer.port == port }
            || clients.values.contains { $0.peer.address == address && $0.peer.port == port }
    }

    /// The transport could not deliver `request` (§17.1.1.2, §17.1.2.2: connection failure):
    /// its client transaction ends with `.timedOut`, which the TU treats as 503 (§8.1.3.1).
    public mutating func transportError(for request: SIPMessage, now: Double) -> [Output] {
        guard let key = Self.clientKey(for: request), var rec = clients[key] else { return [] }
        let acts = rec.machine.handle(.transportError, now: now)
        return apply(acts, to: &rec, key: key, server: false)
    }

    /// Fires every timer due at `now`.
    public mutating func tick(now: Double) -> [Output] {
        var out: [Output] = []
        // Due timers in deadline order; a timer armed for now or earlier by an action runs too.
        while let top = heap.first, top.at <= now {
            popHeap()
            guard var rec = top.server ? servers[top.key] : clients[top.key], rec.deadlines[top.timer] == top.at else { continue }
            rec.deadlines[top.timer] = nil
            let acts = rec.machine.handle(.timer(top.timer), now: now)
            out += apply(acts, to: &rec, key: top.key, server: top.server)
        }
        pruneHeap()
        return out
    }

    // MARK: timer heap

    private func isLive(_ e: TimerEntry) -> Bool {
        (e.server ? servers[e.key] : clients[e.key])?.deadlines[e.timer] == e.at
    }

    /// Drops dead entries from the top, so `nextDeadline` names a timer that will fire.
    private mutating func pruneHeap() {
        while let top = heap.first, !isLive(top) { popHeap() }
    }

    private mutating func pushHeap(_ e: TimerEntry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].at < heap[parent].at else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func popHeap() {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].at < heap[m].at { m = l }
            if r < heap.count && heap[r].at < heap[m].at { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }

    private mutating func apply(_ actions: [SIPTransactionAction], to rec: inout Record, key: SIPTransactionKey, server: Bool) -> [Output] {
        var out: [Output] = []
        var terminated = false
        for a in actions {
            switch a {
            case .transmit(let m): out.append(.send(m, to: rec.peer))
            case .deliver(let m): out.append(.deliver(m, from: rec.peer))
            case .arm(let t, let at):
                rec.deadlines[t] = at
                pushHeap(TimerEntry(at: at, key: key, server: server, timer: t))
            case .cancel(let t): rec.deadlines[t] = nil
            case .timedOut: out.append(.timedOut(rec.machine.request))
            case .terminated: terminated = true
            }
        }
        if server {
            servers[key] = terminated ? nil : rec
            if terminated, let t = Self.matchText(rec.machine.request), serverByText[t] == key { serverByText[t] = nil }
        } else {
            clients[key] = terminated ? nil : rec
        }
        pruneHeap()
        return out
    }

    /// The first Via, CSeq and Call-ID lines as written (see `serverByText`).
    static func matchText(_ m: SIPMessage) -> String? {
        var via: String? = nil, cseq: String? = nil, callID: String? = nil
        for h in m.headers {
            switch h.key {
            case "via" where via == nil: via = h.value
            case "cseq" where cseq == nil: cseq = h.value
            case "call-id" where callID == nil: callID = h.value
            default: continue
            }
            if via != nil && cseq != nil && callID != nil { break }
        }
        guard let v = via, let c = cseq, let i = callID else { return nil }
        return v + "\n" + c + "\n" + i
    }
}
