import XCTest
@testable import Runtime

final class TimerWheelTests: XCTestCase {
    /// Drives a wheel through time and records what fires.
    private func run(_ wheel: inout TimerWheel<Int>, until end: UInt64, step: UInt64, fired: inout [(Int, UInt64)]) {
        var t = step
        var due: [TimerID] = []
        while t <= end {
            wheel.collectDue(now: t, into: &due)
            for id in due { if let v = wheel.take(id) { fired.append((v, t)) } }
            due.removeAll()
            t += step
        }
    }

    func testFiresInDeadlineOrderNeverEarlyAndCancelledNeverFire() {
        var wheel = TimerWheel<Int>(tickNanoseconds: 1_000_000, slots: 256, now: 0)
        var rng = SystemRandomNumberGenerator()
        var deadlines: [Int: UInt64] = [:]
        var ids: [TimerID] = []
        for i in 0..<100_000 {
            let d = UInt64.random(in: 0...2_000_000_000, using: &rng)  // up to 2 s: several wheel turns
            deadlines[i] = d
            ids.append(wheel.schedule(at: d, i))
        }
        var cancelled = Set<Int>()
        for i in stride(from: 0, to: 100_000, by: 3) {
            XCTAssertTrue(wheel.cancel(ids[i]))
            cancelled.insert(i)
        }
        XCTAssertFalse(wheel.cancel(ids[0]), "second cancel of the same timer is a no-op")
        XCTAssertEqual(wheel.count, 100_000 - cancelled.count)
        var fired: [(Int, UInt64)] = []
        run(&wheel, until: 2_100_000_000, step: 3_000_000, fired: &fired)
        XCTAssertEqual(fired.count, 100_000 - cancelled.count)
        XCTAssertEqual(wheel.count, 0)
        var last: UInt64 = 0
        for (v, at) in fired {
            XCTAssertFalse(cancelled.contains(v), "cancelled timer \(v) fired")
            let d = deadlines[v]!
            XCTAssertGreaterThanOrEqual(at, d, "timer fired before its deadline")
            XCTAssertLessThan(at - d, 3_000_000 + 1_000_000, "fired more than one step + tick late")
            XCTAssertGreaterThanOrEqual(d, last, "out of deadline order")
            last = d
        }
    }

    /// Deadlines over 100 s on a 64 ms wheel: far timers cascade, some far slots alias
    /// (more than 1024 turns), and random steps mix tick-by-tick expiry with long jumps.
    func testFarTimersCascadeWithMixedStepsAndJumps() {
        var wheel = TimerWheel<Int>(tickNanoseconds: 1_000_000, slots: 64, now: 0)
        var deadlines: [UInt64] = []
        var ids: [TimerID] = []
        for i in 0..<20_000 {
            let d = UInt64.random(in: 0...100_000_000_000)
            deadlines.append(d)
            ids.append(wheel.schedule(at: d, i))
        }
        for i in stride(from: 0, to: 20_000, by: 5) { wheel.cancel(ids[i]) }
        var now: UInt64 = 0
        var due: [TimerID] = []
        var last: UInt64 = 0
        var fired = 0
        var lastStep: UInt64 = 0
        while now < 101_000_000_000 {
            lastStep = Bool.random() ? UInt64.random(in: 1_000_000...3_000_000) : UInt64.random(in: 50_000_000...400_000_000)
            now += lastStep
            // Timers added while time passes must also fire on time.
            if fired % 7 == 0 && now < 90_000_000_000 {
                let d = now + UInt64.random(in: 0...5_000_000_000)
                deadlines.append(d)
                ids.append(wheel.schedule(at: d, deadlines.count - 1))
            }
            wheel.collectDue(now: now, into: &due)
            for id in due {
                guard let v = wheel.take(id) else { continue }
                XCTAssertFalse(v < 20_000 && v % 5 == 0, "cancelled \(v) fired")
                XCTAssertGreaterThanOrEqual(now, deadlines[v])
                XCTAssertLessThanOrEqual(now - deadlines[v], lastStep + 1_000_000)
                XCTAssertGreaterThanOrEqual(deadlines[v], last)
                last = deadlines[v]
                fired += 1
            }
            due.removeAll()
        }
        XCTAssertEqual(fired, deadlines.count - 4_000)
        XCTAssertEqual(wheel.count, 0)
        XCTAssertNil(wheel.nextWakeup())
    }

