/// The Runtime layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import):
/// the only place with sockets, threads and clocks.
///
/// - `EventLoopGroup` starts N `EventLoop`s (one per core), each an epoll loop on its own
///   thread. One subscriber's state lives on one loop: `group.shard(for: key)`.
/// - On a loop: `UDPSocket` (recvmmsg/sendmmsg batches, SO_REUSEPORT, dual stack),
///   `TCPListener`/`TCPConnection`, `TUNDevice`, `SignalWatcher`, timers
///   (`scheduleTimer`/`cancelTimer`, a `TimerWheel`). All of them are loop-confined.
/// - Across threads: `loop.execute { }` (fire and forget), `loop.submit { }` (wait for a
///   result), `UDPSendHandle`, `UDPDispatcher` (one reader, per-key loops), `LoopLocal`.
/// - Services: `Service` (start/stop on a loop), `ServiceHandler` + `ServiceContext` (fed
///   datagrams, stream bytes and timer expiries; carries out `ServiceAction`s),
///   `ServiceSet` (one service per loop).
/// - `Logger` (`HH:MM:SS.mmm [LAYER] DIR UE message`), `RuntimeError` (why something
///   cannot start), `group.runUntilSignal()` (SIGINT/SIGTERM → clean stop).
public enum RuntimeLayer {
    public static let name = "runtime"
}
