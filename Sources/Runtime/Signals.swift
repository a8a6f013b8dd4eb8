import Glibc

/// Turns signals into callbacks on a loop (signalfd), so `vowifi run` stops cleanly.
public enum Signals {
    /// Blocks `signals` in the calling thread (threads it starts afterwards inherit this).
    /// Call it first thing in `main`, before starting loops, for every signal a
    /// `SignalWatcher` will take: a blocked signal waits in the signalfd instead of
    /// running its default action (terminating the process).
    public static func blockInCurrentThread(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Unblocks `signals` in the calling thread.
    public static func unblockInCurrentThread(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// A signalfd on a loop: each delivered signal calls `onSignal(signo)` on the loop thread.
///
/// `@unchecked Sendable`: loop-confined like the sockets (created and closed on its loop).
public final class SignalWatcher: LoopHandler, @unchecked Sendable {
    public let loop: EventLoop
    public let signals: [Int32]
    private let fd: Int32
    private var onSignal: ((Int32) -> Void)?
    public private(set) var isClosed = false

    /// Call on the loop thread. Also blocks `signals` on that thread (signalfd only sees
    /// blocked signals); block them in `main` too (see `Signals.blockInCurrentThread`).
    public static func watch(_ signals: [Int32], on loop: EventLoop, onSignal: @escaping (Int32) -> Void) throws(RuntimeError) -> SignalWatcher {
        loop.assertInLoop()
        Signals.blockInCurrentThread(signals)
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let fd = Linux.signalfd(-1, &set, Linux.O_NONBLOCK_ | Linux.O_CLOEXEC_)
        guard fd >= 0 else { throw .system(call: "signalfd", context: "signals \(signals)", errno: errno) }
        let w = SignalWatcher(loop: loop, signals: signals, fd: fd, onSignal: onSignal)
        do { try loop.register(fd: fd, events: Linux.EPOLLIN, handler: w) } catch { Glibc.close(fd); throw error }
        return w
    }

    private init(loop: EventLoop, signals: [Int32], fd: Int32, onSignal: @escaping (Int32) -> Void) {
        self.loop = loop
        self.signals = signals
        self.fd = fd
        self.onSignal = onSignal
    }

    func handleEvents(_ events: UInt32) {
        // struct signalfd_siginfo is 128 bytes; ssi_signo is its first field.
        var info = [UInt8](repeating: 0, count: 128)
        while !isClosed {
            let n = info.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 128) }
            guard n == 128 else { break }
            let signo = info.withUnsafeBytes { Int32(bitPattern: $0.load(as: UInt32.self)) }
            onSignal?(signo)
        }
    }

    public func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
        onSignal = nil
    }

    func closeForShutdown() { close() }
}

extension EventLoopGroup {
    /// Blocks the calling thread (normally `main`) until one of `signals` arrives, then
    /// calls `onSignal` (on loop 0) and returns the signal number. Call
    /// `Signals.blockInCurrentThread(signals)` in `main` before creating the group, so no
    /// thread dies of the default action. The group keeps running; call `shutdown()` next.
    public func waitForSignal(_ signals: [Int32] = [SIGINT, SIGTERM], onSignal: @escaping @Sendable (Int32) -> Void = { _ in }) throws -> Int32 {
        Signals.blockInCurrentThread(signals)
        let got = Promise<Int32>()
        let loop = loops[0]
        try loop.submit {
            var watcher: SignalWatcher?
            watcher = try SignalWatcher.watch(signals, on: loop) { signo in
                onSignal(signo)
                watcher?.close()
                watcher = nil
                got.set(signo)
            }
        }
        return got.wait()
    }

    /// `waitForSignal` then `shutdown`: the whole life of `vowifi run` after startup.
    /// Returns the signal that stopped it.
    @discardableResult
    public func runUntilSignal(_ signals: [Int32] = [SIGINT, SIGTERM], onSignal: @escaping @Sendable (Int32) -> Void = { _ in }) throws -> Int32 {
        let s = try waitForSignal(signals, onSignal: onSignal)
        shutdown()
        return s
    }
}
