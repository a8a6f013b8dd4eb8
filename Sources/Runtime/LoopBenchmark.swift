import Foundation
import Glibc

/// `vowifi bench loop`: UDP datagrams echoed per second by loops on loopback. Client
/// threads blast windows of datagrams (sendmmsg) at an echo service and wait for the
/// replies (recvmmsg), so the figure is the loop's round-trip throughput, not a fire-hose.
public enum LoopBenchmark {
    public struct Result: Sendable {
        public var label: String
        public var loops: Int
        public var clients: Int
        public var echoed: Int
        public var lost: Int
        public var seconds: Double
        public var perSecond: Double { Double(echoed) / seconds }
        public var perSecondPerLoop: Double { perSecond / Double(loops) }
    }

    /// Runs one measurement.
    /// - Parameters:
    ///   - loops: echo loops (one SO_REUSEPORT socket each when > 1).
    ///   - batchSize: the loop's recvmmsg/sendmmsg batch; 1 = recvfrom/sendto per datagram.
    ///   - clients: client threads (distinct source ports, so SO_REUSEPORT spreads them).
    ///   - window: datagrams in flight per client.
    public static func udpEcho(label: String, loops: Int = 1, batchSize: Int, clients: Int = 1, window: Int = 64,
                               payloadSize: Int = 200, seconds: Double = 3) throws -> Result {
        let group = try EventLoopGroup(loopCount: loops, name: "bench-loop")
        defer { group.shutdown() }
        let opts = UDPSocket.Options(batchSize: batchSize, maxDatagramSize: 2048, reusePort: loops > 1,
                                     receiveBufferSize: 4 << 20, sendBufferSize: 4 << 20)
        let first = try group.loops[0].submit { () -> SocketAddress in
            try UDPSocket.bind(SocketAddress(host: "127.0.0.1", port: 0), on: group.loops[0], options: opts) { s, b, p in s.send(b, to: p) }.localAddress
        }
        for loop in group.loops.dropFirst() {
            _ = try loop.submit { try UDPSocket.bind(first, on: loop, options: opts) { s, b, p in s.send(b, to: p) }.localAddress }
        }
        let totals = Totals()
        let deadline = MonotonicClock.now() + UInt64(seconds * 1e9)
        var threads: [pthread_t] = []
        let started = MonotonicClock.now()
        for _ in 0..<max(1, clients) {
            threads.append(try spawnThread {
                let (ok, lost) = blast(to: first, window: max(1, min(window, 1024)), size: payloadSize, until: deadline)
                totals.add(ok, lost)
            })
        }
        for t in threads { pthread_join(t, nil) }
        let elapsed = Double(MonotonicClock.now() - started) / 1e9
        let (ok, lost) = totals.value
        return Result(label: label, loops: loops, clients: clients, echoed: ok, lost: lost, seconds: elapsed)
    }

    /// One client: connected UDP socket, windows out with sendmmsg, replies in with recvmmsg.
    private static func blast(to server: SocketAddress, window: Int, size: Int, until deadline: UInt64) -> (Int, Int) {
        let fd = socket(server.family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return (0, 0) }
        defer { close(fd) }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var big: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, socklen_t(MemoryLayout<Int32>.size))
        guard server.withSockAddr({ connect(fd, $0, $1) }) == 0 else { return (0, 0) }
        let slot = max(size, 1) + 64
        let data = UnsafeMutableRawPointer.allocate(byteCount: window * slot, alignment: 16)
        let iov = UnsafeMutablePointer<iovec>.allocate(capacity: window)
        let hdr = UnsafeMutablePointer<MMsgHdr>.allocate(capacity: window)
        defer { data.deallocate(); iov.deallocate(); hdr.deallocate() }
        memset(data, 0x5A, window * slot)
        var ok = 0, lost = 0
        while MonotonicClock.now() < deadline {
            for i in 0..<window {
                iov[i] = iovec(iov_base: data + i * slot, iov_len: size)
                hdr[i] = MMsgHdr()
                hdr[i].msg_hdr.msg_iov = iov + i
                hdr[i].msg_hdr.msg_iovlen = 1
            }
            var sent = 0
            while sent < window {
                let n = Linux.sendmmsg(fd, UnsafeMutableRawPointer(hdr + sent), UInt32(window - sent), 0)
                if n <= 0 { break }
                sent += Int(n)
            }
            var got = 0
            while got < sent {
                for i in 0..<(sent - got) {
                    iov[i].iov_len = slot
                    hdr[i] = MMsgHdr()
                    hdr[i].msg_hdr.msg_iov = iov + i
                    hdr[i].msg_hdr.msg_iovlen = 1
                }
                let n = Linux.recvmmsg(fd, UnsafeMutableRawPointer(hdr), UInt32(sent - got), 0x10000 /* MSG_WAITFORONE */, nil)
                if n <= 0 { break }
                got += Int(n)
            }
            ok += got
            lost += sent - got
        }
        return (ok, lost)
    }

    private final class Totals: @unchecked Sendable {
        // @unchecked: guarded by `lock`.
        private let lock = Lock()
        private var ok = 0, lost = 0
        func add(_ o: Int, _ l: Int) { lock.withLock { ok += o; lost += l } }
        var value: (Int, Int) { lock.withLock { (ok, lost) } }
    }

    /// Timer wheel cost: schedules `count` timers spread over `spreadSeconds`, cancels every
    /// other one, then expires them all. Returns nanoseconds per schedule, per cancel, and
    /// per fired timer (including the bucket scans of the whole span).
    public static func timerWheel(count: Int = 1_000_000, spreadSeconds: Double = 60) -> (schedule: Double, cancel: Double, fire: Double) {
        var wheel = TimerWheel<Int>(tickNanoseconds: 1_000_000, slots: 8192, now: 0)
        var ids = [TimerID]()
        ids.reserveCapacity(count)
        var rng = SystemRandomNumberGenerator()
        let span = UInt64(spreadSeconds * 1e9)
        let deadlines = (0..<count).map { _ in UInt64.random(in: 1...span, using: &rng) }
        var t0 = MonotonicClock.now()
        for (i, d) in deadlines.enumerated() { ids.append(wheel.schedule(at: d, i)) }
        let scheduleNs = Double(MonotonicClock.now() - t0) / Double(count)
        t0 = MonotonicClock.now()
        for i in stride(from: 0, to: count, by: 2) { wheel.cancel(ids[i]) }
        let cancelNs = Double(MonotonicClock.now() - t0) / Double(count / 2)
        t0 = MonotonicClock.now()
        var due: [TimerID] = []
        var fired = 0
        var now: UInt64 = 0
        while now <= span {
            now += 1_000_000
            wheel.collectDue(now: now, into: &due)
            for id in due where wheel.take(id) != nil { fired += 1 }
            due.removeAll(keepingCapacity: true)
        }
        let fireNs = Double(MonotonicClock.now() - t0) / Double(max(1, fired))
        return (scheduleNs, cancelNs, fireNs)
    }

    /// `nproc`, the CPU model from /proc/cpuinfo and the kernel release.
    public static func machineDescription() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown CPU"
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return "nproc \(EventLoopGroup.coreCount), CPU \(model), Linux \(release)"
    }
}
