import SIP

/// SDP (RFC 4566) as the IMS reads offers: parse→serialize→parse round trip, the media
/// accessors, and the RFC 3264 answer, which must itself be SDP we can parse.
let sdpHarness = Harness(name: "sdp", summary: "SDP parse/serialize round trip, offer/answer") { data in
    guard let s = try? SDPSession(parsing: data) else { return }
    let wire = s.serialized()
    guard let again = try? SDPSession(parsing: wire) else { fatalError("serialized SDP does not parse") }
    require(again == s, "SDP changed in a parse/serialize/parse round trip")
    _ = s.sessionConnectionAddress
    for m in s.media {
        _ = (m.connectionAddress, m.rtcpPort, m.direction, s.connectionAddress(for: m), SDPPreconditions(m).isPresent)
        for pt in m.formats { _ = m.rtpmap(pt); _ = m.fmtp(pt) }
    }
    for (local, ready) in [("198.51.100.1", nil), ("2001:db8::1", true), ("198.51.100.1", false)] as [(String, Bool?)] {
        guard let a = try? SDPAnswerer().answer(offer: s, localAddress: local, localPort: 40000, sessionID: 1, version: 2, peerReady: ready) else { continue }
        guard let parsed = try? SDPSession(parsing: a.sdp.serialized()) else { fatalError("our SDP answer does not parse") }
        require(parsed == a.sdp, "our SDP answer changed in a round trip")
    }
}
