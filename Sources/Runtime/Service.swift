import Glibc

/// A long-running part of the core (ePDG, IMS, HSS front end) bound to one loop. `start`
/// runs on that loop's thread: bind sockets, arm timers. `stop` (also on the loop) closes
/// what it opened. One instance per loop when a service is sharded.
public protocol Service: AnyObject {
    var name: String { get }
    func start(on loop: EventLoop) throws
    func stop()
}

/// Identifies a TCP stream inside one `ServiceContext`.
public struct StreamID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public var description: String { "stream#\(rawValue)" }
}

/// What a sans-I/O protocol core asks the runtime to do. Cores return these (or call
/// the matching `ServiceContext` methods directly on the hot path).
public enum ServiceAction {
    /// Send from the UDP socket bound to `from` (nil: the first socket of the peer's family).
    case sendDatagram([UInt8], to: SocketAddress, from: SocketAddress?)
    case writeStream(StreamID, [UInt8])
    case closeStream(StreamID)
    /// Arms (or re-arms) the timer named `key`; `timerFired(key)` follows unless cancelled.
    case armTimer(key: UInt64, after: Duration)
    case cancelTimer(key: UInt64)
    case log(LogLayer, LogLevel, LogDirection, ue: String?, String)
}

/// Receives what the loop reads for a service. All calls are on the service's loop.
public protocol ServiceHandler: AnyObject {
    /// A UDP datagram for one of the context's sockets; `bytes` is valid during the call.
    func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext)
    /// A TCP stream was accepted (or an outgoing one connected).
    func streamOpened(_ stream: StreamID, peer: SocketAddress?, context: ServiceContext)
    /// Bytes on a stream, in order; valid during the call.
    func stream(_ stream: StreamID, received bytes: UnsafeRawBufferPointer, context: ServiceContext)
    /// The stream ended (nil error: orderly close).
    func streamClosed(_ stream: StreamID, error: RuntimeError?, context: ServiceContext)
    /// A timer armed with `armTimer(key:)` fired.
    func timerFired(_ key: UInt64, context: ServiceContext)
}

extension ServiceHandler {
    public func streamOpened(_ stream: StreamID, peer: SocketAddress?, context: ServiceContext) {}
    public func stream(_ stream: StreamID, received bytes: UnsafeRawBufferPointer, context: ServiceContext) {}
    public func streamClosed(_ stream: StreamID, error: RuntimeError?, context: ServiceContext) {}
    public func timerFired(_ key: UInt64, context: ServiceContext) {}
}

/// The I/O side of one service on one loop: owns its sockets, streams and named timers,
/// feeds a `ServiceHandler`, and carries out its actions. Loop-confined.
///
/// `@unchecked Sendable`: only so tasks hopping to its loop may capture it; every member
/// is used on the loop thread only.
public final class ServiceContext: @unchecked Sendable {
    public let loop: EventLoop
    public let logger: Logger
    public weak var handler: ServiceHandler?
    public private(set) var udpSockets: [UDPSocket] = []
    public private(set) var listeners: [TCPListener] = []
    private var streams: [StreamID: TCPConnection] = [:]
    private var timers: [UInt64: TimerID] = [:]
    private var nextStream: UInt64 = 1

    public init(loop: EventLoop, logger: Logger, handler: ServiceHandler? = nil) {
        self.loop = loop
        self.logger = logger
        self.handler = handler
    }

    /// Monotonic nanoseconds.
    public var now: UInt64 { MonotonicClock.now() }

    // MARK: sockets

    /// Binds a UDP socket whose datagrams go to the handler.
    @discardableResult
    public func bindUDP(_ address: SocketAddress, options: UDPSocket.Options = .init()) throws(RuntimeError) -> UDPSocket {
        let s = try UDPSocket.bind(address, on: loop, options: options) { [unowned self] sock, bytes, peer in
            self.handler?.datagram(bytes, from: peer, on: sock, context: self)
        }
        udpSockets.append(s)
        logger.info(.runtime, "UDP \(s.localAddress) bound on loop \(loop.index)")
        return s
    }

    /// Listens on TCP; accepted streams are reported with `streamOpened`.
    @discardableResult
    public func listenTCP(_ address: SocketAddress, reusePort: Bool = false) throws(RuntimeError) -> TCPListener {
        let l = try TCPListener.listen(address, on: loop, reusePort: reusePort) { [unowned self] conn in
            let id = self.adopt(conn)
            self.handler?.streamOpened(id, peer: conn.peerAddress, context: self)
        }
        listeners.append(l)
        logger.info(.runtime, "TCP \(l.localAddress) listening on loop \(loop.index)")
        return l
    }

    /// Connects out; `streamOpened` follows when connected, `streamClosed` on failure.
    public func connectTCP(_ address: SocketAddress, from source: SocketAddress? = nil) throws(RuntimeError) -> StreamID {
        var id = StreamID(rawValue: 0)
        let c = try TCPConnection.connect(to: address, from: source, on: loop) { [unowned self] conn in
            self.handler?.streamOpened(id, peer: conn.peerAddress, context: self)
        }
        id = adopt(c)
        return id
    }

