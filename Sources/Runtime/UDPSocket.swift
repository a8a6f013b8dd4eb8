import Glibc

/// A UDP socket registered on one loop. Received datagrams go to `onDatagram` on the loop
/// thread, in batches read with recvmmsg(2); datagrams sent from inside that callback are
/// queued and leave together with sendmmsg(2) when the batch ends.
///
/// `@unchecked Sendable`: so it can be captured by closures that hop to its loop. All
/// mutable state is used only on the loop thread (`send`, `close` assert it); the fd is
/// immutable, and `sendHandle` is the way to send from other threads.
public final class UDPSocket: LoopHandler, @unchecked Sendable {
    public struct Options: Sendable {
        /// Datagrams per recvmmsg/sendmmsg call; 1 disables batching (recvfrom/sendto).
        public var batchSize: Int = 32
        /// Largest datagram received whole; longer ones are dropped (counted in `truncated`).
        public var maxDatagramSize: Int = 65535
        /// SO_REUSEPORT: several sockets (one per loop) share the address; the kernel spreads
        /// flows by 4-tuple hash, so one peer address stays on one loop.
        public var reusePort: Bool = false
        /// For IPv6 sockets: true = IPv6 only; false = dual stack (IPv4 peers arrive as plain
        /// IPv4 addresses); nil = the kernel default.
        public var v6Only: Bool? = nil
        /// SO_RCVBUF/SO_SNDBUF in bytes, if set.
        public var receiveBufferSize: Int? = nil
        public var sendBufferSize: Int? = nil
        public init(batchSize: Int = 32, maxDatagramSize: Int = 65535, reusePort: Bool = false, v6Only: Bool? = nil,
                    receiveBufferSize: Int? = nil, sendBufferSize: Int? = nil) {
            self.batchSize = max(1, batchSize)
            self.maxDatagramSize = max(1, maxDatagramSize)
            self.reusePort = reusePort
            self.v6Only = v6Only
            self.receiveBufferSize = receiveBufferSize
            self.sendBufferSize = sendBufferSize
        }
    }

    /// Counters (loop thread).
    public struct Stats: Sendable {
        public var received = 0
        public var sent = 0
        /// Dropped on send: the socket buffer was full (EAGAIN) or the kernel refused.
        public var sendDropped = 0
        /// Received datagrams longer than `maxDatagramSize`, dropped.
        public var truncated = 0
    }

    /// `(socket, payload, peer)`; the payload bytes are valid only during the call.
    public typealias DatagramHandler = (UDPSocket, UnsafeRawBufferPointer, SocketAddress) -> Void

    public let loop: EventLoop
    public let fd: Int32
    /// The bound address (with the kernel-chosen port if you asked for port 0).
    public let localAddress: SocketAddress
    public let options: Options
    public private(set) var stats = Stats()
    public private(set) var isClosed = false
    private var onDatagram: DatagramHandler?
    /// Called after each receive batch (after its replies were flushed).
    public var onBatchEnd: (() -> Void)?
    private let isV6: Bool

    // Receive batch: `batch` slots of `slotSize` bytes, their iovecs, addresses, headers.
    private let batch: Int
    private let slotSize: Int
    private let recvData: UnsafeMutableRawPointer
    private let recvIov: UnsafeMutablePointer<iovec>
    private let recvAddr: UnsafeMutablePointer<sockaddr_storage>
    private let recvHdr: UnsafeMutablePointer<MMsgHdr>
    // Send queue, used while delivering a receive batch.
    private let sendData: UnsafeMutableRawPointer
    private let sendIov: UnsafeMutablePointer<iovec>
    private let sendAddr: UnsafeMutablePointer<sockaddr_storage>
    private let sendHdr: UnsafeMutablePointer<MMsgHdr>
    private var queued = 0
    private var delivering = false

