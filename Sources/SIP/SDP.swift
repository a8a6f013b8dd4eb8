/// SDP (RFC 4566) as the IMS needs it: session and media sections kept as ordered `x=value`
/// lines (so unknown lines survive), with typed accessors for what offer/answer uses.
public struct SDPLine: Sendable, Equatable {
    public var type: Character
    public var value: String
    public init(_ type: Character, _ value: String) { self.type = type; self.value = value }
}

public enum SDPError: Error, Equatable, Sendable {
    case badLine(String)
    case missing(String)
    case badMedia(String)
}

/// One `m=` section.
public struct SDPMedia: Sendable, Equatable {
    public var media: String
    public var port: UInt16
    public var proto: String
    public var formats: [String]
    /// The lines after `m=` up to the next `m=`.
    public var lines: [SDPLine]

    public init(media: String, port: UInt16, proto: String, formats: [String], lines: [SDPLine] = []) {
        self.media = media; self.port = port; self.proto = proto; self.formats = formats; self.lines = lines
    }

    /// Values of `a=name:value` (or "" for flag attributes `a=name`).
    public func attributes(_ name: String) -> [String] {
        lines.compactMap { l in
            guard l.type == "a" else { return nil }
            if l.value == name { return "" }
            guard l.value.hasPrefix(name + ":") else { return nil }
            return String(l.value.dropFirst(name.count + 1))
        }
    }

    /// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]` for a payload type.
    public func rtpmap(_ pt: String) -> (encoding: String, clockRate: Int, channels: Int?)? {
        for v in attributes("rtpmap") {
            let parts = v.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0] == pt else { continue }
            let enc = parts[1].split(separator: "/")
            guard enc.count >= 2, let clock = Int(enc[1]) else { return nil }
            return (String(enc[0]), clock, enc.count > 2 ? Int(enc[2]) : nil)
        }
        // Static payload types of RFC 3551 need no rtpmap.
        switch pt {
        case "0": return ("PCMU", 8000, nil)
        case "8": return ("PCMA", 8000, nil)
        default: return nil
        }
    }

    public func fmtp(_ pt: String) -> String? {
        for v in attributes("fmtp") {
            let parts = v.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0] == pt { return String(parts[1]) }
        }
        return nil
    }

    /// The connection address of this section (`c=IN IP4 x`), if it has one.
    public var connectionAddress: String? { lines.first { $0.type == "c" }.flatMap { SDPSession.address(fromConnection: $0.value) } }

    /// `a=rtcp:<port>` (RFC 3605) or RTP port + 1.
    public var rtcpPort: UInt16 {
        if let v = attributes("rtcp").first, let p = UInt16(v.split(separator: " ").first ?? "") { return p }
        return port &+ 1
    }

    /// sendrecv / sendonly / recvonly / inactive (default sendrecv).
    public var direction: String {
        for l in lines where l.type == "a" && ["sendrecv", "sendonly", "recvonly", "inactive"].contains(l.value) { return l.value }
        return "sendrecv"
    }
}

public struct SDPSession: Sendable, Equatable {
    /// Session-level lines (v, o, s, c, b, t, a...) in order.
    public var lines: [SDPLine]
    public var media: [SDPMedia]

    public init(lines: [SDPLine], media: [SDPMedia]) { self.lines = lines; self.media = media }