    private func adopt(_ conn: TCPConnection) -> StreamID {
        let id = StreamID(rawValue: nextStream)
        nextStream += 1
        streams[id] = conn
        conn.onRead = { [unowned self] _, bytes in self.handler?.stream(id, received: bytes, context: self) }
        conn.onClose = { [unowned self] _, err in
            self.streams[id] = nil
            self.handler?.streamClosed(id, error: err, context: self)
        }
        return id
    }

    /// The connection behind a stream id (nil once closed).
    public func connection(_ id: StreamID) -> TCPConnection? { streams[id] }

    // MARK: actions

    /// Sends a datagram from the socket bound to `from`, else the first one of the peer's
    /// family (a dual-stack IPv6 socket serves IPv4 peers too). False if no socket fits.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress, from: SocketAddress? = nil) -> Bool {
        let sock: UDPSocket?
        if let from {
            sock = udpSockets.first { $0.localAddress == from }
        } else {
            sock = udpSockets.first { $0.localAddress.family == peer.family } ?? udpSockets.first { $0.localAddress.family == AF_INET6 }
        }
        guard let sock else {
            logger.error(.runtime, "no UDP socket to send to \(peer)\(from.map { " from \($0)" } ?? "")", dir: .to)
            return false
        }
        sock.send(bytes, to: peer)
        return true
    }

    public func write(_ stream: StreamID, _ bytes: UnsafeRawBufferPointer) {
        streams[stream]?.write(bytes)
    }

    public func close(_ stream: StreamID) { streams[stream]?.closeAfterWrites() }

    /// Arms (re-arms) the timer `key`.
    public func armTimer(key: UInt64, after delay: Duration) {
        if let old = timers[key] { loop.cancelTimer(old) }
        timers[key] = loop.scheduleTimer(after: delay) { [unowned self] in
            self.timers[key] = nil
            self.handler?.timerFired(key, context: self)
        }
    }

    public func cancelTimer(key: UInt64) {
        if let old = timers.removeValue(forKey: key) { loop.cancelTimer(old) }
    }

    public var armedTimerCount: Int { timers.count }

    public func perform(_ action: ServiceAction) {
        switch action {
        case .sendDatagram(let b, let to, let from): b.withUnsafeBytes { _ = send($0, to: to, from: from) }
        case .writeStream(let s, let b): b.withUnsafeBytes { write(s, $0) }
        case .closeStream(let s): close(s)
        case .armTimer(let k, let d): armTimer(key: k, after: d)
        case .cancelTimer(let k): cancelTimer(key: k)
        case .log(let layer, let level, let dir, let ue, let msg): logger.log(layer, level, msg, dir: dir, ue: ue)
        }
    }

    public func perform(_ actions: [ServiceAction]) { for a in actions { perform(a) } }

    /// Closes every socket, stream and timer of this service.
    public func closeAll() {
        for (_, t) in timers { loop.cancelTimer(t) }
        timers.removeAll()
        for (_, c) in streams { c.onClose = nil; c.close() }
        streams.removeAll()
        for s in udpSockets { s.close() }
        udpSockets.removeAll()
        for l in listeners { l.close() }
        listeners.removeAll()
    }
}


/// Services started on the loops of a group, one instance per loop.
public final class ServiceSet: @unchecked Sendable {
    // @unchecked: `services[i]` is created, used and stopped only on loop i.
    private var services: [any Service]
    private let group: EventLoopGroup

    private init(group: EventLoopGroup, services: [any Service]) {
        self.group = group
        self.services = services
    }

    /// Makes and starts one service per loop (on that loop's thread); if any start fails,
    /// those already started are stopped and the error is thrown.
    public static func start(on group: EventLoopGroup, _ make: @escaping @Sendable (EventLoop) throws -> any Service) throws -> ServiceSet {
        let box = ServiceBox()
        do {
            for loop in group.loops {
                try loop.submit {
                    let s = try make(loop)
                    do { try s.start(on: loop) } catch {
                        s.stop()  // release what it opened before failing
                        throw error
                    }
                    box.put(loop.index, s)
                }
            }
        } catch {
            for loop in group.loops { _ = try? loop.submit { box.take(loop.index)?.stop() } }
            throw error
        }
        return ServiceSet(group: group, services: group.loops.map { box.take($0.index)! })
    }

    /// Runs `body` with loop i's service on loop i and waits.
    public func forEach(_ body: @escaping @Sendable (any Service) -> Void) {
        let box = ServiceBox()
        for (i, s) in services.enumerated() { box.put(i, s) }
        for loop in group.loops { _ = try? loop.submit { if let s = box.peek(loop.index) { body(s) } } }
    }

    /// Stops every service on its loop and waits.
    public func stop() { forEach { $0.stop() } }
}

private final class ServiceBox: @unchecked Sendable {
    // @unchecked: guarded by `lock`; each service is only *used* on its own loop.
    private let lock = Lock()
    private var items: [Int: any Service] = [:]
    func put(_ i: Int, _ s: any Service) { lock.withLock { items[i] = s } }
    func take(_ i: Int) -> (any Service)? { lock.withLock { items.removeValue(forKey: i) } }
    func peek(_ i: Int) -> (any Service)? { lock.withLock { items[i] } }
}
