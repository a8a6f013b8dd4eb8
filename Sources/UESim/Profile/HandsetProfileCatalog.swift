import IKEv2

/// The built-in handset profiles. Each cites where its values were seen; values not found in
/// a public source are the brief's stated behaviour and say so.
extension HandsetProfile {
    typealias E = EncrID
    typealias I = IntegID
    typealias P = PRFID
    typealias G = DHGroupID

    /// Android IWLAN (AOSP IKE library): MODP only, AES-CBC with HMAC, EAP-only, always UDP-encapsulated.
    /// Source: kyujin-cho/pixel-volte-patch#315 (Pixel 7, Android 14 IKE_SA_INIT: AES-CBC, HMAC-SHA1-96/SHA2,
    /// DH MODP-1024/1536/2048 only, PRF SHA1/SHA2; "Faking NAT situation to enforce UDP encapsulation");
    /// CarrierConfigManager.Iwlan (DH 2/14, AUTHENTICATION_METHOD_EAP_ONLY).
    public static let android = HandsetProfile(
        name: "android",
        source: "pixel-volte-patch#315 (Pixel 7/Android 14 proposals); developer.android.com CarrierConfigManager.Iwlan",
        ikeProposals: [IKEProposal(encryption: [.aesCBC(128), .aesCBC(256)], integrity: [I.AUTH_HMAC_SHA1_96, I.AUTH_HMAC_SHA2_256_128],
                                   prf: [P.PRF_HMAC_SHA1, P.PRF_HMAC_SHA2_256], dh: [G.MODP_2048, G.MODP_1024])],
        espProposals: [ESPProposal(encryption: [.aesCBC(128), .aesCBC(256)], integrity: [I.AUTH_HMAC_SHA1_96, I.AUTH_HMAC_SHA2_256_128])], forceUDPEncapsulation: true)

    /// iOS: ECP-256 and MODP-2048, AES-GCM-16 preferred, AES-CBC-256/SHA2-256 fallback; ESP AES-GCM.
    /// Source: strongswan/strongswan#2861 (iOS native client: AES_GCM_16_256/PRF_SHA256/ECP_256|MODP_2048,
    /// AES_CBC_256/HMAC_SHA2_256_128/PRF_SHA256/ECP_256|MODP_2048). EAP_ONLY not documented: not sent.
    public static let iphone = HandsetProfile(
        name: "iphone",
        source: "strongswan#2861 (iOS native IKEv2 proposals, indicative for the iPhone ePDG client)",
        ikeProposals: [IKEProposal(encryption: [.aesGCM16(256)], prf: [P.PRF_HMAC_SHA2_256], dh: [G.ECP_256, G.MODP_2048]),
                       IKEProposal(encryption: [.aesCBC(256)], integrity: [I.AUTH_HMAC_SHA2_256_128], prf: [P.PRF_HMAC_SHA2_256],
                                   dh: [G.ECP_256, G.MODP_2048])],
        espProposals: [ESPProposal(encryption: [.aesGCM16(256), .aesGCM16(128)]),
                       ESPProposal(encryption: [.aesCBC(256)], integrity: [I.AUTH_HMAC_SHA2_256_128])],
        authNotifies: [.INITIAL_CONTACT])

    /// Samsung: N(EAP_ONLY_AUTHENTICATION) and P-CSCF by the legacy private CP types 16389/16390.
    /// Source: herlesupreeth/docker_open5gs#665 (strongSwan "unknown attribute type (16389)"); carstenbock/epdg README.
    public static let samsung = HandsetProfile(
        name: "samsung",
        source: "docker_open5gs#665 (Galaxy S25/XCover 5: CP types 16389/16390); carstenbock/epdg README (EAP_ONLY)",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals,
        cpAttributes: [A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_DNS, A.INTERNAL_IP6_ADDRESS, A.INTERNAL_IP6_DNS, 16389, 16390], forceUDPEncapsulation: true)

