import XCTest
import Glibc
@testable import Runtime

final class EventLoopTests: XCTestCase {
    func testExecuteFromManyThreadsRunsEveryTaskOnTheLoopThread() throws {
        let group = try EventLoopGroup(loopCount: 2, name: "rt-exec")
        defer { group.shutdown() }
        let loop = group.loops[1]
        let seen = Collector<(Int, Bool)>()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<1000 { loop.execute { seen.append((t * 1000 + i, loop.inEventLoop)) } }
        }
        XCTAssertFalse(loop.inEventLoop)
        XCTAssertTrue(waitUntil { seen.count == 8000 })
        XCTAssertTrue(seen.values.allSatisfy { $0.1 }, "a task ran off the loop thread")
        XCTAssertEqual(Set(seen.values.map { $0.0 }).count, 8000)
        // submit returns the value computed on the loop, and rethrows.
        XCTAssertEqual(try loop.submit { loop.index * 10 + (loop.inEventLoop ? 1 : 0) }, 11)
        XCTAssertThrowsError(try loop.submit { throw RuntimeError.invalidAddress("x") }) { e in
            XCTAssertEqual(e as? RuntimeError, .invalidAddress("x"))
        }
    }

    func testTimersFireInDeadlineOrderUnderLoadAndCancelledNeverFire() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-timer")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let fired = Collector<(Int, UInt64, UInt64)>()  // (id, deadline, fired at)
        let total = 100_000
        let cancelledCount = try loop.submit { () -> Int in
            var ids: [TimerID] = []
            ids.reserveCapacity(total)
            let start = MonotonicClock.now()
            for i in 0..<total {
                let deadline = start + UInt64.random(in: 20_000_000...700_000_000)
                ids.append(loop.scheduleTimer(at: deadline) { fired.append((i, deadline, MonotonicClock.now())) })
            }
            var cancelled = 0
            for i in stride(from: 1, to: total, by: 4) where loop.cancelTimer(ids[i]) { cancelled += 1 }
            // Load on the loop while timers are due: tasks and more (cancelled) timers.
            for _ in 0..<1000 { loop.execute { _ = (0..<200).reduce(0, +) } }
            return cancelled
        }
        XCTAssertEqual(cancelledCount, total / 4)
        XCTAssertTrue(waitUntil(10) { fired.count >= total - cancelledCount })
        usleep(50_000)
        let values = fired.values
        XCTAssertEqual(values.count, total - cancelledCount)
        XCTAssertTrue(values.allSatisfy { $0.0 % 4 != 1 }, "a cancelled timer fired")
        var last: UInt64 = 0
        var outOfOrder = 0, early = 0
        for (_, deadline, at) in values {
            if deadline < last { outOfOrder += 1 }
            if at < deadline { early += 1 }
            last = deadline
        }
        XCTAssertEqual(outOfOrder, 0)
        XCTAssertEqual(early, 0)
        XCTAssertEqual(try loop.submit { loop.timerCount }, 0)
    }

    func testTimerCallbackCanCancelAnotherDueTimer() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-tcancel")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let fired = Collector<String>()
        try loop.submit {
            let at = MonotonicClock.now() + 5_000_000
            var second: TimerID?
            loop.scheduleTimer(at: at) {
                fired.append("first")
                XCTAssertTrue(loop.cancelTimer(second!))
            }
            second = loop.scheduleTimer(at: at + 100) { fired.append("second") }
            loop.scheduleTimer(at: at + 20_000_000) { fired.append("third") }
        }
        XCTAssertTrue(waitUntil { fired.count == 2 })
        usleep(20_000)
        XCTAssertEqual(fired.values, ["first", "third"])
    }

    func testShardIsStableAndSpreadsKeys() throws {
        XCTAssertEqual(EventLoopGroup.shard(for: 42, count: 8), EventLoopGroup.shard(for: 42, count: 8))
        var counts = [Int](repeating: 0, count: 8)
        for k in 0..<80_000 as Range<UInt64> { counts[EventLoopGroup.shard(for: k, count: 8)] += 1 }
        XCTAssertTrue(counts.allSatisfy { $0 > 9_000 && $0 < 11_000 }, "uneven: \(counts)")
        XCTAssertTrue((0..<1000 as Range<UInt64>).allSatisfy { EventLoopGroup.shard(for: $0, count: 1) == 0 })
        let group = try EventLoopGroup(loopCount: 3, name: "rt-shard")
        defer { group.shutdown() }
        XCTAssertEqual(group.loop(for: 123_456).index, EventLoopGroup.shard(for: 123_456, count: 3))
        for i in 0..<3 {
            let spi = group.randomKey32(forShard: i)
            XCTAssertNotEqual(spi, 0)
            XCTAssertEqual(group.shard(for: UInt64(spi)), i)
        }
    }

    func testStopClosesEverythingAndThreadsExit() throws {
        let fdsBefore = ProcSelf.openFDCount()
        let group = try EventLoopGroup(loopCount: 3, name: "rt-stop")
        XCTAssertEqual(ProcSelf.threadNames().filter { $0.hasPrefix("rt-stop-") }.count, 3)
        let addresses = try group.onEveryLoop { loop -> [SocketAddress] in
            let u4 = try UDPSocket.bind(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { _, _, _ in }
            let u6 = try UDPSocket.bind(SocketAddress(host: "::1", port: 0), on: loop, options: .init(batchSize: 1)) { _, _, _ in }
            let l = try TCPListener.listen(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { _ in }
            _ = try SignalWatcher.watch([SIGUSR2], on: loop) { _ in }
            loop.scheduleTimer(after: .seconds(3600)) {}
            return [u4.localAddress, u6.localAddress, l.localAddress]
        }
        // An accepted and a connecting TCP connection too.
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertEqual(addresses[0][2].withSockAddr { connect(client, $0, $1) }, 0)
        XCTAssertTrue(waitUntil { ProcSelf.openFDCount() >= fdsBefore + 3 * 4 + 3 * 2 + 2 })
        XCTAssertGreaterThan(ProcSelf.openFDCount(), fdsBefore)
        group.shutdown()
        close(client)
        XCTAssertEqual(ProcSelf.openFDCount(), fdsBefore, "descriptors leaked after shutdown")
        XCTAssertEqual(ProcSelf.threadNames().filter { $0.hasPrefix("rt-stop-") }, [], "loop threads still alive")
        // A stopped loop refuses work instead of hanging.
        XCTAssertFalse(group.loops[0].execute {})
        XCTAssertThrowsError(try group.loops[0].submit { 1 }) { XCTAssertEqual($0 as? RuntimeError, .loopStopped) }
        group.shutdown()  // idempotent
    }

    func testSignalBecomesCallbackOnLoop() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-sig")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let got = Collector<(Int32, Bool)>()
        // The loop thread blocks SIGUSR1 (SignalWatcher does); a thread-directed signal to
        // it is read from the signalfd, never run as the default action.
        let tid = try loop.submit { () -> UInt in
            _ = try SignalWatcher.watch([SIGUSR1], on: loop) { s in got.append((s, loop.inEventLoop)) }
            return UInt(pthread_self())
        }
        XCTAssertEqual(pthread_kill(pthread_t(tid), SIGUSR1), 0)
        XCTAssertTrue(waitUntil { got.count == 1 })
        XCTAssertEqual(got.values.first?.0, SIGUSR1)
        XCTAssertEqual(got.values.first?.1, true)
    }
}
