import Foundation
import WebSocket

/// The callbox-style remote API on one loop: a TCP listener whose connections speak
/// WebSocket (RFC 6455) carrying JSON requests. Each connection gets the `ready` message,
/// then one reply per request with `message`, `message_id`, `time` and `utc` added to what
/// the handler returns. A connection that breaks the protocol is closed alone, with a log
/// line naming the fault; malformed JSON only earns an error reply. With `com_auth` the
/// client must first answer a challenge (`RemoteAPIAuth`). At most `maxConnections` are
/// served at once, and one that has not finished its handshake in `handshakeTimeout` is
/// dropped, so idle sockets cannot lock the operators out.
///
/// `@unchecked Sendable`: loop-confined; handler replies hop back to `loop` before touching state.
public final class RemoteAPIServer: @unchecked Sendable {
    public let loop: EventLoop
    public let handler: RemoteAPIHandler
    public let localAddress: SocketAddress
    /// The largest request message accepted (larger: close 1009).
    public static let maxMessageSize = 1 << 20
    public static let version = "2025-12-12"
    /// Connections served at once per API: a few operators and scripts need far fewer, and
    /// each one costs a socket and buffers; the next one is refused (and logged).
    public static let maxConnections = 16
    /// Time from accept to a completed WebSocket handshake; after it the socket is closed
    /// (a client that connects and never sends its HTTP request must not hold a slot).
    public static let handshakeTimeout: Duration = .seconds(5)
    private let auth: RemoteAPIAuth?
    private let logger: Logger
    private var listener: TCPListener?
    private var sessions: [ObjectIdentifier: Session] = [:]
    /// Requests awaiting their handler's reply: the connection and the raw `message_id`.
    private var pending: [UInt64: (session: ObjectIdentifier, message: String, id: Any?)] = [:]
    private var nextToken: UInt64 = 1
    private let started = MonotonicClock.now()

    /// One WebSocket over one accepted TCP connection.
    final class Session {
        let conn: TCPConnection
        var ws = WebSocketConnection(maxMessageSize: RemoteAPIServer.maxMessageSize)
        let peer: String
        /// The challenge awaiting its answer; nil once authenticated (or without `com_auth`).
        var challenge: String?
        init(_ conn: TCPConnection) { self.conn = conn; peer = conn.peerAddress.map { "\($0)" } ?? "?" }
    }

    /// Listens on `address` (on `loop`'s thread).
    public static func start(_ address: SocketAddress, on loop: EventLoop, handler: RemoteAPIHandler,
                             logger: Logger) throws(RuntimeError) -> RemoteAPIServer {
        var server: RemoteAPIServer?
        let l = try TCPListener.listen(address, on: loop, backlog: 16) { conn in server?.accepted(conn) }
        let s = RemoteAPIServer(loop: loop, handler: handler, local: l.localAddress, logger: logger)
        s.listener = l
        server = s
        logger.info(.runtime, "remote API (\(handler.type)) listening on ws://\(l.localAddress)")
        return s
    }

    private init(loop: EventLoop, handler: RemoteAPIHandler, local: SocketAddress, logger: Logger) {
        self.loop = loop; self.handler = handler; self.localAddress = local; self.logger = logger
        auth = handler.comAuth.map { RemoteAPIAuth($0, type: handler.type, name: handler.name) }
    }

    /// Closes the listener and every connection (close 1001 first).
    public func stop() {
        loop.assertInLoop()
        listener?.close(); listener = nil
        for s in sessions.values { run(s.ws.close(WebSocketCloseCode.goingAway, reason: "server stopping"), on: s) }
        sessions.removeAll()
        pending.removeAll()
    }

    public var connectionCount: Int { sessions.count }

    // MARK: connections

    private func accepted(_ conn: TCPConnection) {
        guard listener != nil else { conn.close(); return }
        let s = Session(conn)
        guard sessions.count < Self.maxConnections else {
            logger.error(.runtime, "remote API (\(handler.type)): refusing connection from \(s.peer): \(Self.maxConnections) connections already open (the limit)")
            conn.close()
            return
        }
        let key = ObjectIdentifier(s)
        sessions[key] = s
        logger.info(.runtime, "remote API (\(handler.type)): connection from \(s.peer)")
        loop.scheduleTimer(after: Self.handshakeTimeout) { [weak self] in
            guard let self, self.sessions[key] === s, s.ws.state == .handshake else { return }
            self.sessions.removeValue(forKey: key)
            self.logger.error(.runtime, "remote API (\(self.handler.type)): \(s.peer): no WebSocket handshake within \(Self.handshakeTimeout), closing")
            s.conn.close()
        }
        conn.onRead = { [unowned self] _, bytes in
            guard let s = self.sessions[key] else { return }
            self.run(s.ws.receive(bytes), on: s)
        }
        conn.onClose = { [unowned self] _, error in
            guard self.sessions.removeValue(forKey: key) != nil else { return }
            self.logger.info(.runtime, "remote API (\(self.handler.type)): \(s.peer) disconnected\(error.map { ": \($0)" } ?? "")")
        }
    }

