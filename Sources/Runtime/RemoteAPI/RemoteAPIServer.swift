import Foundation
import WebSocket

/// The callbox-style remote API on one loop: a TCP listener whose connections speak
/// WebSocket (RFC 6455) carrying JSON requests. Each connection gets the `ready` message,
/// then one reply per request with `message`, `message_id`, `time` and `utc` added to what
/// the handler returns. A connection that breaks the protocol is closed alone, with a log
/// line naming the fault; malformed JSON only earns an error reply.
///
/// `@unchecked Sendable`: loop-confined; handler replies hop back to `loop` before touching state.
public final class RemoteAPIServer: @unchecked Sendable {
    public let loop: EventLoop
    public let handler: RemoteAPIHandler
    public let localAddress: SocketAddress
    /// The largest request message accepted (larger: close 1009).
    public static let maxMessageSize = 1 << 20
    public static let version = "2025-12-12"
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
        let key = ObjectIdentifier(s)
        sessions[key] = s
        logger.info(.runtime, "remote API (\(handler.type)): connection from \(s.peer)")
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
            case .opened: send(ready, on: s)
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
