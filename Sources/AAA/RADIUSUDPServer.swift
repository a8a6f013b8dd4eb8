#if canImport(Glibc)
import Glibc
#endif
import HSS
import Synchronization
import Wire

/// A minimal blocking UDP front end for `RADIUSServer`: one socket, one thread, poll with
/// a short timeout so `stop()` returns promptly. Kept free of the Runtime target (which
/// imports AAA) so tests and tools can run a RADIUS server on their own; the Runtime can
/// instead feed `RADIUSServer.handle(datagram:from:now:)` from its own event loop.
public final class RADIUSUDPServer: Sendable {
    public let server: RADIUSServer
    /// The bound address and port (the kernel's choice when 0 was asked).
    public let address: IPAddress
    public let port: UInt16
    private let fd: Int32
    private let log: AAALogSink
    /// Called on the loop thread after each datagram (accepts carry the MSK and IMSI).
    private let onEvent: @Sendable (RADIUSPeer, RADIUSEvent) -> Void
    private let running = Atomic<Bool>(false)
    /// The loop thread while running (pthread_t is an integer on Linux).
    private let thread = Mutex<pthread_t?>(nil)

    /// Binds `bindAddress:port` (IPv4 or IPv6 text). Port 0 picks a free port.
    public init(server: RADIUSServer, bindAddress: String = "127.0.0.1", port: UInt16 = 1812,
                log: @escaping AAALogSink = { _, _ in },
                onEvent: @escaping @Sendable (RADIUSPeer, RADIUSEvent) -> Void = { _, _ in }) throws(AAAError) {
        guard let ip = IPAddress(bindAddress) else { throw .badAddress(bindAddress) }
        self.server = server
        self.log = log
        self.onEvent = onEvent
        let family = ip.isIPv4 ? AF_INET : AF_INET6
        let s = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw .socket("socket", errno: errno) }
        var one: Int32 = 1
        _ = setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let len = Self.fill(&storage, ip, port)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) }
        }
        guard rc == 0 else { let e = errno; close(s); throw .socket("bind \(bindAddress):\(port)", errno: e) }
        var bound = sockaddr_storage()
        var blen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &blen) }
        }
        fd = s
        address = ip
        self.port = Self.peer(bound)?.port ?? port
    }

    /// Convenience: clients as [address: secret], a fresh `RADIUSServer` over `hss`.
    public convenience init(bindAddress: String, port: UInt16, clients: [String: String], hss: HSS,
                            eap: EAPAKAServerConfig = EAPAKAServerConfig(),
                            log: @escaping AAALogSink = { _, _ in },
                            onEvent: @escaping @Sendable (RADIUSPeer, RADIUSEvent) -> Void = { _, _ in }) throws(AAAError) {
        let config = try RADIUSServerConfig(clients: clients, eap: eap)
        try self.init(server: RADIUSServer(config: config, hss: hss, log: log), bindAddress: bindAddress, port: port,
                      log: log, onEvent: onEvent)
    }

    deinit {
        stop()
        close(fd)
    }

    /// Starts the receive loop on its own thread (no-op if already running). The thread
    /// keeps the server alive until `stop()`, so always stop it.
    public func start() throws(AAAError) {
        guard running.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        let box = Unmanaged.passRetained(self).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            guard let arg else { return nil }
            let me = Unmanaged<RADIUSUDPServer>.fromOpaque(arg).takeRetainedValue()
            me.loop()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<RADIUSUDPServer>.fromOpaque(box).release()
            running.store(false, ordering: .sequentiallyConsistent)
            throw .socket("pthread_create", errno: rc)
        }
        thread.withLock { $0 = t }
        log(.info, "RADIUS server listening on \(RADIUSPeer(address: address, port: port))")
    }

    /// Stops the loop and waits for its thread to end (at most one poll interval).
    public func stop() {
        running.store(false, ordering: .sequentiallyConsistent)
        guard let t = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) else { return }
        if pthread_equal(t, pthread_self()) == 0 { pthread_join(t, nil) }
    }

    public var isRunning: Bool { running.load(ordering: .sequentiallyConsistent) }

    private func loop() {
        var buf = [UInt8](repeating: 0, count: 65536)
        while running.load(ordering: .relaxed) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&pfd, 1, 100)
            if n <= 0 { continue }
            var from = sockaddr_storage()
            var flen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let got = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &flen) }
                }
            }
            guard got > 0, let peer = Self.peer(from) else { continue }
            let out = server.handle(datagram: Array(buf[0..<got]), from: peer, now: Self.monotonicNow())
            onEvent(peer, out.event)
            guard let reply = out.reply else { continue }
            let sent = reply.withUnsafeBytes { r in
                withUnsafePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, r.baseAddress, r.count, 0, $0, flen) }
                }
            }
            if sent < 0 { log(.error, "sendto \(peer) failed: errno \(errno)") }
        }
    }

    static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func fill(_ storage: inout sockaddr_storage, _ ip: IPAddress, _ port: UInt16) -> socklen_t {
        withUnsafeMutablePointer(to: &storage) { p in
            if ip.isIPv4 {
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    sin.pointee.sin_family = sa_family_t(AF_INET)
                    sin.pointee.sin_port = port.bigEndian
                    withUnsafeMutableBytes(of: &sin.pointee.sin_addr) { $0.copyBytes(from: ip.bytes) }
                    return socklen_t(MemoryLayout<sockaddr_in>.size)
                }
            }
            return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                sin6.pointee.sin6_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin6.pointee.sin6_addr) { $0.copyBytes(from: ip.bytes) }
                return socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
        }
    }

    /// The address and port of a received datagram; a v4-mapped IPv6 source becomes IPv4.
    static func peer(_ storage: sockaddr_storage) -> RADIUSPeer? {
        var s = storage
        return withUnsafePointer(to: &s) { p -> RADIUSPeer? in
            switch Int32(p.pointee.ss_family) {
            case AF_INET:
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    let b = withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) }
                    return IPAddress(bytes: b).map { RADIUSPeer(address: $0, port: UInt16(bigEndian: sin.pointee.sin_port)) }
                }
            case AF_INET6:
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var b = withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) }
                    if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff { b = Array(b[12..<16]) }
                    return IPAddress(bytes: b).map { RADIUSPeer(address: $0, port: UInt16(bigEndian: sin6.pointee.sin6_port)) }
                }
            default: return nil
            }
        }
    }
}
