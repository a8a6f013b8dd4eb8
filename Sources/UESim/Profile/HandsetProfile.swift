import Crypto
import IKEv2

/// How one kind of handset behaves on SWu and IMS: what it proposes, asks for and sends.
/// Plain data, so a new phone is a new entry in `HandsetProfile.catalog`; each entry cites
/// the public source its values come from (shared/reference/peers-survey.md §10).
public struct HandsetProfile: Sendable, Equatable {
    /// An ENCR transform: IANA ID and key length in bits (nil for fixed-key ciphers).
    public struct Cipher: Sendable, Equatable {
        public var id: UInt16
        public var keyBits: UInt16?
        public init(_ id: UInt16, _ keyBits: UInt16? = nil) { self.id = id; self.keyBits = keyBits }
        public static func aesCBC(_ bits: UInt16) -> Cipher { Cipher(EncrID.ENCR_AES_CBC, bits) }
        public static func aesGCM16(_ bits: UInt16) -> Cipher { Cipher(EncrID.ENCR_AES_GCM_16, bits) }
        var isAEAD: Bool { [EncrID.ENCR_AES_GCM_8, EncrID.ENCR_AES_GCM_12, EncrID.ENCR_AES_GCM_16, EncrID.ENCR_CHACHA20_POLY1305].contains(id) }
    }

    /// One IKE proposal as the phone writes it: every transform it accepts, by type (RFC 7296 §3.3).
    public struct IKEProposal: Sendable, Equatable {
        public var encryption: [Cipher]
        public var integrity: [UInt16]
        public var prf: [UInt16]
        public var dh: [UInt16]
        public init(encryption: [Cipher], integrity: [UInt16] = [], prf: [UInt16], dh: [UInt16]) {
            self.encryption = encryption; self.integrity = integrity; self.prf = prf; self.dh = dh
        }
    }

    /// One ESP proposal (integrity empty for AEAD ciphers; ESN 0 = no extended sequence numbers).
    public struct ESPProposal: Sendable, Equatable {
        public var encryption: [Cipher]
        public var integrity: [UInt16]
        public var esn: [UInt16]
        public init(encryption: [Cipher], integrity: [UInt16] = [], esn: [UInt16] = [0]) {
            self.encryption = encryption; self.integrity = integrity; self.esn = esn
        }
    }

    /// How IDi carries the NAI (RFC 7296 §3.5; Android CarrierConfigManager.Iwlan ID types).
    public enum IdentityForm: String, Sendable, Equatable { case rfc822, fqdn, keyID }
    /// What IDr names: the configured APN, the emergency APN (config `idr_for_emergency`), or a fixed text.
    public enum IDr: Sendable, Equatable { case apn, emergency, fixed(String) }
    public enum EAPMethod: String, Sendable, Equatable { case aka = "EAP-AKA", akaPrime = "EAP-AKA'" }

    public var name: String
    /// Where the behaviour is documented (issue, manual, config dump).
    public var source: String
    public var ikeProposals: [IKEProposal]
    public var espProposals: [ESPProposal]
    /// CFG_REQUEST attribute types, in order (RFC 7296 §3.15.1, TS 24.302 P-CSCF 20/21 or private types).
    public var cpAttributes: [UInt16]
    /// Status notifies added to the first IKE_AUTH request (INITIAL_CONTACT, EAP_ONLY_AUTHENTICATION, DEVICE_IDENTITY...).
    public var authNotifies: [NotifyType]
    public var identityForm: IdentityForm
    public var idr: IDr
    public var eapMethod: EAPMethod
    /// Digits of the MNC inside the IMSI (3 for e.g. MCC 310 MNC 410); nil = the configured MNC.
    public var mncDigits: Int?
    /// The phone gives up if the ePDG's first IKE_AUTH response carries AUTH (MediaTek): the
    /// ePDG must be configured with `omit_auth_in_first_auth_rsp`.
    public var rejectsAuthInFirstAuthResponse: Bool
    /// Emergency behaviour: SIP emergency registration and INVITE to `callTarget`.
    public var emergency: Bool
    /// What the phone calls; nil = the configured echo number.
    public var callTarget: String?
    /// Pretend to be behind a NAT so ESP is always UDP-encapsulated on 4500 (Android IWLAN does).
    public var forceUDPEncapsulation: Bool

    public init(name: String, source: String, ikeProposals: [IKEProposal], espProposals: [ESPProposal],
                cpAttributes: [UInt16] = HandsetProfile.standardCP, authNotifies: [NotifyType] = [.INITIAL_CONTACT, .EAP_ONLY_AUTHENTICATION],
                identityForm: IdentityForm = .rfc822, idr: IDr = .apn, eapMethod: EAPMethod = .aka, mncDigits: Int? = nil,
                rejectsAuthInFirstAuthResponse: Bool = false, emergency: Bool = false, callTarget: String? = nil,
                forceUDPEncapsulation: Bool = false) {
        self.name = name; self.source = source; self.ikeProposals = ikeProposals; self.espProposals = espProposals
        self.cpAttributes = cpAttributes; self.authNotifies = authNotifies; self.identityForm = identityForm; self.idr = idr
        self.eapMethod = eapMethod; self.mncDigits = mncDigits; self.rejectsAuthInFirstAuthResponse = rejectsAuthInFirstAuthResponse
        self.emergency = emergency; self.callTarget = callTarget; self.forceUDPEncapsulation = forceUDPEncapsulation
    }

