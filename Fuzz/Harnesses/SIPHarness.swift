import AKA
import SIP

/// SIP parsing (Sources/SIP/SIPParser.swift): a datagram parsed leniently and strictly, the
/// typed header accessors the IMS uses, serialize→parse round trip; and the same bytes as a
/// TCP stream cut into chunks (sizes taken from the input) through SIPStreamFramer.
let sipHarness = Harness(name: "sip", summary: "SIP datagram parse + accessors + round trip, stream framing") { data in
    if let m = try? SIPMessage(parsing: data, validate: false) {
        let wire = m.serialized()
        guard let again = try? SIPMessage(parsing: wire, validate: false) else { fatalError("re-serialized SIP message does not parse") }
        // Serialization writes a Content-Length that matches the body (adding one if absent).
        var a = m, b = again
        a.removeHeaders("Content-Length"); b.removeHeaders("Content-Length")
        require(a == b, "SIP message changed in a parse/serialize/parse round trip")
        require(again.serialized() == wire, "SIP serialization is not a fixed point")
        readHeaders(m)
    }
    if let m = try? SIPMessage(parsing: data) {
        // A validated message has the mandatory headers the cache promises.
        require((try? m.callID()) != nil && (try? m.cseq()) != nil && (try? m.topVia()) != nil, "validated message lacks Call-ID/CSeq/Via")
        readHeaders(m)
    }
    var framer = SIPStreamFramer()
    var offset = 0
    var chunk = 1
    while offset < data.count {
        let n = min(data.count - offset, chunk)
        framer.append(data[offset..<(offset + n)])
        offset += n
        chunk = Int(data[offset - 1] % 61) + 1
        do {
            while let msg = try framer.nextMessage() {
                require(msg.count <= framer.maxMessageSize, "framer returned \(msg.count) bytes over its limit")
                _ = try? SIPMessage(parsing: msg)
            }
        } catch { return }
    }
}

/// What the registrar, proxy and session timer read from a message.
func readHeaders(_ m: SIPMessage) {
    _ = m.requestURI?.description
    _ = try? m.callID(); _ = try? m.cseq(); _ = try? m.from(); _ = try? m.to()
    _ = try? m.vias().map(\.description); _ = try? m.contacts().map(\.description)
    _ = m.isWildcardContact; _ = m.contentType
    for name in ["Route", "Record-Route", "Path", "Service-Route", "P-Associated-URI", "P-Asserted-Identity"] {
        if let a = try? m.addresses(name) {
            for x in a {
                _ = x.tag; _ = x.uri.telephoneNumber; _ = x.uri.sipURI?.addressOfRecord; _ = x.uri.sipURI?.userDecoded
                // An address we print must parse back (the proxy rewrites Route/Path this way).
                require((try? SIPAddress(parsing: Substring(x.description), header: name)) != nil, "\(name) address does not re-parse")
            }
        }
    }
    for name in ["Expires", "Max-Forwards", "Min-Expires", "RSeq", "Min-SE", "Content-Length"] { _ = try? m.integer(name) }
    for name in ["Supported", "Require", "Proxy-Require"] { _ = m.optionTags(name) }
    for name in ["Authorization", "Proxy-Authorization", "WWW-Authenticate"] {
        if let a = try? m.authorization(name), let nonce = a["nonce"] { _ = try? DigestAKA.parseNonce(nonce) }
    }
    for name in ["Security-Client", "Security-Verify", "Security-Server"] {
        for v in (try? m.headerValues(name)) ?? [] {
            if let s = try? SIPSecurityMechanism(parsing: v) { _ = (s.spiC, s.spiS, s.portC, s.portS, s.description) }
        }
    }
    _ = SIPSessionExpires(m)?.description; _ = SIPSessionExpires.minSE(m)
    if let v = try? m.topVia() { _ = (v.branch, v.received, v.rport, v.hostAddress, v.hasMagicCookie) }
    var copy = m
    try? copy.removeFirstValue("Via")
    try? copy.removeFirstValue("Route")
}
