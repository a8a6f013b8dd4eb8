import AKA
import SIP

/// How a subscriber authenticates its REGISTER (ue_db `authent_type`; order none < MD5 < AKAv1 < AKAv2).
public enum IMSAuthType: String, Sendable, CaseIterable {
    case none
    case md5 = "MD5"
    case akav1 = "AKAv1"
    case akav2 = "AKAv2"

    /// The `algorithm` token of the challenge.
    public var digestAlgorithm: DigestAlgorithmName? {
        switch self {
        case .none: nil
        case .md5: .md5
        case .akav1: .akav1MD5
        case .akav2: .akav2MD5
        }
    }
}

/// What the IMS needs to know about one subscriber (the IMS fields of a ue_db entry).
public struct IMSSubscriber: Sendable, Equatable {
    /// Private identity, e.g. `001010123456789@ims.mnc001.mcc001.3gppnetwork.org`.
    public var impi: String
    /// Public identities as the ue_db writes them: `"001010123456789"` (= sip:<it>@<domain>),
    /// `"tel:0600000000"`, `"sip:user"`... Empty means `sip:<impi>` (TS 23.003 §13.4).
    public var impus: [String]
    public var authentType: IMSAuthType
    /// The MD5 digest password.
    public var pwd: String?
    /// Overrides the IMS domain for this subscriber's SIP IMPUs.
    public var domain: String?

    public init(impi: String, impus: [String] = [], authentType: IMSAuthType = .akav1, pwd: String? = nil, domain: String? = nil) {
        self.impi = impi; self.impus = impus; self.authentType = authentType; self.pwd = pwd; self.domain = domain
    }
}

/// Where the IMS looks subscribers up and gets AKA vectors: the HSS (Cx in a split network).
/// Calls are synchronous; an implementation guards its own state.
public protocol IMSSubscriberSource: AnyObject {
    func subscriber(impi: String) -> IMSSubscriber?
    /// The subscriber owning a public identity (normalized: `sip:user@host` or `tel:number`).
    func subscriber(impu: String) -> IMSSubscriber?
    /// A fresh AKA vector (RAND, XRES, AUTN, CK, IK) for the IMPI (Cx MAR/MAA).
    func authenticationVector(impi: String) throws -> AuthenticationVector
    /// The phone reported a sync failure: recover SQN_MS from AUTS and move SQN on (TS 33.102 §6.3.5).
    func resynchronize(impi: String, rand: [UInt8], auts: [UInt8]) throws
}

/// Identity helpers: IMPI/IMPU derived from an IMSI (TS 23.003 §13.3, §13.4), ue_db IMPU
/// spellings to URIs, and the keys used to compare IMPUs.
public enum IMSIdentity {
    /// `ims.mnc<MNC3>.mcc<MCC>.3gppnetwork.org` for the IMSI's PLMN.
    public static func homeDomain(imsi: String, mncDigits: Int) -> String? {
        guard imsi.count >= 6, imsi.allSatisfy(\.isNumber), mncDigits == 2 || mncDigits == 3 else { return nil }
        let d = Array(imsi)
        let mcc = String(d[0..<3])
        var mnc = String(d[3..<(3 + mncDigits)])
        if mnc.count == 2 { mnc = "0" + mnc }
        return "ims.mnc\(mnc).mcc\(mcc).3gppnetwork.org"
    }

    /// `<IMSI>@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org`.
    public static func impi(imsi: String, mncDigits: Int) -> String? {
        homeDomain(imsi: imsi, mncDigits: mncDigits).map { imsi + "@" + $0 }
    }

    /// A ue_db IMPU as a URI: no scheme means sip:<it>@<domain>; `sip:user` without host gets the domain.
    public static func uri(impu: String, domain: String) -> String {
        if impu.hasPrefix("tel:") || impu.hasPrefix("urn:") { return impu }
        if impu.hasPrefix("sip:") || impu.hasPrefix("sips:") {
            return impu.contains("@") ? impu : impu + "@" + domain
        }
        return "sip:" + impu + (impu.contains("@") ? "" : "@" + domain)
    }

    /// The IMPU URIs of a subscriber.
    public static func impuURIs(_ s: IMSSubscriber, defaultDomain: String) -> [String] {
        let domain = s.domain ?? defaultDomain
        if s.impus.isEmpty { return ["sip:" + s.impi] }
        return s.impus.map { uri(impu: $0, domain: domain) }
    }

    /// A comparison key: `tel:<digits>` for tel URIs and sip URIs with user=phone,
    /// `sip:<user>@<host>` (host lowercased) for other sip URIs.
    public static func key(_ text: String) -> String {
        guard let u = try? SIPAnyURI(text) else { return text.lowercased() }
        return key(u)
    }

    public static func key(_ u: SIPAnyURI) -> String {
        if let n = u.telephoneNumber { return "tel:" + n }
        switch u {
        case .sip(let s): return "sip:" + s.addressOfRecord
        default: return u.description.lowercased()
        }
    }

    /// Keys under which a dialed URI may match an IMPU: itself, and for a sip URI whose user is
    /// all digits (a phone dialing `sip:666@domain` without user=phone), the tel form too.
    public static func lookupKeys(_ u: SIPAnyURI) -> [String] {
        var keys = [key(u)]
        if case .sip(let s) = u, let user = s.userDecoded, !user.isEmpty,
           user.allSatisfy({ $0.isNumber || $0 == "+" }) {
            keys.append("tel:" + user)
        }
        return keys
    }
}
