/// Identifies one scheduled timer; stale after it fires or is cancelled (the generation
/// changes when the slot is reused, so cancelling a stale id is a no-op).
public struct TimerID: Sendable, Hashable {
    let index: UInt32
    let generation: UInt32
}

/// A hashed timer wheel (Varghese & Lauck, scheme 6) for millions of protocol timers:
/// schedule and cancel are O(1) (a slab entry in a doubly-linked bucket list), expiry costs
/// one bucket per tick. Timers more than one turn away wait in a coarse wheel (one slot
/// per turn) and cascade into the fine wheel a turn before they are due, so hour-long
/// timers (rekeys, registrations) are not rescanned every turn. Timers never fire early;
/// within a batch of due timers they fire in exact deadline order (ties in scheduling
/// order). Deadlines are monotonic nanoseconds.
///
/// Expiry is two-step so a firing callback can cancel a later timer of the same batch:
/// `collectDue` lists due ids, `take` hands out a payload only if it was not cancelled meanwhile.
public struct TimerWheel<Payload> {
    private enum State: UInt8 { case free, scheduled, due }

    private struct Entry {
        var deadline: UInt64 = 0
        var tick: UInt64 = 0
        var seq: UInt64 = 0
        var prev: Int32 = -1
        var next: Int32 = -1
        var generation: UInt32 = 0
        var state: State = .free
        var inFar = false
        var payload: Payload?
    }

    public let tickNanoseconds: UInt64
    public let slotCount: Int
    private let origin: UInt64
    private let mask: UInt64
    private var entries: [Entry] = []
    private var freeList: [Int32] = []
    private var heads: [Int32]
    private var bucketCounts: [Int32]
    private var occupied: [UInt64]
    private var farHeads: [Int32]
    private var farCount = 0
    private var lastTick: UInt64 = 0
    private var nextSeq: UInt64 = 0
    /// Timers scheduled and not yet fired or cancelled (due-but-not-taken ones included).
    public private(set) var count = 0

    /// - Parameters:
    ///   - tickNanoseconds: resolution (default 1 ms).
    ///   - slots: buckets, rounded up to a power of two (default 8192: one turn is 8.2 s at 1 ms).
    ///   - now: the monotonic time the wheel starts at.
    public init(tickNanoseconds: UInt64 = 1_000_000, slots: Int = 8192, now: UInt64) {
        var n = 64
        while n < slots { n <<= 1 }
        self.tickNanoseconds = max(1, tickNanoseconds)
        self.slotCount = n
        self.mask = UInt64(n - 1)
        self.origin = now
        self.heads = Array(repeating: -1, count: n)
        self.bucketCounts = Array(repeating: 0, count: n)
        self.occupied = Array(repeating: 0, count: n / 64)
        self.farHeads = Array(repeating: -1, count: 1024)
    }

    @inline(__always) private func turn(_ tick: UInt64) -> UInt64 { tick / UInt64(slotCount) }

    /// Schedules `payload` for `deadline` (monotonic ns); a past deadline fires at the next expiry.
    public mutating func schedule(at deadline: UInt64, _ payload: Payload) -> TimerID {
        let rel = deadline > origin ? deadline - origin : 0
        var tick = (rel + tickNanoseconds - 1) / tickNanoseconds  // ceil: never early
        if tick <= lastTick { tick = lastTick + 1 }
        let index: Int32
        if let i = freeList.popLast() {
            index = i
        } else {
            index = Int32(entries.count)
            entries.append(Entry())
        }
        let i = Int(index)
        entries[i].deadline = deadline
        entries[i].tick = tick
        entries[i].seq = nextSeq
        nextSeq &+= 1
        entries[i].state = .scheduled
        entries[i].payload = payload
        if turn(tick) >= turn(lastTick) + 2 {
            linkFar(index)
        } else {
            link(index, bucket: Int(tick & mask))
        }
        count += 1
        return TimerID(index: UInt32(index), generation: entries[i].generation)
    }

    /// Cancels a timer; true if it was pending (scheduled, or due and not yet taken).
    @discardableResult
    public mutating func cancel(_ id: TimerID) -> Bool {
        let i = Int(id.index)
        guard i < entries.count, entries[i].generation == id.generation else { return false }
        switch entries[i].state {
        case .free: return false
        case .scheduled:
            if entries[i].inFar { unlinkFar(Int32(i)) } else { unlink(Int32(i), bucket: Int(entries[i].tick & mask)) }
        case .due: break
        }
        release(i)
        return true
    }

    /// True if `id` has neither fired nor been cancelled.
    public func isPending(_ id: TimerID) -> Bool {
        let i = Int(id.index)
        return i < entries.count && entries[i].generation == id.generation && entries[i].state != .free
    }

    /// Advances the wheel to `now` and appends the ids of all timers whose deadline has
    /// passed, sorted by deadline. Their payloads stay until `take` (or `cancel`).
    public mutating func collectDue(now: UInt64, into due: inout [TimerID]) {
        let target = now > origin ? (now - origin) / tickNanoseconds : 0
        guard target > lastTick else { return }
        let start = due.count
        if target - lastTick >= UInt64(slotCount) {
            if farCount > 0 {
                let from = turn(lastTick) + 2, to = turn(target) + 1
                if to - from >= UInt64(farHeads.count) {
                    for fb in 0..<farHeads.count { cascade(farBucket: fb, upToTurn: to) }
                } else {
                    var u = from
                    while u <= to { cascade(farBucket: Int(u % UInt64(farHeads.count)), upToTurn: to); u += 1 }
                }
            }
            for b in 0..<slotCount where heads[b] >= 0 { drain(bucket: b, upTo: target, into: &due) }
        } else {
            var t = lastTick + 1
            while t <= target {
                let b = Int(t & mask)
                if b == 0 && farCount > 0 {
                    // Entering turn t/N: the next turn's far timers move to the fine wheel.
                    let next = turn(t) + 1
                    cascade(farBucket: Int(next % UInt64(farHeads.count)), upToTurn: next)
                }
                if heads[b] >= 0 { drain(bucket: b, upTo: target, into: &due) }
                t += 1
            }
        }
        lastTick = target
        if due.count - start > 1 {
            due[start...].sort { a, b in
                let x = entries[Int(a.index)], y = entries[Int(b.index)]
                return x.deadline != y.deadline ? x.deadline < y.deadline : x.seq < y.seq
            }
        }
    }

