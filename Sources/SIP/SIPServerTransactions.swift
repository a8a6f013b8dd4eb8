/// INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with the Accepted state of RFC 6026).
/// Created on a new INVITE; the TU's responses come in as `.send`.
public struct SIPInviteServerTransaction: Sendable {
    public private(set) var state: SIPTransactionState = .proceeding
    public let request: SIPMessage
    public let reliable: Bool
    public let timers: SIPTimerValues
    public private(set) var lastResponse: SIPMessage? = nil
    private var intervalG: Double

    public init(request: SIPMessage, reliable: Bool, timers: SIPTimerValues = SIPTimerValues()) {
        self.request = request; self.reliable = reliable; self.timers = timers; self.intervalG = timers.t1
    }

    /// Hands the INVITE to the TU. (The TU sends 100 Trying itself, at once, as the IMS does.)
    public mutating func start(now: Double) -> [SIPTransactionAction] { [.deliver(request)] }

    public mutating func handle(_ event: SIPTransactionEvent, now: Double) -> [SIPTransactionAction] {
        switch (state, event) {
        case (.proceeding, .received(let r)) where r.method == "INVITE":
            return lastResponse.map { [.transmit($0)] } ?? []
        case (.proceeding, .send(let r)):
            guard let code = r.statusCode else { return [] }
            lastResponse = r
            if code < 200 { return [.transmit(r)] }
            if code < 300 {
                state = .accepted
                return [.transmit(r), .arm(.L, at: now + timers.timeout)]
            }
            state = .completed
            var out: [SIPTransactionAction] = [.transmit(r)]
            if !reliable { out.append(.arm(.G, at: now + intervalG)) }
            out.append(.arm(.H, at: now + timers.timeout))
            return out
        case (.proceeding, .transportError), (.completed, .transportError):
            state = .terminated
            return [.cancel(.G), .cancel(.H), .timedOut, .terminated]
        case (.accepted, .send(let r)):
            // Retransmissions of the 2xx by the TU (§13.3.1.4) pass through.
            if let c = r.statusCode, c >= 200, c < 300 { lastResponse = r; return [.transmit(r)] }
            return []
        case (.accepted, .received(let r)):
            // INVITE retransmissions are absorbed; ACK for the 2xx goes to the TU.
            return r.method == "ACK" ? [.deliver(r)] : []
        case (.accepted, .timer(.L)):
            state = .terminated
            return [.terminated]
        case (.completed, .timer(.G)):
            intervalG = min(2 * intervalG, timers.t2)
            return (lastResponse.map { [SIPTransactionAction.transmit($0)] } ?? []) + [.arm(.G, at: now + intervalG)]
        case (.completed, .received(let r)):
            if r.method == "INVITE" { return lastResponse.map { [.transmit($0)] } ?? [] }
            if r.method == "ACK" {
                state = .confirmed
                return [.cancel(.G), .cancel(.H), .arm(.I, at: now + (reliable ? 0 : timers.t4))]
            }
            return []
        case (.completed, .timer(.H)):
            state = .terminated
            return [.cancel(.G), .timedOut, .terminated]
        case (.confirmed, .timer(.I)):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }
}

/// Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
public struct SIPNonInviteServerTransaction: Sendable {
    public private(set) var state: SIPTransactionState = .trying
    public let request: SIPMessage
    public let reliable: Bool
    public let timers: SIPTimerValues
    public private(set) var lastResponse: SIPMessage? = nil

    public init(request: SIPMessage, reliable: Bool, timers: SIPTimerValues = SIPTimerValues()) {
        self.request = request; self.reliable = reliable; self.timers = timers
    }

    public mutating func start(now: Double) -> [SIPTransactionAction] { [.deliver(request)] }

    public mutating func handle(_ event: SIPTransactionEvent, now: Double) -> [SIPTransactionAction] {
        switch (state, event) {
        case (.trying, .received), (.proceeding, .received), (.completed, .received):
            // A retransmitted request: resend the last response if any (none yet in Trying).
            return lastResponse.map { [.transmit($0)] } ?? []
        case (.trying, .send(let r)), (.proceeding, .send(let r)):
            guard let code = r.statusCode else { return [] }
            lastResponse = r
            if code < 200 { state = .proceeding; return [.transmit(r)] }
            state = .completed
            return [.transmit(r), .arm(.J, at: now + (reliable ? 0 : timers.timeout))]
        case (.trying, .transportError), (.proceeding, .transportError):
            state = .terminated
            return [.timedOut, .terminated]
        case (.completed, .timer(.J)):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }
}
