import AKA
import IKEv2
import Wire

/// A SIM card as the callbox `ue_db` describes it (imsi, K, OP or OPc, AMF, SQN, sim_algo, res_len).
public struct SIMCredentials: Sendable, Equatable {
    public enum Algorithm: String, Sendable { case milenage, xor }
    public var imsi: String
    public var k: [UInt8]
    public var op: [UInt8]?
    public var opc: [UInt8]?
    /// The AMF the network uses (not checked by the USIM; kept for the ue_db round trip).
    public var amf: [UInt8]
    /// The highest SQN the card has accepted (its SQN_MS).
    public var sqn: UInt64
    public var algorithm: Algorithm
    public var resLength: Int

    public init(imsi: String, k: [UInt8], op: [UInt8]? = nil, opc: [UInt8]? = nil, amf: [UInt8] = [0x80, 0x00], sqn: UInt64 = 0,
                algorithm: Algorithm = .milenage, resLength: Int = 8) {
        self.imsi = imsi; self.k = k; self.op = op; self.opc = opc; self.amf = amf; self.sqn = sqn
        self.algorithm = algorithm; self.resLength = resLength
    }

    /// The software USIM (TS 33.102 §6.3.3) for these credentials.
    public func makeUSIM() throws -> USIM {
        let alg: AuthenticationAlgorithm
        switch algorithm {
        case .xor: alg = .xor(try XORTestAlgorithm(k: k))
        case .milenage:
            if let opc { alg = .milenage(try Milenage(k: k, opc: opc)) } else if let op { alg = .milenage(try Milenage(k: k, op: op)) } else {
                throw PhoneError.badConfig("milenage SIM \(imsi) needs OP or OPc")
            }
        }
        return try USIM(algorithm: alg, resLength: resLength, lastSQN: try SQN(sqn))
    }
}

/// What one simulated UE does, from Wi-Fi attach to hang-up.
public struct PhoneConfig: Sendable {
    /// How far the scenario goes before the phone tears down (or stays up, for load tests).
    public enum Scenario: String, Sendable { case attach, register, call }

    public var sim: SIMCredentials
    public var mcc: String
    /// MNC as configured (2 or 3 digits); a profile with `mncDigits` takes it from the IMSI instead.
    public var mnc: String
    public var apn: String
    /// IDr for emergency attaches (callbox `idr_for_emergency`).
    public var emergencyAPN: String
    public var profile: HandsetProfile
    /// Outer addresses: the phone's Wi-Fi address and port, and the ePDG's.
    public var local: IKEEndpoint
    public var epdg: IKEEndpoint
    public var scenario: Scenario
    /// The number called; the profile's target (urn:service:sos) wins.
    public var callTarget: String
    /// Seconds of RTP after the call is up.
    public var mediaDuration: Double
    public var preconditions: Bool
    /// For MD5 digest challenges (IMS subscribers provisioned with a password).
    public var sipPassword: String?
    public var sipPort: UInt16
    public var rtpPort: UInt16
    /// A step that takes longer fails the run.
    public var stepTimeout: Double
    /// Delete the IKE SA at the end (false keeps the tunnel and registration, for load tests).
    public var teardown: Bool
    public var imei: String?
    /// Seeds SIP tags/branches; nil draws one from the CSPRNG.
    public var idSeed: UInt64?
    /// The ePDG's NAT-T port (4500 on a real ePDG; the demo's is ephemeral).
    public var natTPort: UInt16 = 4500
    /// Move to the NAT-T port and UDP-encapsulate ESP even without a NAT, as most phones
    /// do; needed when the host cannot send raw ESP (IP protocol 50).
    public var forceUDPEncapsulation = true
    /// Emit `.trace` actions (the ladder's messages); load runs turn them off to save the
    /// per-message summaries.
    public var traces = true
    /// PDN username/password for the ePDG's second authentication (RFC 4739, callbox
    /// `additional_ue_auth_type`); both nil = the phone does one round only.
    public var pdnUsername: String? = nil
    public var pdnPassword: String? = nil
    /// RFC 4028 session interval the phone offers in its INVITE (nil: none) and its Min-SE.
    public var sessionExpires: UInt32? = 1800
    public var minSE: UInt32 = 90

