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

/// The four transport-mode ESP SAs of one phone's Gm security association (TS 33.203 §7.1):
/// UE port_uc → P-CSCF port_ps uses spiPS and UE port_us → P-CSCF port_pc uses spiPC (inbound);
/// P-CSCF port_pc → UE port_us uses spiUS and P-CSCF port_ps → UE port_uc uses spiUC (outbound).
/// The runtime installs them (XFRM) on `IMSEvent.gmSecurityInstalled`; the core only negotiates them.
public struct IMSGmSecurity: Sendable, Equatable {
    public var ueAddress: String
    public var pcscfAddress: String
    public var portUC: UInt16, portUS: UInt16, spiUC: UInt32, spiUS: UInt32
    public var portPC: UInt16, portPS: UInt16, spiPC: UInt32, spiPS: UInt32
    /// `hmac-sha-1-96` or `hmac-md5-96`; `null` or `aes-cbc`.
    public var integrityAlgorithm: String
    public var encryptionAlgorithm: String
    /// IK_ESP / CK_ESP derived from the AKA IK/CK (TS 33.203 Annex I): IK for HMAC-MD5-96,
    /// IK || 32 zero bits for HMAC-SHA-1-96; CK for AES-CBC; empty for null.
    public var integrityKey: [UInt8]
    public var encryptionKey: [UInt8]
}

/// Things worth a log line or a remote-API event (users_update, dialog).
public enum IMSEvent: Sendable, Equatable {
    case registered(impi: String, contact: String, expires: UInt32)
    case deregistered(impi: String, contact: String)
    case authenticationFailed(impi: String, reason: String)
    case resynchronized(impi: String)
    case callStarted(callID: String, from: String, to: String, kind: String)
    case callEnded(callID: String, reason: String)
    /// Gm IPsec SAs negotiated for a phone (only with `IMSConfig.ipsec`): a runtime that supports
    /// Gm IPsec installs them on this event (before sending the 401 that follows), and removes
    /// them on `gmSecurityRemoved`.
    case gmSecurityInstalled(IMSGmSecurity)
    case gmSecurityRemoved(IMSGmSecurity)
    /// RFC 3261 §18.1.1: a request larger than `IMSConfig.largestUDPRequest` for a UDP peer
    /// is sent over TCP instead (Via transport TCP).
    case largeRequestOverTCP(peer: SIPPeer, method: String, bytes: Int)
    /// A large request stays on UDP for this peer (said once per peer): why TCP cannot be used.
    case largeRequestKeptOnUDP(peer: SIPPeer, bytes: Int, reason: String)
    /// A request could not be delivered over TCP, and what was done about it.
    case transportFailed(peer: SIPPeer, method: String, error: String, outcome: String)
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
    /// The IMS is sharded and the registration of `impi` changed on this shard: the shards
    /// listed hold reg-event subscriptions of it and must be given
    /// `IMSCore.registrationChanged(impi:now:)` so they NOTIFY their subscribers.
    case registrationChanged(impi: String, shards: [Int])

    case event(IMSEvent)
}

/// A dialog as `dialog_get` reports it.
public struct IMSDialogInfo: Sendable, Equatable {
    public enum Kind: String, Sendable { case echo, proxy, mt = "mt call" }
    /// init (offer answered, waiting PRACK/UPDATE), ringing (2xx sent, no ACK), start (confirmed).
    public enum State: String, Sendable { case `init`, ringing, start }
    public var callID: String
    public var kind: Kind
    public var state: State
    public var from: String
    public var to: String
    public var media: IMSMediaSession?
}

/// One registered contact of a subscriber.
public struct IMSBinding: Sendable, Equatable {
    public var contact: SIPAddress
    /// Where the REGISTER came from: requests for this contact are sent there.
    public var peer: SIPPeer
    public var expiresAt: Double
    public var callID: String
    public var cseq: UInt32
    /// Our `sip_addr` address the REGISTER came to, when the runtime said: the local end of the
    /// phone's flow (RFC 5626 §5.2). What we send to `peer` names it and leaves from it, as the
    /// phone, its NAT and its IPsec SAs expect.
    public var local: String? = nil
}

/// The registration state of one IMPI (what `users_get` reports).
public struct IMSRegistration: Sendable, Equatable {
    public var impi: String
    /// The registered public identities as URIs (the implicit registration set).
    public var impus: [String]
    public var bindings: [IMSBinding]
}
