/// The SDP (RFC 4566) a voice call needs: one audio stream with AMR-WB, AMR and
/// telephone-event (TS 26.114 §6.2), and the QoS precondition lines of RFC 3312.
/// Only what the simulated phone offers and reads back is modelled; other lines are ignored.
public struct SessionDescription: Sendable, Equatable {
    /// One `a=rtpmap` entry.
    public struct Codec: Sendable, Equatable {
        public var payloadType: UInt8
        public var name: String
        public var clockRate: UInt32
        public var fmtp: String?
        public init(payloadType: UInt8, name: String, clockRate: UInt32, fmtp: String? = nil) {
            self.payloadType = payloadType; self.name = name; self.clockRate = clockRate; self.fmtp = fmtp
        }
    }

    /// RFC 3312 status lines (`a=curr:qos local none`, `a=des:qos mandatory local sendrecv`), as written.
    public struct Precondition: Sendable, Equatable {
        public var kind: String          // "curr", "des" or "conf"
        public var strength: String?     // des only: mandatory, optional, none, failure, unknown
        public var side: String          // "local", "remote", "e2e"
        public var direction: String     // none, send, recv, sendrecv
        public init(kind: String, strength: String? = nil, side: String, direction: String) {
            self.kind = kind; self.strength = strength; self.side = side; self.direction = direction
        }
        var line: String {
            "a=\(kind):qos " + (strength.map { $0 + " " } ?? "") + side + " " + direction
        }
    }

    public var sessionID: UInt64
    public var version: UInt64
    /// Connection address (IPv4 or IPv6 literal) for the audio stream.
    public var address: String
    public var port: UInt16
    public var codecs: [Codec]
    public var preconditions: [Precondition]
    public var direction: String

    public init(sessionID: UInt64, version: UInt64, address: String, port: UInt16, codecs: [Codec],
                preconditions: [Precondition] = [], direction: String = "sendrecv") {
        self.sessionID = sessionID; self.version = version; self.address = address; self.port = port
        self.codecs = codecs; self.preconditions = preconditions; self.direction = direction
    }

    /// The codecs of a VoLTE/VoWiFi handset (TS 26.114 §5.2.1: AMR-WB and AMR mandatory,
    /// DTMF by RFC 4733 telephone-event at each clock rate).
    public static let defaultCodecs: [Codec] = [
        Codec(payloadType: 97, name: "AMR-WB", clockRate: 16000, fmtp: "mode-change-capability=2;max-red=0"),
        Codec(payloadType: 98, name: "AMR", clockRate: 8000, fmtp: "mode-change-capability=2;max-red=0"),
        Codec(payloadType: 100, name: "telephone-event", clockRate: 16000, fmtp: "0-15"),
        Codec(payloadType: 101, name: "telephone-event", clockRate: 8000, fmtp: "0-15"),
    ]

    /// The first speech codec (not telephone-event): what RTP is sent with.
    public var speechCodec: Codec? { codecs.first { $0.name.lowercased() != "telephone-event" } }

    /// RFC 3312 §5.1: have the peer's answer/offer asked us to confirm our local QoS?
    /// True when it lists our side ("remote" from its point of view) as not yet reserved.
    public var remoteAwaitsOurResources: Bool {
        preconditions.contains { $0.kind == "curr" && $0.side == "remote" && $0.direction == "none" }
    }

    public var hasPreconditions: Bool { !preconditions.isEmpty }

    // MARK: serialize

    public var text: String {
        let ipv = address.contains(":") ? "IP6" : "IP4"
        var s = "v=0\r\n"
        s += "o=- \(sessionID) \(version) IN \(ipv) \(address)\r\n"
        s += "s=-\r\n"
        s += "c=IN \(ipv) \(address)\r\n"
        s += "t=0 0\r\n"
        s += "m=audio \(port) RTP/AVP " + codecs.map { String($0.payloadType) }.joined(separator: " ") + "\r\n"
        s += "b=AS:41\r\n"
        for c in codecs {
            s += "a=rtpmap:\(c.payloadType) \(c.name)/\(c.clockRate)" + (c.name.hasPrefix("AMR") ? "/1" : "") + "\r\n"
            if let f = c.fmtp { s += "a=fmtp:\(c.payloadType) \(f)\r\n" }
        }
        s += "a=ptime:20\r\na=maxptime:240\r\n"
        for p in preconditions { s += p.line + "\r\n" }
        s += "a=\(direction)\r\n"
        return s
    }