    public init(sim: SIMCredentials, mcc: String, mnc: String, apn: String = "ims", emergencyAPN: String = "EMERGENCY",
                profile: HandsetProfile = .android, local: IKEEndpoint, epdg: IKEEndpoint, scenario: Scenario = .call,
                callTarget: String = "tel:666", mediaDuration: Double = 5, preconditions: Bool = true, sipPassword: String? = nil,
                sipPort: UInt16 = 5060, rtpPort: UInt16 = 50_000, stepTimeout: Double = 30, teardown: Bool = true,
                imei: String? = "353490069873319", idSeed: UInt64? = nil) {
        self.sim = sim; self.mcc = mcc; self.mnc = mnc; self.apn = apn; self.emergencyAPN = emergencyAPN; self.profile = profile
        self.local = local; self.epdg = epdg; self.scenario = scenario; self.callTarget = callTarget; self.mediaDuration = mediaDuration
        self.preconditions = preconditions; self.sipPassword = sipPassword; self.sipPort = sipPort; self.rtpPort = rtpPort
        self.stepTimeout = stepTimeout; self.teardown = teardown; self.imei = imei; self.idSeed = idSeed
    }

    /// MCC and MNC as the NAI and IMS domain use them: from the IMSI when the profile fixes the MNC length.
    public var plmn: (mcc: String, mnc: String) {
        guard let d = profile.mncDigits, sim.imsi.count >= 3 + d else { return (mcc, mnc) }
        let digits = Array(sim.imsi)
        return (String(digits[0..<3]), String(digits[3..<(3 + d)]))
    }

    /// The IDr the profile asks for.
    public var idr: String {
        switch profile.idr {
        case .apn: return apn
        case .emergency: return emergencyAPN
        case .fixed(let s): return s
        }
    }

    /// The IKEv2 initiator settings this profile and SIM lead to: the profile's wire forms
    /// (SA payloads, CP attributes, notifies, IDi type) go to the initiator's override knobs.
    public var initiatorConfig: IKEInitiatorConfig {
        typealias A = CPPayload.Attribute
        let cp = profile.cpAttributes
        let pcscf = profile.pcscfAttributeTypes
        var c = IKEInitiatorConfig(imsi: sim.imsi, mcc: plmn.mcc, mnc: plmn.mnc, useAKAPrime: profile.eapMethod == .akaPrime, apn: idr,
                                   ikeSuites: profile.ikeSuites(), espSuites: profile.espSuites(),
                                   requestIPv4: cp.contains(A.INTERNAL_IP4_ADDRESS), requestIPv6: cp.contains(A.INTERNAL_IP6_ADDRESS),
                                   requestPCSCF: pcscf != nil,
                                   pcscfIPv4AttributeType: pcscf?.v4 ?? A.P_CSCF_IP4_ADDRESS,
                                   pcscfIPv6AttributeType: pcscf?.v6 ?? A.P_CSCF_IP6_ADDRESS,
                                   eapOnly: profile.authNotifies.contains(.EAP_ONLY_AUTHENTICATION),
                                   natTraversalPort: natTPort)
        c.ikeSAOverride = profile.ikeSAPayload()
        c.espProposalsOverride = profile.espSAPayload(spi: 0).proposals
        c.cpRequestAttributes = cp
        c.authNotifies = profile.authNotifies.filter { $0 != .DEVICE_IDENTITY }.map { NotifyPayload($0) }
        // Profiles that list DEVICE_IDENTITY send it unasked; the others, like Android, only when
        // the ePDG asks for it.
        if let imei, imei.count == 15 {
            c.deviceIdentity = DeviceIdentity(kind: .imei, digits: imei)
            c.deviceIdentityUnasked = profile.authNotifies.contains(.DEVICE_IDENTITY)
        }
        c.idiType = profile.idiType
        c.pdnUsername = pdnUsername; c.pdnPassword = pdnPassword
        c.forceUDPEncapsulation = forceUDPEncapsulation || profile.forceUDPEncapsulation
        // The emergency NAI (TS 23.003 §19.3.7, "sos." before the realm) is not sent: the initiator derives
        // the EAP-AKA keys from its plain NAI, so an IDi override would break AT_MAC. IDr carries EMERGENCY.
        return c
    }
}

public enum PhoneError: Error, Equatable, Sendable, CustomStringConvertible {
    case badConfig(String)
    public var description: String {
        switch self { case .badConfig(let s): "phone configuration: \(s)" }
    }
}
