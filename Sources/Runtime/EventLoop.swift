import Glibc

/// Something with a file descriptor the loop polls (sockets, TUN, signalfd).
protocol LoopHandler: AnyObject {
    /// Called on the loop thread with the epoll event bits.
    func handleEvents(_ events: UInt32)
    /// The loop is shutting down: close the descriptor, drop callbacks.
    func closeForShutdown()
}

/// One epoll loop on one thread. Everything registered on a loop (sockets, TUN, timers,
/// service state) is touched only on that thread; other threads hand it work with
/// `execute`/`submit`, which wake it through an eventfd.
///
/// `@unchecked Sendable`: the loop object is shared so other threads can call `execute`,
/// `submit`, `stop` and read `index` (those use `taskLock` or are immutable). Every other
/// member is confined to the loop thread (checked by `assertInLoop` in debug builds).
public final class EventLoop: @unchecked Sendable, CustomStringConvertible {
    /// Position in its group (0-based); also the shard number.
    public let index: Int
    let epfd: Int32
    private let wakeFD: Int32

    // Cross-thread state, guarded by taskLock.
    private let taskLock = Lock()
    private var tasks: [@Sendable () -> Void] = []
    private var wakePending = false
    private var stopRequested = false
    private var closed = false

    // Loop-thread state.
    private var thread: pthread_t?
    private var registrations: [Registration?] = []
    private var timers: TimerWheel<() -> Void>
    private var dueScratch: [TimerID] = []
    private var runningTasks: [@Sendable () -> Void] = []
    /// Scratch buffer for stream/TUN reads (one per loop: reads never nest).
    let readBuffer: UnsafeMutableRawBufferPointer
    private let maxEvents = 256

    private struct Registration {
        let handler: LoopHandler
        let generation: UInt32
        var events: UInt32
    }
    private var generations: [UInt32] = []

    /// Creates a loop (epoll set and eventfd). It runs when a thread calls `run()`;
    /// `EventLoopGroup` does that for you.
    public init(index: Int = 0, timerTickNanoseconds: UInt64 = 1_000_000, timerSlots: Int = 8192) throws(RuntimeError) {
        self.index = index
        let ep = Linux.epoll_create1(Linux.O_CLOEXEC_)
        guard ep >= 0 else { throw .system(call: "epoll_create1", context: "event loop \(index)", errno: errno) }
        let ev = Linux.eventfd(0, Linux.O_CLOEXEC_ | Linux.O_NONBLOCK_)
        guard ev >= 0 else {
            let e = errno
            Glibc.close(ep)
            throw .system(call: "eventfd", context: "event loop \(index)", errno: e)
        }
        epfd = ep
        wakeFD = ev
        timers = TimerWheel(tickNanoseconds: timerTickNanoseconds, slots: timerSlots, now: MonotonicClock.now())
        readBuffer = .allocate(byteCount: 65536, alignment: 16)
        _ = Linux.epollControl(epfd, Linux.EPOLL_CTL_ADD, wakeFD, events: Linux.EPOLLIN, data: UInt64.max)
    }

    deinit {
        if !closed {
            Glibc.close(wakeFD)
            Glibc.close(epfd)
        }
        readBuffer.deallocate()
    }

    public var description: String { "EventLoop(\(index))" }