    func testNextWakeupWithOnlyFarTimersIsTheTurnBoundary() {
        var wheel = TimerWheel<Int>(tickNanoseconds: 1_000_000, slots: 64, now: 0)
        _ = wheel.schedule(at: 10_000_000_000, 1)  // 10 s: far
        XCTAssertEqual(wheel.nextWakeup(), 64_000_000)
        var due: [TimerID] = []
        wheel.collectDue(now: 9_999_000_000, into: &due)
        XCTAssertEqual(due, [])
        wheel.collectDue(now: 10_000_000_000, into: &due)
        XCTAssertEqual(due.count, 1)
    }

    func testCancelDuringBatchPreventsFiring() {
        var wheel = TimerWheel<String>(tickNanoseconds: 1_000_000, slots: 64, now: 0)
        let a = wheel.schedule(at: 5_000_000, "a")
        let b = wheel.schedule(at: 6_000_000, "b")
        var due: [TimerID] = []
        wheel.collectDue(now: 10_000_000, into: &due)
        XCTAssertEqual(due, [a, b])
        XCTAssertEqual(wheel.take(a), "a")
        XCTAssertTrue(wheel.cancel(b), "a due-but-untaken timer can still be cancelled")
        XCTAssertNil(wheel.take(b))
        XCTAssertFalse(wheel.isPending(a))
    }

    func testLongJumpAndLongTimersAndSlotReuse() {
        var wheel = TimerWheel<Int>(tickNanoseconds: 1_000_000, slots: 64, now: 1_000)
        let far = wheel.schedule(at: 1_000 + 3_600_000_000_000, 1)  // one hour: many turns
        let near = wheel.schedule(at: 1_000 + 10_000_000, 2)
        var due: [TimerID] = []
        wheel.collectDue(now: 1_000 + 500_000_000, into: &due)  // jump of 500 ticks > 64 slots
        XCTAssertEqual(due, [near])
        XCTAssertEqual(wheel.take(near), 2)
        due.removeAll()
        // A reused slot gets a new generation: the stale id cannot cancel the new timer.
        let reused = wheel.schedule(at: 1_000 + 600_000_000, 3)
        XCTAssertEqual(reused.index, near.index)
        XCTAssertFalse(wheel.cancel(near))
        XCTAssertTrue(wheel.isPending(reused))
        wheel.collectDue(now: 1_000 + 3_599_000_000_000, into: &due)
        XCTAssertEqual(due, [reused])
        _ = wheel.take(reused)
        due.removeAll()
        wheel.collectDue(now: 1_000 + 3_600_000_000_000, into: &due)
        XCTAssertEqual(due, [far])
    }

    func testPastDeadlineFiresAtNextExpiryAndNextWakeupIsALowerBound() {
        var wheel = TimerWheel<Int>(tickNanoseconds: 1_000_000, slots: 128, now: 0)
        XCTAssertNil(wheel.nextWakeup())
        var due: [TimerID] = []
        wheel.collectDue(now: 50_000_000, into: &due)
        let past = wheel.schedule(at: 10_000_000, 1)
        XCTAssertEqual(wheel.nextWakeup(), 51_000_000)
        wheel.collectDue(now: 51_000_000, into: &due)
        XCTAssertEqual(due, [past])
        _ = wheel.take(past)
        due.removeAll()
        _ = wheel.schedule(at: 300_000_000, 2)  // beyond one turn (128 ms)
        let hint = wheel.nextWakeup()!
        XCTAssertLessThanOrEqual(hint, 300_000_000)
        XCTAssertGreaterThan(hint, 51_000_000)
    }
}