    public init(parsing bytes: [UInt8]) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SDPError.badLine("invalid UTF-8") }
        var session: [SDPLine] = []
        var medias: [SDPMedia] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            // "\r\n" is one Character, so CRs left at a line's end are stray: all of them are
            // line-end noise (dropping only one made "x\r\r\n" lose a CR per re-serialization).
            var line = raw
            while line.hasSuffix("\r") { line = line.dropLast() }
            // A CR inside a line is no SDP text (RFC 4566 §9 byte-string) and would end the
            // line early once re-serialized ("a\r b" → "a\r" + CRLF).
            guard !line.contains("\r") else { throw SDPError.badLine("bare CR in " + String(line.prefix(40)).debugDescription) }
            if line.isEmpty { continue }
            guard line.count >= 2, let t = line.first, t.isASCII, t.isLetter, line.dropFirst().first == "=" else {
                throw SDPError.badLine(String(line.prefix(40)))
            }
            let value = String(line.dropFirst(2))
            if t == "m" {
                let f = value.split(separator: " ")
                guard f.count >= 4, let portText = f[1].split(separator: "/").first, let port = UInt16(portText) else {
                    throw SDPError.badMedia(value)
                }
                medias.append(SDPMedia(media: String(f[0]), port: port, proto: String(f[2]), formats: f[3...].map(String.init)))
            } else if medias.isEmpty {
                session.append(SDPLine(t, value))
            } else {
                medias[medias.count - 1].lines.append(SDPLine(t, value))
            }
        }
        guard session.first?.type == "v" else { throw SDPError.missing("v=") }
        guard session.contains(where: { $0.type == "o" }) else { throw SDPError.missing("o=") }
        lines = session
        media = medias
    }

    public func serialized() -> [UInt8] {
        var s = ""
        for l in lines { s += String(l.type) + "=" + l.value + "\r\n" }
        for m in media {
            s += "m=\(m.media) \(m.port) \(m.proto) \(m.formats.joined(separator: " "))\r\n"
            for l in m.lines { s += String(l.type) + "=" + l.value + "\r\n" }
        }
        return Array(s.utf8)
    }

    public var sessionConnectionAddress: String? { lines.first { $0.type == "c" }.flatMap { SDPSession.address(fromConnection: $0.value) } }

    /// The address media for `m` goes to: the media-level c= or else the session-level one.
    public func connectionAddress(for m: SDPMedia) -> String? { m.connectionAddress ?? sessionConnectionAddress }

    static func address(fromConnection v: String) -> String? {
        let f = v.split(separator: " ")
        guard f.count == 3, let a = f[2].split(separator: "/").first else { return nil }
        return String(a)
    }
}

/// Preconditions (RFC 3312) lines of one media section: current and desired status per side.
public struct SDPPreconditions: Sendable, Equatable {
    public var currentLocal: String?, currentRemote: String?
    public var desiredLocal: (strength: String, direction: String)?
    public var desiredRemote: (strength: String, direction: String)?

    public init(_ m: SDPMedia) {
        for v in m.attributes("curr") {
            let f = v.split(separator: " ")
            guard f.count == 3, f[0] == "qos" else { continue }
            if f[1] == "local" { currentLocal = String(f[2]) } else if f[1] == "remote" { currentRemote = String(f[2]) }
        }
        for v in m.attributes("des") {
            let f = v.split(separator: " ")
            guard f.count == 4, f[0] == "qos" else { continue }
            if f[2] == "local" { desiredLocal = (String(f[1]), String(f[3])) } else if f[2] == "remote" { desiredRemote = (String(f[1]), String(f[3])) }
        }
    }

    public var isPresent: Bool { currentLocal != nil || desiredLocal != nil }

    public static func == (a: SDPPreconditions, b: SDPPreconditions) -> Bool {
        a.currentLocal == b.currentLocal && a.currentRemote == b.currentRemote
            && a.desiredLocal?.strength == b.desiredLocal?.strength && a.desiredLocal?.direction == b.desiredLocal?.direction
            && a.desiredRemote?.strength == b.desiredRemote?.strength && a.desiredRemote?.direction == b.desiredRemote?.direction
    }
}

/// RFC 3264 answerer for one audio stream: picks the first offered codec we support and the
/// telephone-event at the same clock rate, and mirrors the offer's preconditions. The IMS
/// codecs (EVS, TS 26.445 Annex A; AMR-WB/AMR, RFC 4867) and G.711 are accepted: the echo
/// returns the caller's own packets, so it takes whichever of them the phone lists first.
public struct SDPAnswerer: Sendable {
    /// Codec names accepted, matched case-insensitively against rtpmap encodings.
    public var codecs: [String]
    public init(codecs: [String] = ["EVS", "AMR-WB", "AMR", "PCMU", "PCMA"]) { self.codecs = codecs }

    public struct Answer: Sendable, Equatable {
        public var sdp: SDPSession
        /// Where the peer wants RTP and RTCP.
        public var remoteAddress: String
        public var remoteRTPPort: UInt16
        public var remoteRTCPPort: UInt16
        public var payloadType: String
        public var encoding: String
    }