    /// True on this loop's thread.
    public var inEventLoop: Bool {
        guard let t = thread else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    @inline(__always) func assertInLoop(_ fn: StaticString = #function) {
        assert(thread == nil || inEventLoop, "\(fn) called off the loop thread of \(self)")
    }

    // MARK: - cross-thread work

    /// Runs `task` on the loop thread soon (FIFO). Returns false if the loop has stopped
    /// and the task was dropped.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, needWake): (Bool, Bool) = taskLock.withLock {
            if closed { return (false, false) }
            tasks.append(task)
            if wakePending { return (true, false) }
            wakePending = true
            return (true, true)
        }
        if needWake { wake() }
        return accepted
    }

    /// Runs `body` on the loop and waits for its result (from another thread; on the loop
    /// thread it runs inline). Throws `RuntimeError.loopStopped` if the loop is not running.
    /// Blocking: meant for startup and tests. From another loop's thread prefer `execute`
    /// (two loops submitting to each other would wait for ever).
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        if inEventLoop { return try body() }
        let promise = Promise<Result<T, any Error>>()
        let accepted: Bool = taskLock.withLock {
            if closed || stopRequested { return false }
            tasks.append { promise.set(Result { try body() }) }
            wakePending = true
            return true
        }
        guard accepted else { throw RuntimeError.loopStopped }
        wake()
        return try promise.wait().get()
    }

    /// Asks the loop to finish: it runs the tasks already queued, closes every socket, TUN
    /// and signal descriptor registered on it, drops its timers, and `run()` returns.
    public func stop() {
        taskLock.withLock { stopRequested = true }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: - timers (loop thread only)

    /// Monotonic nanoseconds now.
    public var now: UInt64 { MonotonicClock.now() }

    /// Calls `body` on this loop after `delay`. Loop thread only.
    @discardableResult
    public func scheduleTimer(after delay: Duration, _ body: @escaping () -> Void) -> TimerID {
        scheduleTimer(at: MonotonicClock.now() &+ delay.nanosecondsClamped, body)
    }

    /// Calls `body` on this loop at monotonic time `deadline` (ns). Loop thread only.
    @discardableResult
    public func scheduleTimer(at deadline: UInt64, _ body: @escaping () -> Void) -> TimerID {
        assertInLoop()
        return timers.schedule(at: deadline, body)
    }

    /// Cancels a timer; true if it had not fired yet. A cancelled timer never fires.
    @discardableResult
    public func cancelTimer(_ id: TimerID) -> Bool {
        assertInLoop()
        return timers.cancel(id)
    }

    /// Timers pending on this loop.
    public var timerCount: Int { timers.count }

    // MARK: - descriptors (loop thread only)

    func register(fd: Int32, events: UInt32, handler: LoopHandler) throws(RuntimeError) {
        assertInLoop()
        let i = Int(fd)
        if i >= registrations.count {
            let n = max(i + 1, registrations.count * 2, 64)
            registrations.append(contentsOf: repeatElement(nil, count: n - registrations.count))
            generations.append(contentsOf: repeatElement(0, count: n - generations.count))
        }
        generations[i] &+= 1
        let reg = Registration(handler: handler, generation: generations[i], events: events)
        guard Linux.epollControl(epfd, Linux.EPOLL_CTL_ADD, fd, events: events, data: cookie(fd, reg.generation)) == 0 else {
            throw .system(call: "epoll_ctl", context: "register fd \(fd)", errno: errno)
        }
        registrations[i] = reg
    }

    func modify(fd: Int32, events: UInt32) {
        let i = Int(fd)
        guard i < registrations.count, var reg = registrations[i], reg.events != events else { return }
        reg.events = events
        registrations[i] = reg
        _ = Linux.epollControl(epfd, Linux.EPOLL_CTL_MOD, fd, events: events, data: cookie(fd, reg.generation))
    }

    /// Removes `fd` from the loop (call before closing it).
    func deregister(fd: Int32) {
        let i = Int(fd)
        guard i < registrations.count, registrations[i] != nil else { return }
        _ = Linux.epollControl(epfd, Linux.EPOLL_CTL_DEL, fd, events: 0, data: 0)
        registrations[i] = nil
        generations[i] &+= 1
    }

    /// Descriptors registered on this loop (sockets, TUN, signalfd).
    public var registeredCount: Int { registrations.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    @inline(__always) private func cookie(_ fd: Int32, _ gen: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: fd)) | UInt64(gen) << 32
    }

    // MARK: - the loop

    /// Runs the loop on the calling thread until `stop()`. Then everything registered on
    /// it is closed and the loop cannot be restarted.
    public func run() {
        thread = pthread_self()
        let events = UnsafeMutableRawPointer.allocate(byteCount: maxEvents * Linux.epollEventSize, alignment: 8)
        defer { events.deallocate() }
        while true {
            if runTasks() { break }
            var timeout: Int32 = -1
            if hasTasks() {
                timeout = 0
            } else if let next = timers.nextWakeup() {
                let now = MonotonicClock.now()
                timeout = next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
            }
            let n = Linux.epoll_wait(epfd, events, Int32(maxEvents), timeout)
            if n < 0 && errno != EINTR { break }
            if n > 0 {
                for k in 0..<Int(n) {
                    let base = events + k * Linux.epollEventSize
                    let bits = base.loadUnaligned(as: UInt32.self)
                    let data = base.loadUnaligned(fromByteOffset: Linux.epollDataOffset, as: UInt64.self)
                    if data == UInt64.max { drainWake(); continue }
                    let fd = Int(UInt32(truncatingIfNeeded: data))
                    let gen = UInt32(truncatingIfNeeded: data >> 32)
                    guard fd < registrations.count, let reg = registrations[fd], reg.generation == gen else { continue }
                    reg.handler.handleEvents(bits)
                }
            }
            fireTimers()
        }
        shutdownResources()
    }

    private func hasTasks() -> Bool { taskLock.withLock { !tasks.isEmpty } }

    private func drainWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    /// Runs queued tasks; returns true when the loop must stop (tasks queued before the
    /// stop request still ran).
    private func runTasks() -> Bool {
        let stop: Bool = taskLock.withLock {
            swap(&tasks, &runningTasks)
            wakePending = false
            return stopRequested
        }
        for t in runningTasks { t() }
        runningTasks.removeAll(keepingCapacity: true)
        if stop {
            // Last drain: tasks queued while we ran the batch above, then refuse new ones.
            while true {
                let more: [@Sendable () -> Void] = taskLock.withLock {
                    let m = tasks
                    tasks.removeAll()
                    if m.isEmpty { closed = true }
                    return m
                }
                if more.isEmpty { break }
                for t in more { t() }
            }
        }
        return stop
    }

    private func fireTimers() {
        guard timers.count > 0 else { return }
        timers.collectDue(now: MonotonicClock.now(), into: &dueScratch)
        if dueScratch.isEmpty { return }
        for id in dueScratch {
            if let body = timers.take(id) { body() }
        }
        dueScratch.removeAll(keepingCapacity: true)
    }

    private func shutdownResources() {
        for i in 0..<registrations.count {
            if let reg = registrations[i] {
                reg.handler.closeForShutdown()
                if registrations[i] != nil { deregister(fd: Int32(i)) }
            }
        }
        timers.removeAll()
        taskLock.withLock { closed = true; tasks.removeAll() }
        Glibc.close(wakeFD)
        Glibc.close(epfd)
    }
}
