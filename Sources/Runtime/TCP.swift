import Glibc

/// A listening TCP socket on one loop; each accepted connection is registered on the same
/// loop and handed to `onAccept` (which should set its handlers).
///
/// `@unchecked Sendable`: loop-confined (all mutable state used on the loop thread only).
public final class TCPListener: LoopHandler, @unchecked Sendable {
    public let loop: EventLoop
    public let fd: Int32
    public let localAddress: SocketAddress
    public private(set) var isClosed = false
    private var onAccept: ((TCPConnection) -> Void)?

    /// Binds and listens (loop thread). `reusePort` lets one listener per loop share the port.
    public static func listen(_ address: SocketAddress, on loop: EventLoop, backlog: Int32 = 1024,
                              reusePort: Bool = false, v6Only: Bool? = nil,
                              onAccept: @escaping (TCPConnection) -> Void) throws(RuntimeError) -> TCPListener {
        loop.assertInLoop()
        let fd = try Sock.make(family: address.family, type: SOCK_STREAM, transport: "TCP")
        do throws(RuntimeError) {
            try Sock.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR on TCP \(address)")
            if reusePort { try Sock.setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT on TCP \(address)") }
            if case .v6 = address, let only = v6Only {
                try Sock.setInt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, only ? 1 : 0, "IPV6_V6ONLY on TCP \(address)")
            }
            try Sock.bind(fd, address, transport: "TCP")
            guard Glibc.listen(fd, backlog) == 0 else { throw RuntimeError.system(call: "listen", context: "TCP \(address)", errno: errno) }
            let l = TCPListener(loop: loop, fd: fd, local: Sock.localAddress(fd) ?? address, onAccept: onAccept)
            try loop.register(fd: fd, events: Linux.EPOLLIN, handler: l)
            return l
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private init(loop: EventLoop, fd: Int32, local: SocketAddress, onAccept: @escaping (TCPConnection) -> Void) {
        self.loop = loop
        self.fd = fd
        self.localAddress = local
        self.onAccept = onAccept
    }

    func handleEvents(_ events: UInt32) {
        for _ in 0..<64 {
            guard !isClosed else { return }
            let c = Linux.accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if c < 0 { break }
            var one: Int32 = 1
            setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let conn = TCPConnection(loop: loop, fd: c, connected: true)
            do { try loop.register(fd: c, events: Linux.EPOLLIN | Linux.EPOLLRDHUP, handler: conn) } catch {
                Glibc.close(c)
                continue
            }
            onAccept?(conn)
        }
    }

    public func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
        onAccept = nil
    }

    func closeForShutdown() { close() }
}

/// One TCP connection on one loop: bytes arrive in `onRead` (valid during the call only),
/// `write` sends or buffers (flushed when the socket is writable again), `onClose` reports
/// the end (nil = orderly close by either side, else the error).
///
/// `@unchecked Sendable`: loop-confined (all mutable state used on the loop thread only).
public final class TCPConnection: LoopHandler, @unchecked Sendable {
    public let loop: EventLoop
    public let fd: Int32
    public private(set) var isClosed = false
    public private(set) var isConnected: Bool
    /// Bytes received so far / written to the kernel so far.
    public private(set) var bytesRead = 0
    public private(set) var bytesWritten = 0
    public var onRead: ((TCPConnection, UnsafeRawBufferPointer) -> Void)?
    public var onClose: ((TCPConnection, RuntimeError?) -> Void)?
    /// For outgoing connections: called once connected (or `onClose` with the error).
    public var onConnect: ((TCPConnection) -> Void)?
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var closeWhenFlushed = false

    public lazy var localAddress: SocketAddress? = Sock.localAddress(fd)
    public lazy var peerAddress: SocketAddress? = Sock.peerAddress(fd)

    init(loop: EventLoop, fd: Int32, connected: Bool) {
        self.loop = loop
        self.fd = fd
        self.isConnected = connected
    }