    /// Builds the answer. `localReady` says our side's QoS is in place (echo: always);
    /// `peerReady` is whether the peer reported its local QoS as met (in an UPDATE).
    public func answer(offer: SDPSession, localAddress: String, localPort: UInt16, sessionID: UInt64,
                       version: UInt64, peerReady: Bool? = nil) throws -> Answer {
        guard let idx = offer.media.firstIndex(where: { $0.media == "audio" && $0.port != 0 }) else {
            throw SDPError.missing("audio m= line")
        }
        let m = offer.media[idx]
        var chosen: (pt: String, enc: String, clock: Int)? = nil
        outer: for pt in m.formats {
            guard let map = m.rtpmap(pt) else { continue }
            for c in codecs where c.caseInsensitiveCompare(map.encoding) {
                chosen = (pt, map.encoding, map.clockRate)
                break outer
            }
        }
        guard let codec = chosen else { throw SDPError.badMedia("no supported codec offered") }
        guard let remote = offer.connectionAddress(for: m) else { throw SDPError.missing("c=") }
        let ipv = localAddress.contains(":") ? "IP6" : "IP4"
        var mediaLines: [SDPLine] = []
        var formats = [codec.pt]
        mediaLines.append(SDPLine("a", "rtpmap:\(codec.pt) \(m.rtpmap(codec.pt).map { "\($0.encoding)/\($0.clockRate)" + ($0.channels.map { "/\($0)" } ?? "") } ?? codec.enc)"))
        if let f = m.fmtp(codec.pt) { mediaLines.append(SDPLine("a", "fmtp:\(codec.pt) \(f)")) }
        if let te = m.formats.first(where: { pt in
            guard let r = m.rtpmap(pt) else { return false }
            return r.encoding.lowercased() == "telephone-event" && r.clockRate == codec.clock
        }) {
            formats.append(te)
            mediaLines.append(SDPLine("a", "rtpmap:\(te) telephone-event/\(codec.clock)"))
            if let f = m.fmtp(te) { mediaLines.append(SDPLine("a", "fmtp:\(te) \(f)")) }
        }
        for name in ["ptime", "maxptime"] { if let v = m.attributes(name).first { mediaLines.append(SDPLine("a", "\(name):\(v)")) } }
        let pre = SDPPreconditions(m)
        if pre.isPresent {
            // Our local = their remote. Our resources are ready; theirs as they report them.
            let theirs = (peerReady ?? (pre.currentLocal == "sendrecv")) ? "sendrecv" : (pre.currentLocal ?? "none")
            mediaLines.append(SDPLine("a", "curr:qos local sendrecv"))
            mediaLines.append(SDPLine("a", "curr:qos remote \(theirs)"))
            mediaLines.append(SDPLine("a", "des:qos mandatory local sendrecv"))
            mediaLines.append(SDPLine("a", "des:qos mandatory remote sendrecv"))
            if theirs != "sendrecv" { mediaLines.append(SDPLine("a", "conf:qos remote sendrecv")) }
        }
        let dir: String
        switch m.direction { case "sendonly": dir = "recvonly"; case "recvonly": dir = "sendonly"; case "inactive": dir = "inactive"; default: dir = "sendrecv" }
        mediaLines.append(SDPLine("a", dir))
        var medias: [SDPMedia] = []
        for (i, om) in offer.media.enumerated() {
            if i == idx {
                medias.append(SDPMedia(media: "audio", port: localPort, proto: m.proto, formats: formats,
                                       lines: mediaLines))
            } else {
                // Streams we do not take are rejected with port 0 (RFC 3264 §6).
                medias.append(SDPMedia(media: om.media, port: 0, proto: om.proto, formats: om.formats))
            }
        }
        let sdp = SDPSession(lines: [
            SDPLine("v", "0"),
            SDPLine("o", "- \(sessionID) \(version) IN \(ipv) \(localAddress)"),
            SDPLine("s", "-"),
            SDPLine("c", "IN \(ipv) \(localAddress)"),
            SDPLine("t", "0 0"),
        ], media: medias)
        return Answer(sdp: sdp, remoteAddress: remote, remoteRTPPort: m.port, remoteRTCPPort: m.rtcpPort,
                      payloadType: codec.pt, encoding: codec.enc)
    }
}

extension String {
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool { self.sipEqualsIgnoringCase(other) }
}
