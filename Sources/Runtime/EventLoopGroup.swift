import Glibc

/// N event loops, one thread each (one per core by default). One subscriber's state lives
/// on one loop: pick it with `shard(for:)` on a stable key (IMSI, IKE SPI, ...).
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let threads: ThreadSet
    private let roundRobin = Counter()

    /// Online CPUs (`nproc`).
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Starts `loopCount` loops, each on its own thread named `<name>-<index>`. The threads
    /// block SIGINT/SIGTERM/SIGPIPE so those reach a `SignalWatcher`, not a loop thread.
    public init(loopCount: Int = EventLoopGroup.coreCount, name: String = "vowifi-loop") throws(RuntimeError) {
        var made: [EventLoop] = []
        for i in 0..<max(1, loopCount) { made.append(try EventLoop(index: i)) }
        loops = made
        threads = ThreadSet()
        for loop in made {
            let started = Promise<Bool>()
            let threadName = "\(name)-\(loop.index)"
            let t = try spawnThread {
                Signals.blockInCurrentThread([SIGINT, SIGTERM, SIGPIPE])
                var nm = Array(threadName.utf8.prefix(15).map { CChar(bitPattern: $0) }) + [0]
                _ = Linux.pthread_setname_np(pthread_self(), &nm)
                loop.execute { started.set(true) }
                loop.run()
            }
            threads.append(t)
            _ = started.wait()
        }
    }

    /// The loop index for `key`: stable for a given loop count, evenly spread
    /// (splitmix64 finaliser, then Lemire's multiply-shift range reduction).
    public func shard(for key: UInt64) -> Int {
        EventLoopGroup.shard(for: key, count: loops.count)
    }

    public static func shard(for key: UInt64, count: Int) -> Int {
        var z = key &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z.multipliedFullWidth(by: UInt64(count)).high)
    }

    /// A random nonzero 32-bit value whose shard is `index`: for identifiers this side
    /// chooses (inbound ESP SPI, SIP tags) so a dispatching reader can route packets that
    /// carry only that value straight to the owning loop. Expected `loops.count` draws.
    public func randomKey32(forShard index: Int) -> UInt32 {
        precondition(index >= 0 && index < loops.count, "shard index out of range")
        while true {
            let v = UInt32.random(in: 1...UInt32.max)
            if shard(for: UInt64(v)) == index { return v }
        }
    }

    /// The loop that owns `key`.
    public func loop(for key: UInt64) -> EventLoop { loops[shard(for: key)] }

    /// Loops in turn (for work with no affinity).
    public func next() -> EventLoop { loops[roundRobin.increment() % loops.count] }

    /// Stops every loop (each closes what is registered on it) and joins the threads.
    /// Idempotent. Called from one of the group's own loop threads it only asks the loops
    /// to stop (a thread cannot join itself); call it again from another thread to join.
    public func shutdown() {
        for l in loops { l.stop() }
        if loops.contains(where: { $0.inEventLoop }) { return }
        for t in threads.takeAll() { pthread_join(t, nil) }
    }

    /// Runs `body` on every loop and waits (e.g. to bind one SO_REUSEPORT socket per loop).
    public func onEveryLoop<T: Sendable>(_ body: @escaping @Sendable (EventLoop) throws -> T) throws -> [T] {
        try loops.map { loop in try loop.submit { try body(loop) } }
    }
}

/// Thread ids for joining, shared between `init` and `shutdown`.
private final class ThreadSet: @unchecked Sendable {
    // @unchecked: `ids` is only touched with `lock` held.
    private let lock = Lock()
    private var ids: [pthread_t] = []
    func append(_ t: pthread_t) { lock.withLock { ids.append(t) } }
    func takeAll() -> [pthread_t] { lock.withLock { let t = ids; ids = []; return t } }
}

final class Counter: @unchecked Sendable {
    // @unchecked: `value` is only touched with `lock` held.
    private let lock = Lock()
    private var value = 0
    func increment() -> Int { lock.withLock { value &+= 1; return value & Int.max } }
}

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a joinable pthread running `body`.
func spawnThread(_ body: @escaping @Sendable () -> Void) throws(RuntimeError) -> pthread_t {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { arg in
        let b = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
        b.body()
        return nil
    }, box)
    guard rc == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        throw .system(call: "pthread_create", context: "event loop thread", errno: rc)
    }
    return tid
}