    typealias A = CPPayload.Attribute
    /// IPv4/IPv6 address and DNS, P-CSCF by RFC 7651 types 20/21.
    public static let standardCP: [UInt16] = [A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_DNS, A.INTERNAL_IP6_ADDRESS, A.INTERNAL_IP6_DNS,
                                              A.P_CSCF_IP4_ADDRESS, A.P_CSCF_IP6_ADDRESS]

    /// P-CSCF attribute types requested: 20/21 or a vendor's private pair (first two of 20, 21, 16384-32767).
    public var pcscfAttributeTypes: (v4: UInt16, v6: UInt16)? {
        let p = cpAttributes.filter { $0 == A.P_CSCF_IP4_ADDRESS || $0 == A.P_CSCF_IP6_ADDRESS || $0 >= 16384 }
        guard p.count >= 2 else { return nil }
        return (p[0], p[1])
    }

    // MARK: wire forms (IKEv2 codec)

    /// The SA payload of IKE_SA_INIT exactly as the phone writes it.
    public func ikeSAPayload() -> SAPayload {
        SAPayload(proposals: ikeProposals.enumerated().map { i, p in
            var t = p.encryption.map { Transform(.ENCR, $0.id, keyLength: $0.keyBits) }
            t += p.prf.map { Transform(.PRF, $0) }
            t += p.integrity.map { Transform(.INTEG, $0) }
            t += p.dh.map { Transform(.DH, $0) }
            return Proposal(number: UInt8(i + 1), protocolID: .IKE, transforms: t)
        })
    }

    /// The SA payload of the first IKE_AUTH (Child SA), with the phone's inbound SPI.
    public func espSAPayload(spi: UInt32) -> SAPayload {
        let spiBytes = [UInt8(spi >> 24), UInt8((spi >> 16) & 0xFF), UInt8((spi >> 8) & 0xFF), UInt8(spi & 0xFF)]
        return SAPayload(proposals: espProposals.enumerated().map { i, p in
            var t = p.encryption.map { Transform(.ENCR, $0.id, keyLength: $0.keyBits) }
            t += p.integrity.map { Transform(.INTEG, $0) }
            t += p.esn.map { Transform(.ESN, $0) }
            return Proposal(number: UInt8(i + 1), protocolID: .ESP, spi: spiBytes, transforms: t)
        })
    }

    public func cpRequest() -> CPPayload {
        CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: cpAttributes.map { A($0) })
    }

    /// N(DEVICE_IDENTITY) (TS 24.302 §8.2.9.2): Identity Length (2) = 9 | Identity Type (1: IMEI, 2: IMEISV) |
    /// the digits in TBCD (IKEv2's `DeviceIdentity`). Nil for an identity that is not 15/16 digits.
    public static func deviceIdentityNotify(imei: String? = nil, imeisv: String? = nil) -> NotifyPayload? {
        let id: DeviceIdentity
        if let s = imeisv, s.count == 16, s.allSatisfy(\.isASCIIDigit) { id = DeviceIdentity(kind: .imeisv, digits: s) }
        else if let s = imei, s.count == 15, s.allSatisfy(\.isASCIIDigit) { id = DeviceIdentity(kind: .imei, digits: s) }
        else { return nil }
        return NotifyPayload(.DEVICE_IDENTITY, data: id.notifyData)
    }

    /// IDi type for the profile's identity form.
    public var idiType: IDType {
        switch identityForm { case .rfc822: .ID_RFC822_ADDR; case .fqdn: .ID_FQDN; case .keyID: .ID_KEY_ID }
    }

    // MARK: suites for the IKEv2 initiator

    /// The proposals as single-transform suites, in the phone's preference order (the IKEv2
    /// initiator offers one proposal per suite). Combinations are capped at `limit`.
    public func ikeSuites(limit: Int = 16) -> [IKESuite] {
        var out: [IKESuite] = []
        for p in ikeProposals {
            for dh in p.dh { for c in p.encryption { for prf in p.prf {
                for integ in (c.isAEAD ? [nil] : p.integrity.map { Optional($0) }) {
                    guard let enc = try? EncryptionAlgorithm(transformID: c.id, keyLength: c.keyBits.map(Int.init)),
                          let g = DHGroup(rawValue: dh), let f = PseudoRandomFunction(rawValue: prf) else { continue }
                    let i = integ.flatMap { IntegrityAlgorithm(rawValue: $0) }
                    if integ != nil && i == nil { continue }
                    let s = IKESuite(encryption: enc, integrity: i, prf: f, dhGroup: g)
                    if !out.contains(s) { out.append(s) }
                }
            } } }
        }
        return Array(out.prefix(limit))
    }

    public func espSuites() -> [ESPSuite] {
        var out: [ESPSuite] = []
        for p in espProposals {
            for c in p.encryption {
                for integ in (c.isAEAD || p.integrity.isEmpty ? [nil] : p.integrity.map { Optional($0) }) {
                    guard let enc = try? EncryptionAlgorithm(transformID: c.id, keyLength: c.keyBits.map(Int.init)) else { continue }
                    let i = integ.flatMap { IntegrityAlgorithm(rawValue: $0) }
                    if integ != nil && i == nil { continue }
                    let s = ESPSuite(encryption: enc, integrity: i, extendedSequenceNumbers: p.esn.first == 1)
                    if !out.contains(s) { out.append(s) }
                }
            }
        }
        return out
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
