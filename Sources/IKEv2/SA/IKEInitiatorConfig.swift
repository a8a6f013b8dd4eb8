import Crypto
import Wire

/// What the simulated phone asks for.
public struct IKEInitiatorConfig: Sendable {
    public var imsi: String
    public var mcc: String
    public var mnc: String
    /// EAP-AKA' (NAI prefix 6) instead of EAP-AKA (prefix 0).
    public var useAKAPrime: Bool
    /// IDr: the APN, sent as ID_FQDN.
    public var apn: String
    /// IKE proposals in order; the first one's group is used for the first KE.
    public var ikeSuites: [IKESuite]
    public var espSuites: [ESPSuite]
    public var requestIPv4: Bool
    public var requestIPv6: Bool
    public var requestPCSCF: Bool
    /// CP attribute types used to ask for P-CSCF addresses (20/21, or a private pair).
    public var pcscfIPv4AttributeType: UInt16
    public var pcscfIPv6AttributeType: UInt16
    /// Send N(EAP_ONLY_AUTHENTICATION) (RFC 5998), as Android and Samsung phones do.
    public var eapOnly: Bool
    public var accessNetworkName: String
    /// Local port to move to when a NAT is detected.
    public var natTraversalPort: UInt16
    public var retransmitTimeout: Double
    public var maxRetransmits: Int
    /// The phone's IMEI/IMEISV for N(DEVICE_IDENTITY) (TS 24.302 §8.2.9.2): sent in the first
    /// IKE_AUTH request when `deviceIdentityUnasked`, else only when the ePDG asks for it (in an
    /// IKE_AUTH response: in the next EAP request; in an INFORMATIONAL request: in its response),
    /// as Android does.
    public var deviceIdentity: DeviceIdentity? = nil
    public var deviceIdentityUnasked = true
    /// Always move to the NAT-T port and encapsulate ESP in UDP, as phones that force
    /// NAT-T do: the NAT_DETECTION_SOURCE_IP hash is made not to match (RFC 7296 §2.23
    /// lets a host pretend to be behind a NAT), so the responder encapsulates too.
    public var forceUDPEncapsulation = false
    /// CERTREQ for the first IKE_AUTH request (RFC 7296 §3.7; encoding 4 with CA key hashes,
    /// or empty for "any CA"). An ePDG that sends its CERT only when asked (strongSwan's default
    /// send_cert = ifasked) otherwise signs its AUTH without a CERT the phone could check it with.
    public var certificateRequest: CertPayload? = nil
    /// The PDN's username/password for a second authentication (RFC 4739, TS 33.402 §6.5):
    /// when both are set and the ePDG sent MULTIPLE_AUTH_SUPPORTED, the phone sends
    /// ANOTHER_AUTH_FOLLOWS and answers EAP-GTC (PAP) or EAP-MD5-Challenge (CHAP) in round 2.
    public var pdnUsername: String? = nil
    public var pdnPassword: String? = nil

    // Handset-profile knobs: raw wire forms that replace the ones built from the fields above.
    /// IKE_SA_INIT SA payload as a real phone sends it (several transforms per proposal); the
    /// first KE uses the first D-H transform of the first proposal.
    public var ikeSAOverride: SAPayload? = nil
    /// ESP proposals for IKE_AUTH; their SPI is replaced by ours.
    public var espProposalsOverride: [Proposal]? = nil
    /// CP(CFG_REQUEST) attribute types, in order (empty values).
    public var cpRequestAttributes: [UInt16]? = nil
    /// Notifies of the first IKE_AUTH request (default INITIAL_CONTACT, EAP_ONLY_AUTHENTICATION if `eapOnly`).
    public var authNotifies: [NotifyPayload]? = nil
    /// IDi type and text (default ID_RFC822_ADDR with the NAI; e.g. an emergency NAI).
    public var idiType: IDType = .ID_RFC822_ADDR
    public var identity: String? = nil
    /// IDr type and text (default ID_FQDN with the APN).
    public var idrType: IDType = .ID_FQDN
    public var idrValue: String? = nil

    public init(imsi: String, mcc: String, mnc: String, useAKAPrime: Bool = false, apn: String = "ims",
                ikeSuites: [IKESuite] = [IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .modp2048)],
                espSuites: [ESPSuite] = [ESPSuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA1_96)],
                requestIPv4: Bool = true, requestIPv6: Bool = false, requestPCSCF: Bool = true,
                pcscfIPv4AttributeType: UInt16 = CPPayload.Attribute.P_CSCF_IP4_ADDRESS,
                pcscfIPv6AttributeType: UInt16 = CPPayload.Attribute.P_CSCF_IP6_ADDRESS,
                eapOnly: Bool = true, accessNetworkName: String = "WLAN", natTraversalPort: UInt16 = 4500,
                retransmitTimeout: Double = 2, maxRetransmits: Int = 5) {
        self.imsi = imsi; self.mcc = mcc; self.mnc = mnc; self.useAKAPrime = useAKAPrime; self.apn = apn
        self.ikeSuites = ikeSuites; self.espSuites = espSuites
        self.requestIPv4 = requestIPv4; self.requestIPv6 = requestIPv6; self.requestPCSCF = requestPCSCF
        self.pcscfIPv4AttributeType = pcscfIPv4AttributeType; self.pcscfIPv6AttributeType = pcscfIPv6AttributeType
        self.eapOnly = eapOnly; self.accessNetworkName = accessNetworkName; self.natTraversalPort = natTraversalPort
        self.retransmitTimeout = retransmitTimeout; self.maxRetransmits = maxRetransmits
    }

    public var nai: NAI { NAI(method: useAKAPrime ? .akaPrime : .aka, imsi: imsi, mcc: mcc, mnc: mnc) }
}

/// What the network gave the phone in CFG_REPLY.
public struct AssignedConfiguration: Sendable, Equatable {
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    public var ipv6PrefixLength: UInt8?
    public var dns: [IPAddress] = []
    public var pcscf: [IPAddress] = []
}
