/// Policy of the EAP-AKA/AKA' server.
public struct EAPAKAServerConfig: Sendable, Equatable {
    /// Methods offered; a peer asking (by identity prefix or Nak) for another is refused.
    public var methods: Set<EAPAKAMethod>
    /// Used when the identity does not say (pseudonym, anonymous, plain name).
    public var defaultMethod: EAPAKAMethod
    /// AT_KDF_INPUT of EAP-AKA' and the P0 of CK'/IK' (TS 24.302 §8.1.1.1: "WLAN" for
    /// untrusted Wi-Fi; a trusted WLAN AN uses its SSID-derived name).
    public var accessNetworkName: String
    /// AUTS re-synchronisations accepted in one session before giving up.
    public var maxResynchronizations: Int
    /// AKA-Identity rounds before giving up (RFC 4187 §4.1.6 allows up to three).
    public var maxIdentityRounds: Int
    /// When set, a permanent identity whose realm names another MCC/MNC is refused.
    public var homeMCC: String?
    public var homeMNC: String?

    public init(methods: Set<EAPAKAMethod> = [.aka, .akaPrime], defaultMethod: EAPAKAMethod = .aka,
                accessNetworkName: String = "WLAN", maxResynchronizations: Int = 2, maxIdentityRounds: Int = 3,
                homeMCC: String? = nil, homeMNC: String? = nil) {
        self.methods = methods; self.defaultMethod = defaultMethod; self.accessNetworkName = accessNetworkName
        self.maxResynchronizations = maxResynchronizations; self.maxIdentityRounds = maxIdentityRounds
        self.homeMCC = homeMCC; self.homeMNC = homeMNC.map { $0.count == 2 ? "0" + $0 : $0 }
    }
}

/// What an EAP-AKA authentication established, for the AAA to hand to the access point.
public struct EAPAKAResult: Sendable, Equatable {
    public let method: EAPAKAMethod
    /// The identity whose octets entered MK.
    public let identity: String
    public let imsi: String
    /// Master Session Key (64 bytes, RFC 3748 §7.10): the AP's PMK is its first 32.
    public let msk: [UInt8]
    public let emsk: [UInt8]
}

/// One step of the server: what to send to the peer, or why nothing is sent.
public enum EAPServerStep: Sendable, Equatable {
    /// An EAP-Request to send; the session waits for the matching Response.
    case request([UInt8])
    /// EAP-Success (the packet) and the keys.
    case success([UInt8], EAPAKAResult)
    /// EAP-Failure (the packet) and why, for the log.
    case failure([UInt8], reason: String)
    /// The input was silently discarded (RFC 3748 §4.1: wrong identifier, malformed);
    /// the session still waits for a valid Response.
    case discard(reason: String)

    public var isFinal: Bool {
        switch self { case .success, .failure: true; case .request, .discard: false }
    }
}
