import SIP

/// Who the simulated IMS client is and where it talks (TS 24.229 §5.1.1, TS 23.003 §13).
public struct SIPUAConfig: Sendable {
    /// Private user identity, `<IMSI>@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org` (TS 23.003 §13.3).
    public var impi: String
    /// Public user identity used in From/To of REGISTER (TS 23.003 §13.4B temporary IMPU form).
    public var impu: String
    /// Home network domain: the REGISTER Request-URI and the initial `realm` (TS 24.229 §5.1.1.2.1).
    public var homeDomain: String
    /// The UE's inner address (from CFG_REPLY) and SIP port.
    public var localAddress: String
    public var localPort: UInt16
    /// The P-CSCF (CFG_REPLY P-CSCF address), the outbound proxy for everything.
    public var pcscf: SIPPeer
    /// Password for plain MD5 digest challenges; AKA challenges use the USIM.
    public var password: String?
    public var registerExpires: UInt32
    public var subscribeExpires: UInt32
    /// Offer RFC 3312 QoS preconditions (and `Supported: precondition`).
    public var preconditions: Bool
    /// `+sip.instance` (RFC 5626) such as `<urn:gsma:imei:35209900-176148-0>`, or nil.
    public var instanceID: String?
    public var userAgent: String
    /// Local RTP port put in SDP offers and answers.
    public var rtpPort: UInt16
    public var codecs: [SessionDescription.Codec]
    public var timers: SIPTimerValues
    /// Seeds tags, branches and Call-IDs (fixed in tests, random in the Phone).
    public var idSeed: UInt64
    /// Answer incoming INVITEs with 180 then 200 (phone-to-phone calls).
    public var autoAnswer: Bool
    /// RFC 4028 session interval offered in our INVITEs (and used when answering one that has
    /// none); nil = no Session-Expires of our own (we still answer refreshes).
    public var sessionExpires: UInt32? = 1800
    /// Our Min-SE (RFC 4028 §5): smaller intervals asked of us are raised to it.
    public var minSE: UInt32 = 90

    public init(impi: String, impu: String, homeDomain: String, localAddress: String, localPort: UInt16 = 5060,
                pcscf: SIPPeer, password: String? = nil, registerExpires: UInt32 = 600_000, subscribeExpires: UInt32 = 600_000,
                preconditions: Bool = true, instanceID: String? = nil, userAgent: String = "VoWiFiCore-UESim/1.0",
                rtpPort: UInt16 = 50_000, codecs: [SessionDescription.Codec] = SessionDescription.defaultCodecs,
                timers: SIPTimerValues = SIPTimerValues(), idSeed: UInt64 = 1, autoAnswer: Bool = true) {
        self.impi = impi; self.impu = impu; self.homeDomain = homeDomain
        self.localAddress = localAddress; self.localPort = localPort; self.pcscf = pcscf; self.password = password
        self.registerExpires = registerExpires; self.subscribeExpires = subscribeExpires
        self.preconditions = preconditions; self.instanceID = instanceID; self.userAgent = userAgent
        self.rtpPort = rtpPort; self.codecs = codecs; self.timers = timers; self.idSeed = idSeed; self.autoAnswer = autoAnswer
    }

    /// IMS identities derived from the IMSI (TS 23.003 §13.3, §13.4B): the home domain is
    /// `ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org` with a 2-digit MNC padded to 3.
    public static func derived(imsi: String, mcc: String, mnc: String, localAddress: String, pcscf: SIPPeer) -> SIPUAConfig {
        let domain = homeDomain(mcc: mcc, mnc: mnc)
        return SIPUAConfig(impi: "\(imsi)@\(domain)", impu: "sip:\(imsi)@\(domain)", homeDomain: domain,
                           localAddress: localAddress, pcscf: pcscf)
    }

    public static func homeDomain(mcc: String, mnc: String) -> String {
        "ims.mnc\(mnc.count == 2 ? "0" + mnc : mnc).mcc\(mcc).3gppnetwork.org"
    }

    /// The user part of the IMPI, used in the Contact.
    var contactUser: String { String(impi.prefix { $0 != "@" }) }

    /// `host:port` for Via and Contact, IPv6 in brackets.
    var hostPort: String {
        (localAddress.contains(":") ? "[" + localAddress + "]" : localAddress) + ":" + String(localPort)
    }
}

/// What the user agent reports to its owner (the Phone, or a test).
public enum SIPUAEvent: Sendable, Equatable {
    /// A 401/407 arrived; `algorithm` as in the challenge (e.g. "AKAv1-MD5").
    case challenged(algorithm: String)
    /// The USIM found SQN out of range: REGISTER re-sent with `auts=`.
    case akaSyncFailure
    /// The USIM found MAC-A wrong: the network is not authentic, registration abandoned.
    case akaMACFailure
    case registered(expires: UInt32, serviceRoute: [String], associatedURIs: [String])
    case registrationFailed(status: Int, reason: String)
    case deregistered
    case subscribed(expires: UInt32)
    case subscriptionFailed(status: Int, reason: String)
    /// A reg-event NOTIFY (RFC 3680): Subscription-State and the `<registration state=...>` found.
    case notified(subscriptionState: String, registrationState: String?)
    /// 180/183 for our INVITE.
    case callProgress(status: Int)
    /// PRACK sent for a reliable provisional response (RFC 3262).
    case prackSent(rseq: UInt32)
    /// UPDATE sent to confirm local QoS (RFC 3311, RFC 3312).
    case updateSent
    case callEstablished(RemoteMedia)
    case callFailed(status: Int, reason: String)
    case callEnded(byRemote: Bool)
    case incomingCall(from: String)
    /// A request got no final response within 64*T1 (RFC 3261 §17).
    case timedOut(method: String)
    /// A session refresh succeeded (RFC 4028): ours (`byUs`) or the network's.
    case sessionRefreshed(interval: UInt32, byUs: Bool)
    /// No refresh came within the session interval (RFC 4028 §10): BYE sent.
    case sessionExpired(interval: UInt32)
}

/// Where to send RTP and with which payload type, from the peer's SDP.
public struct RemoteMedia: Sendable, Equatable {
    public var address: String
    public var port: UInt16
    public var payloadType: UInt8
    public var codec: String
    public var clockRate: UInt32
    public init(address: String, port: UInt16, payloadType: UInt8, codec: String, clockRate: UInt32) {
        self.address = address; self.port = port; self.payloadType = payloadType; self.codec = codec; self.clockRate = clockRate
    }
    init?(_ sdp: SessionDescription) {
        guard let c = sdp.speechCodec else { return nil }
        self.init(address: sdp.address, port: sdp.port, payloadType: c.payloadType, codec: c.name, clockRate: c.clockRate)
    }
}

/// What the user agent asks its owner to do.
public enum SIPUAOutput: Sendable, Equatable {
    /// Send over UDP from (localAddress, localPort) to the peer; `message.serialized()` gives the bytes.
    case send(SIPMessage, to: SIPPeer)
    case event(SIPUAEvent)
}
