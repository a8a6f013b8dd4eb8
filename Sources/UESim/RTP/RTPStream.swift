/// One timed echo test: sends a packet every packet time for `duration` seconds from
/// `start(now:)`, and checks what comes back. Sans-I/O: `tick(now:)` returns the datagrams
/// (RTP bytes) due by `now`; `nextDeadline` says when to tick again.
public struct RTPStream: Sendable {
    public private(set) var sender: RTPSender
    public private(set) var checker = RTPEchoChecker()
    public let duration: Double
    public private(set) var startedAt: Double?

    public init(sender: RTPSender, duration: Double) {
        self.sender = sender; self.duration = duration
    }

    public var packetCount: UInt32 { UInt32((duration / sender.packetTime).rounded()) }

    public mutating func start(now: Double) -> [[UInt8]] {
        startedAt = now
        return tick(now: now)
    }

    /// Packets whose send time (start + k·ptime) has come; a late tick catches up.
    public mutating func tick(now: Double) -> [[UInt8]] {
        guard let t0 = startedAt else { return [] }
        var out: [[UInt8]] = []
        while sender.index < packetCount, t0 + Double(sender.index) * sender.packetTime <= now + 1e-9 {
            let p = sender.nextPacket()
            checker.didSend(p, at: now)
            out.append(p.serialized())
        }
        return out
    }

    public var nextDeadline: Double? {
        guard let t0 = startedAt, sender.index < packetCount else { return nil }
        return t0 + Double(sender.index) * sender.packetTime
    }

    /// All packets sent.
    public var finishedSending: Bool { startedAt != nil && sender.index >= packetCount }

    @discardableResult
    public mutating func receive(_ bytes: [UInt8], now: Double) -> RTPEchoChecker.Verdict { checker.receive(bytes, now: now) }

    public func report(now: Double, grace: Double = 0.5) -> RTPEchoReport { checker.report(now: now, grace: grace) }
}
