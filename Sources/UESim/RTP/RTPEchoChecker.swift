/// Checks the echo of what an `RTPSender` sent: every packet should come back once, with the
/// payload unchanged. Counts loss, corruption, duplicates and reordering, and measures the
/// round-trip time per packet.
public struct RTPEchoChecker: Sendable {
    struct Sent: Sendable { var at: Double; var sequenceNumber: UInt16; var size: Int }

    var sent: [UInt32: Sent] = [:]
    var received: Set<UInt32> = []
    var rtts: [Double] = []
    var highestReceived: UInt32?
    public private(set) var mismatched = 0
    public private(set) var duplicates = 0
    public private(set) var outOfOrder = 0
    public private(set) var malformed = 0
    public private(set) var unknown = 0

    public init() {}

    public enum Verdict: Sendable, Equatable {
        case ok(index: UInt32, rtt: Double)
        case duplicate(index: UInt32)
        case payloadMismatch(index: UInt32)
        /// An index we never sent.
        case unknown
        case malformed(RTPError)
        /// Too short to carry the test pattern.
        case notTestPattern
    }

    /// Records a packet just handed to the network.
    public mutating func didSend(_ p: RTPPacket, at now: Double) {
        guard let h = RTPSender.patternHeader(p.payload) else { return }
        sent[h.index] = Sent(at: now, sequenceNumber: p.sequenceNumber, size: p.payload.count)
    }

    /// Checks one echoed datagram.
    @discardableResult
    public mutating func receive(_ bytes: [UInt8], now: Double) -> Verdict {
        let p: RTPPacket
        do { p = try RTPPacket(parsing: bytes) } catch let e as RTPError { malformed += 1; return .malformed(e) } catch { malformed += 1; return .notTestPattern }
        guard let h = RTPSender.patternHeader(p.payload) else { malformed += 1; return .notTestPattern }
        guard let s = sent[h.index] else { unknown += 1; return .unknown }
        guard p.payload == RTPSender.testPattern(index: h.index, sequenceNumber: s.sequenceNumber, size: s.size) else {
            mismatched += 1
            return .payloadMismatch(index: h.index)
        }
        guard received.insert(h.index).inserted else { duplicates += 1; return .duplicate(index: h.index) }
        if let hi = highestReceived, h.index < hi { outOfOrder += 1 }
        highestReceived = max(highestReceived ?? 0, h.index)
        let rtt = now - s.at
        rtts.append(rtt)
        return .ok(index: h.index, rtt: rtt)
    }

    /// The figures at `now`; packets sent less than `grace` seconds ago are in flight, not lost.
    public func report(now: Double, grace: Double = 0.5) -> RTPEchoReport {
        let settled = sent.filter { $0.value.at <= now - grace }
        let lost = settled.keys.filter { !received.contains($0) }.count
        let sorted = rtts.sorted()
        return RTPEchoReport(sent: sent.count, received: received.count, lost: lost, mismatched: mismatched,
                             duplicates: duplicates, outOfOrder: outOfOrder, malformed: malformed + unknown,
                             rttP50: sorted.isEmpty ? nil : sorted[(sorted.count - 1) / 2], rttMax: sorted.last)
    }
}

/// The outcome of an echo test, for the call-flow verdict.
public struct RTPEchoReport: Sendable, Equatable, CustomStringConvertible {
    public var sent: Int
    public var received: Int
    public var lost: Int
    public var mismatched: Int
    public var duplicates: Int
    public var outOfOrder: Int
    public var malformed: Int
    /// Median and maximum round-trip time, seconds.
    public var rttP50: Double?
    public var rttMax: Double?

    public var lossRatio: Double { sent == 0 ? 0 : Double(lost) / Double(sent) }
    /// Every settled packet came back intact.
    public var passed: Bool { sent > 0 && lost == 0 && mismatched == 0 && malformed == 0 }

    public var description: String {
        func ms(_ v: Double?) -> String { v.map { String(Int(($0 * 1000).rounded())) + " ms" } ?? "-" }
        return "sent \(sent), echoed \(received), lost \(lost), corrupt \(mismatched), dup \(duplicates), rtt p50 \(ms(rttP50)) max \(ms(rttMax))"
    }
}
