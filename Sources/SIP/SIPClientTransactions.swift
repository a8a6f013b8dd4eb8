/// INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with the Accepted state of RFC 6026).
public struct SIPInviteClientTransaction: Sendable {
    public private(set) var state: SIPTransactionState = .calling
    public let request: SIPMessage
    public let reliable: Bool
    public let timers: SIPTimerValues
    private var intervalA: Double
    private var ack: SIPMessage? = nil

    public init(request: SIPMessage, reliable: Bool, timers: SIPTimerValues = SIPTimerValues()) {
        self.request = request; self.reliable = reliable; self.timers = timers; self.intervalA = timers.t1
    }

    /// Sends the INVITE and arms A (unreliable transports only) and B.
    public mutating func start(now: Double) -> [SIPTransactionAction] {
        var out: [SIPTransactionAction] = [.transmit(request)]
        if !reliable { out.append(.arm(.A, at: now + intervalA)) }
        out.append(.arm(.B, at: now + timers.timeout))
        return out
    }

    public mutating func handle(_ event: SIPTransactionEvent, now: Double) -> [SIPTransactionAction] {
        switch (state, event) {
        case (.calling, .timer(.A)):
            intervalA *= 2
            return [.transmit(request), .arm(.A, at: now + intervalA)]
        case (.calling, .timer(.B)), (.calling, .transportError), (.proceeding, .transportError):
            state = .terminated
            return [.cancel(.A), .timedOut, .terminated]
        case (.calling, .received(let r)), (.proceeding, .received(let r)):
            guard let code = r.statusCode else { return [] }
            if code < 200 {
                let wasCalling = state == .calling
                state = .proceeding
                return (wasCalling ? [.cancel(.A)] : []) + [.deliver(r)]
            }
            if code < 300 {
                // RFC 6026: stay in Accepted for 64*T1 to pass further 2xx (forks, retransmits) to the TU.
                state = .accepted
                return [.cancel(.A), .cancel(.B), .deliver(r), .arm(.M, at: now + timers.timeout)]
            }
            state = .completed
            let a = sipAckForNon2xx(invite: request, response: r)
            ack = a
            return [.cancel(.A), .cancel(.B), .transmit(a), .deliver(r), .arm(.D, at: now + (reliable ? 0 : 32))]
        case (.accepted, .received(let r)):
            if let c = r.statusCode, c >= 200, c < 300 { return [.deliver(r)] }
            return []
        case (.accepted, .timer(.M)):
            state = .terminated
            return [.terminated]
        case (.completed, .received(let r)):
            // A retransmitted final response: resend the ACK, do not bother the TU.
            if let c = r.statusCode, c >= 300, let a = ack { return [.transmit(a)] }
            return []
        case (.completed, .timer(.D)):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }
}

/// Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
public struct SIPNonInviteClientTransaction: Sendable {
    public private(set) var state: SIPTransactionState = .trying
    public let request: SIPMessage
    public let reliable: Bool
    public let timers: SIPTimerValues
    private var intervalE: Double

    public init(request: SIPMessage, reliable: Bool, timers: SIPTimerValues = SIPTimerValues()) {
        self.request = request; self.reliable = reliable; self.timers = timers; self.intervalE = timers.t1
    }

    public mutating func start(now: Double) -> [SIPTransactionAction] {
        var out: [SIPTransactionAction] = [.transmit(request)]
        if !reliable { out.append(.arm(.E, at: now + intervalE)) }
        out.append(.arm(.F, at: now + timers.timeout))
        return out
    }

    public mutating func handle(_ event: SIPTransactionEvent, now: Double) -> [SIPTransactionAction] {
        switch (state, event) {
        case (.trying, .timer(.E)):
            intervalE = min(2 * intervalE, timers.t2)
            return [.transmit(request), .arm(.E, at: now + intervalE)]
        case (.proceeding, .timer(.E)):
            intervalE = timers.t2
            return [.transmit(request), .arm(.E, at: now + intervalE)]
        case (.trying, .timer(.F)), (.proceeding, .timer(.F)), (.trying, .transportError), (.proceeding, .transportError):
            state = .terminated
            return [.cancel(.E), .timedOut, .terminated]
        case (.trying, .received(let r)), (.proceeding, .received(let r)):
            guard let code = r.statusCode else { return [] }
            if code < 200 {
                state = .proceeding
                return [.deliver(r)]
            }
            state = .completed
            return [.cancel(.E), .cancel(.F), .deliver(r), .arm(.K, at: now + (reliable ? 0 : timers.t4))]
        case (.completed, .timer(.K)):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }
}
