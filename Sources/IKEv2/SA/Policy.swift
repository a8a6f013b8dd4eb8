import Crypto
import Wire

/// What the ePDG offers to one APN (IDr): DNS and P-CSCF addresses for CFG_REPLY.
public struct APNPolicy: Sendable, Equatable {
    public var name: String
    public var dnsServers: [IPAddress]
    public var pcscfAddresses: [IPAddress]
    /// The PDN's `username`/`password`, checked in the second authentication (RFC 4739) when
    /// `IKEResponderPolicy.additionalAuth` is set; nil (e.g. the emergency PDN) skips that round.
    public var credentials: PDNCredentials?
    public init(name: String, dnsServers: [IPAddress] = [], pcscfAddresses: [IPAddress] = [], credentials: PDNCredentials? = nil) {
        self.name = name; self.dnsServers = dnsServers; self.pcscfAddresses = pcscfAddresses; self.credentials = credentials
    }
}

/// The ePDG's IKEv2 settings, filled by the host from the Config layer (the callbox `epdg`
/// object). Algorithm lists are most-preferred first.
public struct IKEResponderPolicy: Sendable {
    public var ikeEncryption: [EncryptionAlgorithm]
    public var ikeIntegrity: [IntegrityAlgorithm]
    public var ikePRF: [PseudoRandomFunction]
    public var ikeDHGroups: [DHGroup]
    public var espEncryption: [EncryptionAlgorithm]
    /// nil stands for "null" (no integrity transform), acceptable with AEAD or NULL-less setups.
    public var espIntegrity: [IntegrityAlgorithm?]
    /// Seconds.
    public var ikeLifetime: Int
    public var espLifetime: Int
    public var dpdInterval: Int
    /// Do not put AUTH in the first IKE_AUTH response (callbox `omit_auth_in_first_auth_rsp`).
    public var omitAuthInFirstAuthResponse: Bool
    /// Private CP attribute types to use for P-CSCF addresses instead of 20/21 (16384–32767).
    public var pcscfIPv4AttributeType: UInt16?
    public var pcscfIPv6AttributeType: UInt16?
    /// Known APNs by IDr; an IDr not listed gets NO_APN_SUBSCRIPTION unless `defaultAPN` is set.
    public var apns: [APNPolicy]
    public var defaultAPN: String?
    /// EAP-AKA' network name (AT_KDF_INPUT), TS 24.302 "WLAN".
    public var accessNetworkName: String
    /// Announce and accept RFC 7383 fragments.
    public var fragmentation: Bool
    /// Half-open SAs (IKE_SA_INIT done, IKE_AUTH not finished) are dropped after this many seconds.
    public var halfOpenTimeout: Double
    /// MOBIKE (RFC 4555): answer MOBIKE_SUPPORTED and follow UPDATE_SA_ADDRESSES (callbox `mobike`).
    public var mobike: Bool = true
    /// With this many half-open SAs or more, IKE_SA_INIT must carry a COOKIE (RFC 7296 §2.6); nil = never.
    public var cookieThreshold: Int? = nil
    /// Accept initiators that authenticate with a certificate signature (AUTH 1/9–11/14)
    /// instead of EAP-AKA; nil (the default) accepts EAP-AKA/AKA' only.
    public var peerCertificates: PeerCertificatePolicy? = nil
    /// Second authentication of the UE toward the PDN (callbox `additional_ue_auth_type`,
    /// TS 33.402 §6.5.2/§6.5.3): announce MULTIPLE_AUTH_SUPPORTED and, after the first round,
    /// run EAP-GTC (PAP) or EAP-MD5-Challenge (CHAP) against the APN's credentials. nil = none.
    public var additionalAuth: AdditionalAuthMethod? = nil
    /// Ask a phone that did not send its IMEI for it: N(DEVICE_IDENTITY) with an empty IMEI in
    /// the first IKE_AUTH response of an EAP attach (TS 24.302 §8.2.9.2). Android sends its
    /// identity only when asked; without this, `ue_get` and the logs never learn it.
    public var requestDeviceIdentity = true