    /// Qualcomm-based phones (Xiaomi IWLAN config): P-CSCF by private types 16384 (v4) / 16386 (v6), DH 14 first.
    /// Source: gist HandyMenny/456766eb4e4f04d3138fa480a2ce49c0 (Qualcomm/Xiaomi IWLAN config dump).
    public static let qualcomm = HandsetProfile(
        name: "qualcomm",
        source: "gist HandyMenny/456766eb (Qualcomm/Xiaomi IWLAN: P-CSCF attrs 16384/16386, DH 14,15,16,17,18,5,2)",
        ikeProposals: [IKEProposal(encryption: [.aesCBC(128), .aesCBC(256)], integrity: [I.AUTH_HMAC_SHA1_96, I.AUTH_HMAC_SHA2_256_128],
                                   prf: [P.PRF_HMAC_SHA1, P.PRF_HMAC_SHA2_256], dh: [G.MODP_2048, G.MODP_3072, G.MODP_1536, G.MODP_1024])],
        espProposals: android.espProposals,
        cpAttributes: [A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_DNS, A.INTERNAL_IP6_ADDRESS, A.INTERNAL_IP6_DNS, 16384, 16386], forceUDPEncapsulation: true)

    /// MediaTek: gives up when the first IKE_AUTH response already carries AUTH.
    /// Source: Amarisoft LTEMME documentation, `omit_auth_in_first_auth_rsp` (peers-survey §9); proposals as Android.
    public static let mediatek = HandsetProfile(
        name: "mediatek",
        source: "Amarisoft LTEMME doc §5.2.21 omit_auth_in_first_auth_rsp (phones that expect no AUTH in the first IKE_AUTH response)",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals, rejectsAuthInFirstAuthResponse: true, forceUDPEncapsulation: true)

    /// Sends N(DEVICE_IDENTITY) with its IMEI/IMEISV and N(INITIAL_CONTACT) (TS 24.302 §7.2.2, §8.2.9.2).
    /// Source: pixel-volte-patch#315 ("3GPP extension (device identity)"); AOSP Ike3gppDeviceIdentityUtils.
    public static let deviceIdentity = HandsetProfile(
        name: "device-identity",
        source: "pixel-volte-patch#315 (Android 3GPP device identity extension); TS 24.302 §8.2.9.2",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals,
        authNotifies: [.INITIAL_CONTACT, .EAP_ONLY_AUTHENTICATION, .DEVICE_IDENTITY], forceUDPEncapsulation: true)

    /// IDi as ID_KEY_ID (some operators' ePDGs require it).
    /// Source: pixel-volte-patch#219; CarrierConfigManager.Iwlan ID_TYPE_KEY_ID.
    public static let keyID = HandsetProfile(
        name: "keyid", source: "pixel-volte-patch#219 (ePDGs needing ID_KEY_ID); CarrierConfigManager.Iwlan",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals, identityForm: .keyID, forceUDPEncapsulation: true)

    /// A SIM whose IMSI carries a 3-digit MNC (e.g. 310-410): realms `mnc410.mcc310` (TS 23.003 §19.3.2).
    /// Source: TS 23.003 (NAI and IMS domain forms); proposals as Android.
    public static let mnc3 = HandsetProfile(
        name: "mnc3", source: "3GPP TS 23.003 §13.2, §19.3.2 (3-digit MNC realms)",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals, mncDigits: 3, forceUDPEncapsulation: true)

    /// Emergency: IDr is the emergency APN (config `idr_for_emergency`, default "EMERGENCY"), SIP to urn:service:sos.
    /// Source: Amarisoft LTEMME doc (emergency APN "EMERGENCY"); TS 24.229 §5.1.6 (urn:service:sos, RFC 5031).
    public static let emergencyProfile = HandsetProfile(
        name: "emergency", source: "Amarisoft LTEMME doc (idr_for_emergency \"EMERGENCY\"); TS 24.229 §5.1.6, RFC 5031",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals, idr: .emergency, emergency: true,
        callTarget: "urn:service:sos", forceUDPEncapsulation: true)

    /// EAP-AKA' (RFC 5448/9048), as carstenbock/epdg uses by default.
    public static let akaPrime = HandsetProfile(
        name: "aka-prime", source: "carstenbock/epdg README (EAP-AKA' default); RFC 9048",
        ikeProposals: android.ikeProposals, espProposals: android.espProposals, eapMethod: .akaPrime, forceUDPEncapsulation: true)

    public static let all: [HandsetProfile] = [android, iphone, samsung, qualcomm, mediatek, deviceIdentity, keyID, mnc3, emergencyProfile, akaPrime]

    /// The profile called `name` (case-insensitive), or nil.
    public static func named(_ name: String) -> HandsetProfile? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }
}