    private func run(_ events: [WebSocketConnection.Event], on s: Session) {
        for e in events {
            switch e {
            case let .write(bytes): s.conn.write(bytes)
            case .opened:
                if auth != nil {
                    let c = RemoteAPIAuth.challenge()
                    s.challenge = c
                    send(authenticate(c), on: s)
                } else {
                    send(ready, on: s)
                }
            case let .text(t): received(t, on: s)
            case let .close(reason):
                if sessions.removeValue(forKey: ObjectIdentifier(s)) != nil {
                    let level: LogLevel = reason.hasPrefix("client closed") ? .info : .error
                    logger.log(.runtime, level, "remote API (\(handler.type)): \(s.peer): \(reason)")
                }
                s.conn.closeAfterWrites()
            }
        }
    }

    private var ready: [String: Any] {
        ["message": "ready", "type": handler.type, "name": handler.name, "version": Self.version, "product": "VoWiFi Core"]
    }

    /// The first message under `com_auth`, and the reply to a wrong answer (with a new challenge).
    private func authenticate(_ challenge: String) -> [String: Any] {
        ["message": "authenticate", "type": handler.type, "name": handler.name, "challenge": challenge]
    }

    /// A request before authentication: the answer is checked, anything else refused.
    private func unauthenticated(_ dict: [String: Any], challenge: String, on s: Session) {
        var r: [String: Any] = ["message": dict["message"] ?? NSNull()]
        r["message_id"] = dict["message_id"]
        guard dict["message"] as? String == "authenticate" else {
            r["error"] = "Authentication not done"
            send(stamped(r), on: s)
            return
        }
        if let res = dict["res"] as? String, auth?.accepts(res, for: challenge) == true {
            s.challenge = nil
            logger.info(.runtime, "remote API (\(handler.type)): \(s.peer) authenticated")
            send(stamped(r.merging(ready) { a, _ in a }.merging(["ready": true]) { _, b in b }), on: s)
        } else {
            logger.error(.runtime, "remote API (\(handler.type)): \(s.peer): authentication failed")
            s.challenge = RemoteAPIAuth.challenge()
            r["error"] = "Authentication failed"
            r["challenge"] = s.challenge
            send(stamped(r), on: s)
        }
    }

    // MARK: requests

    /// One text message: a JSON object, or an array of them (callbox §5.1).
    private func received(_ text: String, on s: Session) {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            send(stamped(["error": "Invalid JSON: \(Self.reason(error))"]), on: s)
            return
        }
        for item in (parsed as? [Any]) ?? [parsed] {
            guard let dict = item as? [String: Any] else { send(stamped(["error": "Invalid request: not a JSON object"]), on: s); continue }
            if let challenge = s.challenge { unauthenticated(dict, challenge: challenge, on: s); continue }
            guard let message = dict["message"] as? String else {
                var r: [String: Any] = ["error": "Missing message"]
                r["message_id"] = dict["message_id"]
                send(stamped(r), on: s)
                continue
            }
            var fields: [String: String] = [:]
            for (k, v) in dict {
                if let t = v as? String { fields[k] = t } else if let n = v as? NSNumber { fields[k] = n.stringValue }
            }
            let token = nextToken
            nextToken += 1
            pending[token] = (ObjectIdentifier(s), message, dict["message_id"])
            let known = handler.handle(RemoteAPIRequest(message: message, fields: fields)) { [self] reply in
                _ = loop.execute { [self] in finish(token, reply) }
            }
            if !known { finish(token, ["error": .string("Unknown message: \(message)")]) }
        }
    }

    private func finish(_ token: UInt64, _ reply: JSONObject) {
        guard let p = pending.removeValue(forKey: token), let s = sessions[p.session] else { return }
        var r = reply.mapValues(\.foundation)
        r["message"] = p.message
        r["message_id"] = p.id
        send(stamped(r), on: s)
    }

    /// Adds `time` (seconds since the API started) and `utc` (seconds since 1970).
    private func stamped(_ r: [String: Any]) -> [String: Any] {
        var r = r
        r["time"] = Double(MonotonicClock.now() - started) / 1e9
        r["utc"] = Date().timeIntervalSince1970
        return r
    }

    private func send(_ object: [String: Any], on s: Session) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
              let frame = s.ws.text(String(decoding: data, as: UTF8.self)) else { return }
        s.conn.write(frame)
    }

    /// Foundation's parse errors carry their detail in userInfo.
    static func reason(_ e: Error) -> String {
        let ns = e as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}
