/// A dialog (RFC 3261 §12) as a user agent keeps it: Call-ID, tags, CSeq counters, route set
/// and remote target, from which in-dialog requests (ACK, PRACK, UPDATE, BYE...) are built.
/// Used by UAs such as the UE simulator; sans-I/O like the rest of the layer.
public struct SIPDialog: Sendable, Equatable {
    public var callID: String
    public var localTag: String
    public var remoteTag: String
    /// The local and remote URIs (From/To of the dialog-creating request as seen locally).
    public var localURI: String
    public var remoteURI: String
    /// Where in-dialog requests go: the peer's Contact (§12.1.1, §12.1.2).
    public var remoteTarget: SIPAnyURI
    /// Record-Route URIs in the order requests must visit them.
    public var routeSet: [String]
    public var localSequence: UInt32
    public var remoteSequence: UInt32?

    /// The dialog a UAC gets from a 1xx (with To tag) or 2xx to its INVITE/SUBSCRIBE (§12.1.2):
    /// route set = Record-Route of the response, reversed.
    public init(uac request: SIPMessage, response: SIPMessage) throws {
        let to = try response.to()
        guard let rtag = to.tag, !rtag.isEmpty else { throw SIPParseError.badHeaderValue(header: "To", reason: "no tag: no dialog") }
        let from = try request.from()
        guard let ltag = from.tag else { throw SIPParseError.badHeaderValue(header: "From", reason: "no tag") }
        guard let target = try response.contacts().first?.uri else { throw SIPParseError.missingHeader("Contact") }
        callID = try request.callID()
        localTag = ltag
        remoteTag = rtag
        localURI = from.uri.description
        remoteURI = to.uri.description
        remoteTarget = target
        routeSet = try response.addresses("Record-Route").reversed().map { "<" + $0.uri.description + ">" }
        localSequence = try request.cseq().sequence
        remoteSequence = nil
    }

    /// The dialog a UAS creates when it answers `request` with `localTag` (§12.1.1):
    /// route set = Record-Route of the request, in order.
    public init(uas request: SIPMessage, localTag: String) throws {
        let from = try request.from()
        guard let rtag = from.tag else { throw SIPParseError.badHeaderValue(header: "From", reason: "no tag") }
        guard let target = try request.contacts().first?.uri else { throw SIPParseError.missingHeader("Contact") }
        callID = try request.callID()
        self.localTag = localTag
        remoteTag = rtag
        localURI = try request.to().uri.description
        remoteURI = from.uri.description
        remoteTarget = target
        routeSet = try request.addresses("Record-Route").map { "<" + $0.uri.description + ">" }
        localSequence = 0
        remoteSequence = try request.cseq().sequence
    }

    /// True when `m` belongs to this dialog (Call-ID and both tags, §12.2).
    public func matches(_ m: SIPMessage) -> Bool {
        guard let cid = try? m.callID(), cid == callID, let f = try? m.from(), let t = try? m.to() else { return false }
        if m.isRequest { return f.tag == remoteTag && t.tag == localTag }
        return f.tag == localTag && t.tag == remoteTag
    }

    /// Builds an in-dialog request (§12.2.1.1). `sequence` is for ACK/CANCEL, which reuse the
    /// INVITE's number; other methods take the next local CSeq. The caller adds Contact and body.
    public mutating func request(_ method: String, via: SIPVia, sequence: UInt32? = nil, maxForwards: Int = 70) -> SIPMessage {
        let cseq: UInt32
        if let s = sequence { cseq = s } else { localSequence += 1; cseq = localSequence }
        var m = SIPMessage.request(method, uri: remoteTarget)
        m.addHeader("Via", via.description)
        m.addHeader("Max-Forwards", String(maxForwards))
        for r in routeSet { m.addHeader("Route", r) }
        m.addHeader("From", "<" + localURI + ">;tag=" + localTag)
        m.addHeader("To", "<" + remoteURI + ">;tag=" + remoteTag)
        m.addHeader("Call-ID", callID)
        m.addHeader("CSeq", String(cseq) + " " + method)
        return m
    }

    /// Checks and records the CSeq of a request from the peer: lower numbers are out of order
    /// (the UAS answers 500, §12.2.2). ACK and CANCEL are not counted.
    public mutating func acceptRemote(_ m: SIPMessage) -> Bool {
        guard let cs = try? m.cseq() else { return false }
        if cs.method == "ACK" || cs.method == "CANCEL" { return true }
        if let r = remoteSequence, cs.sequence <= r { return false }
        remoteSequence = cs.sequence
        return true
    }
}

/// Identifiers a UA generates: Call-ID, tags and RFC 3261 branches. A counter mixed with a
/// per-instance prefix keeps them unique without a random source in the core.
public struct SIPIdentifiers: Sendable {
    public let prefix: String
    private var counter: UInt64 = 0
    public init(prefix: String) { self.prefix = prefix }
    public mutating func next() -> String { counter += 1; return prefix + String(counter, radix: 36) }
    /// A branch with the RFC 3261 magic cookie.
    public mutating func branch() -> String { "z9hG4bK" + next() }
}