    /// Starts a non-blocking connect (loop thread); `onConnect` or `onClose` follows.
    /// `source`, when given, is bound first (port 0: an ephemeral port) so the peer sees the
    /// connection come from that address; an address we cannot bind is left to the kernel.
    public static func connect(to address: SocketAddress, from source: SocketAddress? = nil, on loop: EventLoop,
                               onConnect: @escaping (TCPConnection) -> Void) throws(RuntimeError) -> TCPConnection {
        loop.assertInLoop()
        let fd = try Sock.make(family: address.family, type: SOCK_STREAM, transport: "TCP")
        if let source, source.family == address.family {
            _ = source.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS {
            let e = errno
            Glibc.close(fd)
            throw .system(call: "connect", context: "TCP \(address)", errno: e)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let conn = TCPConnection(loop: loop, fd: fd, connected: false)
        conn.onConnect = onConnect
        do { try loop.register(fd: fd, events: Linux.EPOLLIN | Linux.EPOLLOUT | Linux.EPOLLRDHUP, handler: conn) } catch {
            Glibc.close(fd)
            throw error
        }
        return conn
    }

    /// Turns on TCP keepalive: the first probe after `idle` seconds without traffic
    /// (TCP_KEEPIDLE), the connection dropped after `count` unanswered probes (TCP_KEEPCNT;
    /// the probe interval stays the kernel's net.ipv4.tcp_keepalive_intvl). A peer that
    /// vanished (a phone switched off) then ends in `onClose` instead of lingering.
    public func setKeepalive(idle: Int, count: Int) throws(RuntimeError) {
        try Sock.setInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE on TCP fd \(fd)")
        try Sock.setInt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, Int32(clamping: idle), "TCP_KEEPIDLE \(idle) on TCP fd \(fd)")
        try Sock.setInt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, Int32(clamping: count), "TCP_KEEPCNT \(count) on TCP fd \(fd)")
    }

    // MARK: - writing

    /// Writes now as far as the kernel takes, buffers the rest (loop thread).
    public func write(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInLoop()
        guard !isClosed, !closeWhenFlushed, bytes.count > 0 else { return }
        var offset = 0
        if isConnected && outboundStart == outbound.count {
            while offset < bytes.count {
                let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                if n > 0 { offset += n; bytesWritten += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { fail(errno, "send"); return }
                break
            }
        }
        if offset < bytes.count {
            outbound.append(contentsOf: bytes[offset...])
            loop.modify(fd: fd, events: Linux.EPOLLIN | Linux.EPOLLOUT | Linux.EPOLLRDHUP)
        }
    }

    public func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    /// Bytes buffered, not yet taken by the kernel.
    public var pendingWriteCount: Int { outbound.count - outboundStart }

    private func flushOutbound() {
        while outboundStart < outbound.count {
            let n = outbound.withUnsafeBytes { b in
                Glibc.send(fd, b.baseAddress! + outboundStart, b.count - outboundStart, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n > 0 { outboundStart += n; bytesWritten += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { fail(errno, "send"); return }
            return
        }
        outbound.removeAll(keepingCapacity: true)
        outboundStart = 0
        if closeWhenFlushed { finish(nil); return }
        loop.modify(fd: fd, events: Linux.EPOLLIN | Linux.EPOLLRDHUP)
    }

    // MARK: - events

    func handleEvents(_ events: UInt32) {
        if !isConnected {
            guard events & (Linux.EPOLLOUT | Linux.EPOLLERR | Linux.EPOLLHUP) != 0 else { return }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 { fail(err, "connect"); return }
            isConnected = true
            loop.modify(fd: fd, events: Linux.EPOLLIN | Linux.EPOLLRDHUP | (pendingWriteCount > 0 ? Linux.EPOLLOUT : 0))
            let cb = onConnect
            onConnect = nil
            cb?(self)
            if isClosed { return }
        }
        if events & Linux.EPOLLOUT != 0 { flushOutbound() }
        if isClosed { return }
        if events & (Linux.EPOLLIN | Linux.EPOLLRDHUP | Linux.EPOLLHUP | Linux.EPOLLERR) != 0 { readAvailable() }
    }

    private func readAvailable() {
        let buf = loop.readBuffer
        for _ in 0..<16 {
            guard !isClosed else { return }
            let n = Glibc.recv(fd, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT))
            if n > 0 {
                bytesRead += n
                onRead?(self, UnsafeRawBufferPointer(start: buf.baseAddress, count: n))
                if n < buf.count { return }
                continue
            }
            if n == 0 { finish(nil); return }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return }
            fail(errno, "recv")
            return
        }
    }

    // MARK: - closing

    /// Closes now (buffered bytes are dropped); `onClose(nil)` runs. Idempotent.
    public func close() {
        loop.assertInLoop()
        finish(nil)
    }

    /// Closes once buffered bytes are written.
    public func closeAfterWrites() {
        loop.assertInLoop()
        if pendingWriteCount == 0 { finish(nil) } else { closeWhenFlushed = true }
    }

    private func fail(_ e: Int32, _ call: String) {
        finish(.system(call: call, context: "TCP fd \(fd)", errno: e))
    }

    private func finish(_ error: RuntimeError?) {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
        let cb = onClose
        onRead = nil
        onClose = nil
        onConnect = nil
        outbound = []
        cb?(self, error)
    }

    func closeForShutdown() { finish(nil) }
}
