/// Reads one client frame (RFC 6455 §5.2) from a byte buffer. Every length is checked
/// against what is buffered and against `maxPayload` before any payload byte is read, so a
/// frame announcing 2^63 bytes costs nothing but its header.
public enum WebSocketFrameParser {
    public enum Result: Equatable, Sendable {
        case needMore
        /// A frame and the bytes it took.
        case frame(WebSocketFrame, consumed: Int)
        /// The stream is broken: close with `code` (§7.4.1); `reason` names the fault.
        case failure(code: UInt16, reason: String)
    }

    /// Parses the frame at `buffer[start...]`.
    public static func parse(_ buffer: [UInt8], from start: Int = 0, maxPayload: Int) -> Result {
        let avail = buffer.count - start
        guard avail >= 2 else { return .needMore }
        let b0 = buffer[start], b1 = buffer[start + 1]
        let fin = b0 & 0x80 != 0
        guard b0 & 0x70 == 0 else { return .failure(code: WebSocketCloseCode.protocolError, reason: "RSV bits set without an extension") }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
            return .failure(code: WebSocketCloseCode.protocolError, reason: "reserved opcode 0x\(String(b0 & 0x0F, radix: 16))")
        }
        // §5.1: a server MUST close on an unmasked client frame.
        guard b1 & 0x80 != 0 else { return .failure(code: WebSocketCloseCode.protocolError, reason: "unmasked client frame") }
        var header = 2
        var length = UInt64(b1 & 0x7F)
        if length == 126 {
            guard avail >= 4 else { return .needMore }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            header = 4
            guard length >= 126 else { return .failure(code: WebSocketCloseCode.protocolError, reason: "16-bit length \(length) not minimal") }
        } else if length == 127 {
            guard avail >= 10 else { return .needMore }
            length = 0
            for i in 0..<8 { length = length << 8 | UInt64(buffer[start + 2 + i]) }
            header = 10
            guard length >> 63 == 0 else { return .failure(code: WebSocketCloseCode.protocolError, reason: "64-bit length with its top bit set") }
            guard length > 0xFFFF else { return .failure(code: WebSocketCloseCode.protocolError, reason: "64-bit length \(length) not minimal") }
        }
        if opcode.isControl {
            guard fin else { return .failure(code: WebSocketCloseCode.protocolError, reason: "fragmented \(opcode) frame") }
            guard length <= 125 else { return .failure(code: WebSocketCloseCode.protocolError, reason: "\(opcode) frame of \(length) bytes (max 125)") }
        }
        guard length <= UInt64(maxPayload) else {
            return .failure(code: WebSocketCloseCode.tooBig, reason: "\(opcode) frame of \(length) bytes exceeds the \(maxPayload)-byte limit")
        }
        let n = Int(length)
        guard avail >= header + 4 + n else { return .needMore }
        let k = Array(buffer[(start + header)..<(start + header + 4)])
        let p = start + header + 4
        var payload = [UInt8](repeating: 0, count: n)
        for i in 0..<n { payload[i] = buffer[p + i] ^ k[i & 3] }
        return .frame(WebSocketFrame(fin: fin, opcode: opcode, payload: payload), consumed: header + 4 + n)
    }
}