    /// Binds `address` and registers the socket on `loop` (call on that loop's thread, e.g.
    /// inside `loop.submit { }`).
    public static func bind(_ address: SocketAddress, on loop: EventLoop, options: Options = Options(),
                            onDatagram: @escaping DatagramHandler) throws(RuntimeError) -> UDPSocket {
        loop.assertInLoop()
        let fd = try Sock.make(family: address.family, type: SOCK_DGRAM, transport: "UDP")
        do {
            if options.reusePort { try Sock.setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT on UDP \(address)") }
            if case .v6 = address, let only = options.v6Only {
                try Sock.setInt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, only ? 1 : 0, "IPV6_V6ONLY on UDP \(address)")
            }
            if let r = options.receiveBufferSize { try Sock.setInt(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: r), "SO_RCVBUF") }
            if let s = options.sendBufferSize { try Sock.setInt(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: s), "SO_SNDBUF") }
            try Sock.bind(fd, address, transport: "UDP")
            let sock = UDPSocket(fd: fd, loop: loop, local: Sock.localAddress(fd) ?? address, options: options, onDatagram: onDatagram)
            try loop.register(fd: fd, events: Linux.EPOLLIN, handler: sock)
            return sock
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private init(fd: Int32, loop: EventLoop, local: SocketAddress, options: Options, onDatagram: @escaping DatagramHandler) {
        self.fd = fd
        self.loop = loop
        self.localAddress = local
        self.options = options
        self.onDatagram = onDatagram
        self.isV6 = local.family == AF_INET6
        batch = options.batchSize
        slotSize = options.maxDatagramSize + 1  // one spare byte tells a truncated datagram
        recvData = .allocate(byteCount: batch * slotSize, alignment: 16)
        recvIov = .allocate(capacity: batch)
        recvAddr = .allocate(capacity: batch)
        recvHdr = .allocate(capacity: batch)
        sendData = .allocate(byteCount: batch * slotSize, alignment: 16)
        sendIov = .allocate(capacity: batch)
        sendAddr = .allocate(capacity: batch)
        sendHdr = .allocate(capacity: batch)
        for i in 0..<batch {
            recvIov[i] = iovec(iov_base: recvData + i * slotSize, iov_len: slotSize)
            sendIov[i] = iovec(iov_base: sendData + i * slotSize, iov_len: 0)
            recvHdr[i] = MMsgHdr()
            sendHdr[i] = MMsgHdr()
        }
    }

    deinit {
        recvData.deallocate(); recvIov.deallocate(); recvAddr.deallocate(); recvHdr.deallocate()
        sendData.deallocate(); sendIov.deallocate(); sendAddr.deallocate(); sendHdr.deallocate()
    }

    // MARK: - sending (loop thread)

