import SIP

/// A media port the runtime must open for an echo call: bind `localAddress`:`localRTPPort`
/// (and RTCP on `localRTCPPort`) and run an `RTPEcho` on every datagram received there.
public struct IMSMediaSession: Sendable, Equatable {
    /// The Call-ID of the dialog; `closeMedia` names it again.
    public var id: String
    public var localAddress: String
    public var localRTPPort: UInt16
    public var localRTCPPort: UInt16
    /// Where the phone said it receives media (SDP c= and m=, a=rtcp).
    public var remoteAddress: String
    public var remoteRTPPort: UInt16
    public var remoteRTCPPort: UInt16
    public var payloadType: String
    public var encoding: String
}

/// Things worth a log line or a remote-API event (users_update, dialog).
public enum IMSEvent: Sendable, Equatable {
    case registered(impi: String, contact: String, expires: UInt32)
    case deregistered(impi: String, contact: String)
    case authenticationFailed(impi: String, reason: String)
    case resynchronized(impi: String)
    case callStarted(callID: String, from: String, to: String, kind: String)
    case callEnded(callID: String, reason: String)
    /// A datagram or stream message that could not be parsed: dropped.
    case parseError(peer: SIPPeer, error: String)
}

/// What the IMS core asks the runtime to do.
public enum IMSAction: Sendable, Equatable {
    /// Transmit SIP bytes to a peer (UDP datagram, or onto the TCP connection to that peer,
    /// opening one if needed).
    case send([UInt8], to: SIPPeer)
    case openMedia(IMSMediaSession)
    case closeMedia(id: String)
    /// Close a TCP connection whose stream cannot be framed.
    case closeConnection(SIPPeer)
    case event(IMSEvent)
}

/// One registered contact of a subscriber.
public struct IMSBinding: Sendable, Equatable {
    public var contact: SIPAddress
    /// Where the REGISTER came from: requests for this contact are sent there.
    public var peer: SIPPeer
    public var expiresAt: Double
    public var callID: String
    public var cseq: UInt32
}

/// The registration state of one IMPI (what `users_get` reports).
public struct IMSRegistration: Sendable, Equatable {
    public var impi: String
    /// The registered public identities as URIs (the implicit registration set).
    public var impus: [String]
    public var bindings: [IMSBinding]
}