    /// The payload of a due timer, removing it; nil if it was cancelled after `collectDue`.
    public mutating func take(_ id: TimerID) -> Payload? {
        let i = Int(id.index)
        guard i < entries.count, entries[i].generation == id.generation, entries[i].state == .due else { return nil }
        let p = entries[i].payload
        release(i)
        return p
    }

    /// A time at or before the earliest pending deadline (the start of the first non-empty
    /// bucket's tick), or nil when nothing is scheduled. Costs slots/64 word tests at most.
    public func nextWakeup() -> UInt64? {
        guard count > 0 else { return nil }
        // Far timers are at least a turn away: waking at the next turn boundary is early enough.
        let boundary = origin + (turn(lastTick) + 1) * UInt64(slotCount) * tickNanoseconds
        guard let fine = nextFineWakeup() else { return farCount > 0 ? boundary : nil }
        return fine
    }

    private func nextFineWakeup() -> UInt64? {
        let words = occupied.count
        let first = Int((lastTick + 1) & mask)
        var w = first >> 6
        var bits = occupied[w] & (~UInt64(0) << UInt64(first & 63))
        var scanned = 0
        while bits == 0 {
            scanned += 1
            if scanned > words { return nil }
            w = (w + 1) % words
            bits = occupied[w]
        }
        let b = w << 6 | bits.trailingZeroBitCount
        let distance = UInt64((b - first + slotCount) % slotCount)
        return origin + (lastTick + 1 + distance) * tickNanoseconds
    }

    /// Drops every timer (payloads released).
    public mutating func removeAll() {
        entries.removeAll()
        freeList.removeAll()
        for b in 0..<slotCount { heads[b] = -1; bucketCounts[b] = 0 }
        for b in 0..<farHeads.count { farHeads[b] = -1 }
        farCount = 0
        for w in 0..<occupied.count { occupied[w] = 0 }
        count = 0
    }

    // MARK: - lists

    private mutating func drain(bucket b: Int, upTo target: UInt64, into due: inout [TimerID]) {
        var i = heads[b]
        while i >= 0 {
            let next = entries[Int(i)].next
            if entries[Int(i)].tick <= target {
                unlink(i, bucket: b)
                entries[Int(i)].state = .due
                due.append(TimerID(index: UInt32(i), generation: entries[Int(i)].generation))
            }
            i = next
        }
    }

    private mutating func cascade(farBucket fb: Int, upToTurn maxTurn: UInt64) {
        var i = farHeads[fb]
        while i >= 0 {
            let next = entries[Int(i)].next
            let tick = entries[Int(i)].tick
            if turn(tick) <= maxTurn {
                unlinkFar(i)
                link(i, bucket: Int(tick & mask))
            }
            i = next
        }
    }

    private mutating func linkFar(_ i: Int32) {
        let fb = Int(turn(entries[Int(i)].tick) % UInt64(farHeads.count))
        let head = farHeads[fb]
        entries[Int(i)].prev = -1
        entries[Int(i)].next = head
        entries[Int(i)].inFar = true
        if head >= 0 { entries[Int(head)].prev = i }
        farHeads[fb] = i
        farCount += 1
    }

    private mutating func unlinkFar(_ i: Int32) {
        let fb = Int(turn(entries[Int(i)].tick) % UInt64(farHeads.count))
        let p = entries[Int(i)].prev, n = entries[Int(i)].next
        if p >= 0 { entries[Int(p)].next = n } else { farHeads[fb] = n }
        if n >= 0 { entries[Int(n)].prev = p }
        entries[Int(i)].prev = -1
        entries[Int(i)].next = -1
        entries[Int(i)].inFar = false
        farCount -= 1
    }

    private mutating func link(_ i: Int32, bucket b: Int) {
        let head = heads[b]
        entries[Int(i)].prev = -1
        entries[Int(i)].next = head
        if head >= 0 { entries[Int(head)].prev = i }
        heads[b] = i
        bucketCounts[b] += 1
        occupied[b >> 6] |= 1 << UInt64(b & 63)
    }

    private mutating func unlink(_ i: Int32, bucket b: Int) {
        let p = entries[Int(i)].prev, n = entries[Int(i)].next
        if p >= 0 { entries[Int(p)].next = n } else { heads[b] = n }
        if n >= 0 { entries[Int(n)].prev = p }
        entries[Int(i)].prev = -1
        entries[Int(i)].next = -1
        bucketCounts[b] -= 1
        if bucketCounts[b] == 0 { occupied[b >> 6] &= ~(1 << UInt64(b & 63)) }
    }

    private mutating func release(_ i: Int) {
        entries[i].state = .free
        entries[i].payload = nil
        entries[i].generation &+= 1
        freeList.append(Int32(i))
        count -= 1
    }
}