    /// Sends one datagram. Inside `onDatagram` (batching on) it is queued for one sendmmsg
    /// at the end of the batch; otherwise it is sent now. A full socket buffer drops it
    /// (UDP semantics; counted in `stats.sendDropped`).
    public func send(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress) {
        loop.assertInLoop()
        guard !isClosed else { return }
        let dest = isV6 ? peer.mappedToV6 : peer
        if delivering && batch > 1 && bytes.count <= slotSize {
            let slot = queued
            if let base = bytes.baseAddress, bytes.count > 0 { (sendData + slot * slotSize).copyMemory(from: base, byteCount: bytes.count) }
            sendIov[slot].iov_len = bytes.count
            dest.withSockAddr { sa, len in
                UnsafeMutableRawPointer(sendAddr + slot).copyMemory(from: sa, byteCount: Int(len))
                sendHdr[slot].msg_hdr.msg_namelen = len
            }
            queued += 1
            if queued == batch { flush() }
            return
        }
        let rc = dest.withSockAddr { sa, len in sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), sa, len) }
        if rc < 0 { stats.sendDropped += 1 } else { stats.sent += 1 }
    }

    public func send(_ bytes: [UInt8], to peer: SocketAddress) {
        bytes.withUnsafeBytes { send($0, to: peer) }
    }

    /// Sends what `send` queued during a batch.
    private func flush() {
        var start = 0
        while start < queued {
            for i in start..<queued {
                sendHdr[i].msg_hdr.msg_name = UnsafeMutableRawPointer(sendAddr + i)
                sendHdr[i].msg_hdr.msg_iov = sendIov + i
                sendHdr[i].msg_hdr.msg_iovlen = 1
                sendHdr[i].msg_hdr.msg_control = nil
                sendHdr[i].msg_hdr.msg_controllen = 0
                sendHdr[i].msg_hdr.msg_flags = 0
            }
            let n = Linux.sendmmsg(fd, UnsafeMutableRawPointer(sendHdr + start), UInt32(queued - start), Int32(MSG_DONTWAIT))
            if n < 0 {
                if errno == EINTR { continue }
                // The first datagram failed (EAGAIN, unreachable...): drop it, go on with the rest.
                stats.sendDropped += 1
                start += 1
            } else {
                stats.sent += Int(n)
                start += Int(n)
            }
        }
        queued = 0
    }

    // MARK: - receiving

    func handleEvents(_ events: UInt32) {
        guard !isClosed else { return }
        if batch > 1 { receiveBatched() } else { receiveSingle() }
    }

    private func receiveBatched() {
        var rounds = 0
        while !isClosed && rounds < 16 {
            rounds += 1
            for i in 0..<batch {
                recvHdr[i].msg_hdr.msg_name = UnsafeMutableRawPointer(recvAddr + i)
                recvHdr[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                recvHdr[i].msg_hdr.msg_iov = recvIov + i
                recvHdr[i].msg_hdr.msg_iovlen = 1
                recvHdr[i].msg_hdr.msg_control = nil
                recvHdr[i].msg_hdr.msg_controllen = 0
                recvHdr[i].msg_hdr.msg_flags = 0
            }
            let n = Linux.recvmmsg(fd, UnsafeMutableRawPointer(recvHdr), UInt32(batch), Int32(MSG_DONTWAIT), nil)
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                break
            }
            delivering = true
            for i in 0..<Int(n) {
                let len = Int(recvHdr[i].msg_len)
                deliver(UnsafeRawBufferPointer(start: recvData + i * slotSize, count: len),
                        from: UnsafeRawPointer(recvAddr + i), truncated: len > options.maxDatagramSize || recvHdr[i].msg_hdr.msg_flags & Linux.MSG_TRUNC_ != 0)
                if isClosed { break }
            }
            delivering = false
            if queued > 0 { flush() }
            onBatchEnd?()
            if Int(n) < batch { break }
        }
    }

    private func receiveSingle() {
        var rounds = 0
        while !isClosed && rounds < 64 {
            rounds += 1
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = recvfrom(fd, recvData, slotSize, Int32(MSG_DONTWAIT), UnsafeMutableRawPointer(recvAddr).assumingMemoryBound(to: sockaddr.self), &len)
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            deliver(UnsafeRawBufferPointer(start: recvData, count: n), from: UnsafeRawPointer(recvAddr), truncated: n > options.maxDatagramSize)
        }
        onBatchEnd?()
    }

    @inline(__always)
    private func deliver(_ payload: UnsafeRawBufferPointer, from addr: UnsafeRawPointer, truncated: Bool) {
        if truncated { stats.truncated += 1; return }
        guard let peer = SocketAddress(storage: addr) else { return }
        stats.received += 1
        onDatagram?(self, payload, isV6 ? peer.unmapped : peer)
    }

    // MARK: - closing

    /// Deregisters and closes the socket (loop thread). Idempotent.
    public func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        if queued > 0 { flush() }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
        onDatagram = nil
        onBatchEnd = nil
    }

    func closeForShutdown() { close() }

    /// A handle that sends from any thread (sendto(2) on this fd is thread-safe). Valid
    /// while the socket is open; sending after `close` fails harmlessly with EBADF unless
    /// the number was reused, so stop senders before closing.
    public var sendHandle: UDPSendHandle { UDPSendHandle(fd: fd, isV6: isV6) }
}

/// Sends datagrams through a `UDPSocket` from any thread (used when one loop reads and
/// other loops answer: the dispatching-reader model).
public struct UDPSendHandle: Sendable {
    public let fd: Int32
    let isV6: Bool

    /// Sends now; false if the kernel refused (buffer full, unreachable...).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress) -> Bool {
        let dest = isV6 ? peer.mappedToV6 : peer
        return dest.withSockAddr { sa, len in sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), sa, len) } >= 0
    }

    @discardableResult
    public func send(_ bytes: [UInt8], to peer: SocketAddress) -> Bool {
        bytes.withUnsafeBytes { send($0, to: peer) }
    }
}