    public var bytes: [UInt8] { Array(text.utf8) }

    // MARK: parse

    /// Reads the first audio stream. Throws when there is none or its port/connection is unusable.
    public init(parsing body: [UInt8]) throws {
        let text = String(decoding: body, as: UTF8.self)
        var sessionAddress: String?, mediaAddress: String?
        var port: UInt16?
        var formats: [UInt8] = []
        var maps: [UInt8: (String, UInt32)] = [:]
        var fmtps: [UInt8: String] = [:]
        var pre: [Precondition] = []
        var dir = "sendrecv"
        var sid: UInt64 = 0, ver: UInt64 = 0
        var inAudio = false, sawAudio = false
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            guard raw.count >= 2, let key = raw.first, raw[raw.index(after: raw.startIndex)] == "=" else { continue }
            let value = raw.dropFirst(2)
            let f = value.split(separator: " ", omittingEmptySubsequences: true)
            switch key {
            case "o":
                if f.count >= 3 { sid = UInt64(f[1]) ?? 0; ver = UInt64(f[2]) ?? 0 }
            case "c":
                guard f.count >= 3 else { throw SessionDescriptionError.badLine(String(raw)) }
                if inAudio { mediaAddress = String(f[2]) } else if !sawAudio { sessionAddress = String(f[2]) }
            case "m":
                if sawAudio { inAudio = false; continue }
                guard f.count >= 3, f[0] == "audio" else { inAudio = false; continue }
                guard let p = UInt16(f[1]) else { throw SessionDescriptionError.badLine(String(raw)) }
                port = p; inAudio = true; sawAudio = true
                formats = f.dropFirst(3).compactMap { UInt8($0) }
            case "a" where inAudio || !sawAudio:
                if value.hasPrefix("rtpmap:") {
                    let parts = value.dropFirst(7).split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let pt = UInt8(parts[0]) else { throw SessionDescriptionError.badLine(String(raw)) }
                    let enc = parts[1].split(separator: "/")
                    guard enc.count >= 2, let rate = UInt32(enc[1]) else { throw SessionDescriptionError.badLine(String(raw)) }
                    maps[pt] = (String(enc[0]), rate)
                } else if value.hasPrefix("fmtp:") {
                    let parts = value.dropFirst(5).split(separator: " ", maxSplits: 1)
                    if parts.count == 2, let pt = UInt8(parts[0]) { fmtps[pt] = String(parts[1]) }
                } else if value.hasPrefix("curr:qos ") || value.hasPrefix("des:qos ") || value.hasPrefix("conf:qos ") {
                    // RFC 3312 §5: curr and conf carry "side direction", des "strength side direction".
                    let kind = String(value.prefix { $0 != ":" })
                    let w = Array(f.dropFirst())   // after "curr:qos"
                    if kind != "des", w.count == 2 {
                        pre.append(Precondition(kind: kind, side: String(w[0]), direction: String(w[1])))
                    } else if kind == "des", w.count == 3 {
                        pre.append(Precondition(kind: kind, strength: String(w[0]), side: String(w[1]), direction: String(w[2])))
                    }   // anything else: not a precondition form we use; ignored
                } else if ["sendrecv", "sendonly", "recvonly", "inactive"].contains(String(value)) {
                    dir = String(value)
                }
            default: continue
            }
        }
        guard let port else { throw SessionDescriptionError.noAudio }
        guard let addr = mediaAddress ?? sessionAddress else { throw SessionDescriptionError.noConnectionAddress }
        sessionID = sid; version = ver
        address = addr; self.port = port
        codecs = formats.map { pt in
            let m = maps[pt]
            // Static payload types without rtpmap (RFC 3551): 0 PCMU, 8 PCMA.
            let name = m?.0 ?? (pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : "PT\(pt)")
            return Codec(payloadType: pt, name: name, clockRate: m?.1 ?? 8000, fmtp: fmtps[pt])
        }
        preconditions = pre
        direction = dir
    }
}

public enum SessionDescriptionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noAudio
    case noConnectionAddress
    case badLine(String)
    public var description: String {
        switch self {
        case .noAudio: "SDP has no m=audio line"
        case .noConnectionAddress: "SDP has no c= line for the audio stream"
        case .badLine(let l): "SDP line not understood: \(l)"
        }
    }
}
