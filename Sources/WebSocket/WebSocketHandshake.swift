import Crypto
import Foundation

/// The server side of the RFC 6455 §4.2 opening handshake: an HTTP/1.1 GET with
/// `Upgrade: websocket` is answered with 101 and Sec-WebSocket-Accept; anything else with a
/// 4xx naming what was wrong, so a misconfigured client learns why.
public enum WebSocketHandshake {
    /// RFC 6455 §1.3: appended to the client's key before hashing.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    /// Header bytes we wait for before giving up (a client sending more is not a WebSocket client).
    public static let maxRequestSize = 8192

    public enum Outcome: Equatable, Sendable {
        /// No complete header block yet.
        case needMore
        /// A valid upgrade: send `response`; `consumed` bytes were the request (frames may follow).
        case accepted(response: [UInt8], path: String, consumed: Int)
        /// Send `response` and close; `reason` is for the log.
        case rejected(response: [UInt8], reason: String)
    }

    /// Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 item 5.4).
    public static func accept(key: String) -> String {
        Data(Digest.hash(.sha1, Array((key + guid).utf8))).base64EncodedString()
    }

    /// Parses the request at the start of `buffer`.
    public static func parse(_ buffer: [UInt8]) -> Outcome {
        guard let end = headerEnd(buffer) else {
            return buffer.count > maxRequestSize ? reject(431, "request headers longer than \(maxRequestSize) bytes") : .needMore
        }
        guard end <= maxRequestSize else { return reject(431, "request headers longer than \(maxRequestSize) bytes") }
        let text = String(decoding: buffer[..<end], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/") else { return reject(400, "not an HTTP request line") }
        guard requestLine[0] == "GET" else { return reject(405, "method \(requestLine[0]) (RFC 6455 §4.1: the handshake is a GET)") }
        guard requestLine[2] != "HTTP/1.0", requestLine[2] != "HTTP/0.9" else { return reject(400, "\(requestLine[2]) (RFC 6455 §4.1: HTTP/1.1 or later)") }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return reject(400, "header line without ':'") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        guard headers["host"] != nil else { return reject(400, "no Host header") }
        guard tokens(headers["upgrade"]).contains("websocket") else { return reject(400, "no 'Upgrade: websocket' header") }
        guard tokens(headers["connection"]).contains("upgrade") else { return reject(400, "no 'Connection: Upgrade' header") }
        guard headers["sec-websocket-version"] == "13" else {
            return reject(426, "Sec-WebSocket-Version \(headers["sec-websocket-version"] ?? "missing"), only 13 is served", extra: "Sec-WebSocket-Version: 13\r\n")
        }
        guard let key = headers["sec-websocket-key"], Data(base64Encoded: key)?.count == 16 else {
            return reject(400, "Sec-WebSocket-Key is not 16 bytes in base64")
        }
        let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept(key: key))\r\n\r\n"
        return .accepted(response: Array(response.utf8), path: String(requestLine[1]), consumed: end + 4)
    }

    /// Index of the blank line's "\r\n\r\n", if present.
    static func headerEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }

    /// Comma-separated header tokens, lowercased (Connection may be "keep-alive, Upgrade").
    static func tokens(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    static func reject(_ status: Int, _ reason: String, extra: String = "") -> Outcome {
        let phrase = [400: "Bad Request", 405: "Method Not Allowed", 426: "Upgrade Required", 431: "Request Header Fields Too Large"][status] ?? "Error"
        let body = reason + "\n"
        let r = "HTTP/1.1 \(status) \(phrase)\r\n\(extra)Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        return .rejected(response: Array(r.utf8), reason: "HTTP \(status): \(reason)")
    }
}
