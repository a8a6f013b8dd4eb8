/// One server-side WebSocket connection, sans I/O: feed it the bytes read from the socket,
/// carry out the events it returns. It answers the handshake, reassembles fragmented text
/// messages, answers ping with pong and close with close, and on any protocol fault sends
/// the close frame that names it (RFC 6455 §7.1.7: fail the connection) and asks to be closed.
public struct WebSocketConnection: Sendable {
    public enum Event: Equatable, Sendable {
        /// Bytes to write to the socket.
        case write([UInt8])
        /// The handshake completed (the 101 is in a `write` before this).
        case opened(path: String)
        /// A complete text message.
        case text(String)
        /// Close the socket once written; `reason` says why, for the log.
        case close(reason: String)
    }

    public enum State: Sendable { case handshake, open, closed }
    public private(set) var state: State = .handshake
    /// The largest message (and frame) accepted; larger ones close with 1009.
    public let maxMessageSize: Int
    private var buffer: [UInt8] = []
    private var fragments: [UInt8]? = nil

    public init(maxMessageSize: Int = 1 << 20) { self.maxMessageSize = maxMessageSize }

    /// Bytes read from the socket.
    public mutating func receive(_ bytes: some Collection<UInt8>) -> [Event] {
        guard state != .closed else { return [] }
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        if state == .handshake {
            switch WebSocketHandshake.parse(buffer) {
            case .needMore: return []
            case let .rejected(response, reason):
                state = .closed
                return [.write(response), .close(reason: "handshake rejected: \(reason)")]
            case let .accepted(response, path, consumed):
                state = .open
                buffer.removeFirst(consumed)
                events += [.write(response), .opened(path: path)]
            }
        }
        var offset = 0
        while state == .open {
            switch WebSocketFrameParser.parse(buffer, from: offset, maxPayload: maxMessageSize) {
            case .needMore:
                buffer.removeFirst(offset)
                return events
            case let .failure(code, reason):
                events += fail(code, reason)
            case let .frame(frame, consumed):
                offset += consumed
                events += handle(frame)
            }
        }
        buffer = []
        return events
    }

    /// A text message to the client (nil once closed).
    public func text(_ s: String) -> [UInt8]? {
        state == .open ? WebSocketFrame(opcode: .text, payload: Array(s.utf8)).serialized() : nil
    }

    /// Closes from our side (shutdown): the close frame, then the socket.
    public mutating func close(_ code: UInt16, reason: String) -> [Event] {
        guard state == .open else { return [] }
        state = .closed
        return [.write(WebSocketFrame.close(code, reason: reason).serialized()), .close(reason: reason)]
    }

    private mutating func handle(_ f: WebSocketFrame) -> [Event] {
        switch f.opcode {
        case .ping:
            return [.write(WebSocketFrame(opcode: .pong, payload: f.payload).serialized())]
        case .pong:
            return []
        case .close:
            return closeReceived(f.payload)
        case .binary:
            return fail(WebSocketCloseCode.unsupportedData, "binary message (the API speaks JSON text)")
        case .text:
            guard fragments == nil else { return fail(WebSocketCloseCode.protocolError, "text frame while a fragmented message is open") }
            if f.fin { return deliver(f.payload) }
            fragments = f.payload
            return []
        case .continuation:
            guard var parts = fragments else { return fail(WebSocketCloseCode.protocolError, "continuation frame without a message to continue") }
            guard parts.count + f.payload.count <= maxMessageSize else {
                return fail(WebSocketCloseCode.tooBig, "fragmented message exceeds the \(maxMessageSize)-byte limit")
            }
            parts += f.payload
            if !f.fin { fragments = parts; return [] }
            fragments = nil
            return deliver(parts)
        }
    }

    private mutating func deliver(_ payload: [UInt8]) -> [Event] {
        guard let s = String(validating: payload, as: UTF8.self) else {
            return fail(WebSocketCloseCode.invalidPayload, "text message is not UTF-8")
        }
        return [.text(s)]
    }

    /// §5.5.1: echo the status code, then close the TCP connection (the server closes first, §7.1.1).
    private mutating func closeReceived(_ p: [UInt8]) -> [Event] {
        state = .closed
        guard p.count >= 2 else {
            return [.write(WebSocketFrame(opcode: .close, payload: []).serialized()), .close(reason: "client closed")]
        }
        let code = UInt16(p[0]) << 8 | UInt16(p[1])
        guard String(validating: p[2...], as: UTF8.self) != nil else {
            return [.write(WebSocketFrame.close(WebSocketCloseCode.invalidPayload).serialized()), .close(reason: "close reason is not UTF-8")]
        }
        return [.write(WebSocketFrame.close(code).serialized()), .close(reason: "client closed (\(code))")]
    }

    private mutating func fail(_ code: UInt16, _ reason: String) -> [Event] {
        state = .closed
        buffer = []
        return [.write(WebSocketFrame.close(code, reason: reason).serialized()), .close(reason: "closed with \(code): \(reason)")]
    }
}
