import SIP

/// Requests and responses as the transport tests' phones write them, so each test names only
/// what it varies.
extension SIPMessage {
    /// A request with the headers RFC 3261 §8.1.1 requires (Via, Max-Forwards 70, From, To,
    /// Call-ID, CSeq), then Contact when given, then `headers` in order.
    public static func testRequest(_ method: String, uri: String, via: String, from: String, to: String, callID: String,
                                   cseq: UInt32 = 1, contact: String? = nil, headers: [(String, String)] = []) throws -> SIPMessage {
        var m = SIPMessage.request(method, uri: try SIPAnyURI(uri))
        m.addHeader("Via", via)
        m.addHeader("Max-Forwards", "70")
        m.addHeader("From", from)
        m.addHeader("To", to)
        m.addHeader("Call-ID", callID)
        m.addHeader("CSeq", "\(cseq) \(method)")
        if let contact { m.addHeader("Contact", contact) }
        for (n, v) in headers { m.addHeader(n, v) }
        return m
    }

    /// A response to `request` (RFC 3261 §8.2.6.2): its Via lines, From, To, Call-ID and CSeq
    /// copied, and `toTag` added to a To that has none.
    public static func testResponse(to request: SIPMessage, _ code: Int, toTag: String? = nil) -> SIPMessage {
        var r = SIPMessage.response(code)
        for v in request.headerLines("Via") { r.addHeader("Via", v) }
        for h in ["From", "To", "Call-ID", "CSeq"] { if let v = request.header(h) { r.addHeader(h, v) } }
        if let toTag, let to = try? request.to(), to.tag == nil { r.setHeader("To", (request.header("To") ?? "") + ";tag=\(toTag)") }
        return r
    }
}