    public init(ikeEncryption: [EncryptionAlgorithm] = [.ENCR_AES_CBC(keyBits: 128), .ENCR_AES_CBC(keyBits: 192), .ENCR_AES_CBC(keyBits: 256),
                                                        .ENCR_AES_GCM_16(keyBits: 128), .ENCR_AES_GCM_16(keyBits: 256),
                                                        .ENCR_AES_CTR(keyBits: 128), .ENCR_AES_CTR(keyBits: 192), .ENCR_AES_CTR(keyBits: 256)],
                ikeIntegrity: [IntegrityAlgorithm] = [.AUTH_HMAC_SHA1_96, .AUTH_HMAC_SHA1_160, .AUTH_HMAC_SHA2_256_128, .AUTH_HMAC_SHA2_384_192,
                                                      .AUTH_HMAC_SHA2_512_256, .AUTH_HMAC_MD5_96, .AUTH_HMAC_MD5_128, .AUTH_AES_CMAC_96],
                ikePRF: [PseudoRandomFunction] = [.PRF_HMAC_SHA1, .PRF_HMAC_SHA2_256, .PRF_HMAC_SHA2_384, .PRF_HMAC_SHA2_512, .PRF_HMAC_MD5, .PRF_AES128_XCBC],
                ikeDHGroups: [DHGroup] = [.modp1536, .modp2048, .modp3072, .modp4096, .modp6144, .modp8192, .ecp256, .modp1024s160, .modp2048s224, .modp2048s256],
                espEncryption: [EncryptionAlgorithm] = [.ENCR_NULL, .ENCR_AES_CBC(keyBits: 128), .ENCR_AES_CBC(keyBits: 192), .ENCR_AES_CBC(keyBits: 256),
                                                        .ENCR_AES_GCM_16(keyBits: 128), .ENCR_AES_GCM_16(keyBits: 192), .ENCR_AES_GCM_16(keyBits: 256),
                                                        .ENCR_AES_CTR(keyBits: 128), .ENCR_AES_CTR(keyBits: 192), .ENCR_AES_CTR(keyBits: 256)],
                espIntegrity: [IntegrityAlgorithm?] = [nil, .AUTH_HMAC_SHA1_96, .AUTH_HMAC_SHA1_160, .AUTH_HMAC_SHA2_256_128, .AUTH_HMAC_SHA2_384_192,
                                                       .AUTH_HMAC_SHA2_512_256, .AUTH_HMAC_MD5_96, .AUTH_HMAC_MD5_128, .AUTH_AES_CMAC_96],
                ikeLifetime: Int = 24 * 3600, espLifetime: Int = 300, dpdInterval: Int = 300,
                omitAuthInFirstAuthResponse: Bool = false, pcscfIPv4AttributeType: UInt16? = nil, pcscfIPv6AttributeType: UInt16? = nil,
                apns: [APNPolicy] = [], defaultAPN: String? = nil, accessNetworkName: String = "WLAN",
                fragmentation: Bool = true, halfOpenTimeout: Double = 30) {
        self.ikeEncryption = ikeEncryption; self.ikeIntegrity = ikeIntegrity; self.ikePRF = ikePRF; self.ikeDHGroups = ikeDHGroups
        self.espEncryption = espEncryption; self.espIntegrity = espIntegrity
        self.ikeLifetime = ikeLifetime; self.espLifetime = espLifetime; self.dpdInterval = dpdInterval
        self.omitAuthInFirstAuthResponse = omitAuthInFirstAuthResponse
        self.pcscfIPv4AttributeType = pcscfIPv4AttributeType; self.pcscfIPv6AttributeType = pcscfIPv6AttributeType
        self.apns = apns; self.defaultAPN = defaultAPN; self.accessNetworkName = accessNetworkName
        self.fragmentation = fragmentation; self.halfOpenTimeout = halfOpenTimeout
    }

    func apn(for idr: String) -> APNPolicy? {
        let ni = Self.networkIdentifier(idr).lowercased()
        if let a = apns.first(where: { $0.name.lowercased() == ni }) { return a }
        if let d = defaultAPN { return apns.first(where: { $0.name == d }) ?? APNPolicy(name: d) }
        return nil
    }

    /// The APN Network Identifier of an APN that may carry the Operator Identifier
    /// ("ims.mnc001.mcc001.gprs", TS 23.003 §9.1); the NI selects the PDN.
    static func networkIdentifier(_ apn: String) -> String {
        let labels = apn.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 4, labels[labels.count - 1].lowercased() == "gprs",
              labels[labels.count - 3].lowercased().hasPrefix("mnc"), labels[labels.count - 2].lowercased().hasPrefix("mcc") else { return apn }
        return labels.dropLast(3).joined(separator: ".")
    }
}
