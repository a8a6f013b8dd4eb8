/// EAP-AKA/AKA' methods the server runs.
public enum EAPAKAMethod: Sendable, Hashable, CustomStringConvertible {
    /// EAP-AKA (RFC 4187), EAP type 23.
    case aka
    /// EAP-AKA' (RFC 5448/9048), EAP type 50.
    case akaPrime

    public var eapType: UInt8 { self == .aka ? 23 : 50 }
    public init?(eapType: UInt8) {
        switch eapType { case 23: self = .aka; case 50: self = .akaPrime; default: return nil }
    }
    public var description: String { self == .aka ? "EAP-AKA" : "EAP-AKA'" }
}

/// An EAP-AKA/AKA' peer identity as the first character of its user part classifies it
/// (TS 23.003 §19.3, RFC 4187 §4.1.1.6, RFC 5448 §3): '0'/'6' permanent (IMSI), '2'/'7'
/// pseudonym, '4'/'8' fast re-authentication. Realms are `nai.epc.mnc<MNC>.mcc<MCC>.
/// 3gppnetwork.org` (SWa/STa) or `wlan.mnc<MNC>.mcc<MCC>.3gppnetwork.org` (I-WLAN).
public struct EAPAKAIdentity: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case permanent(EAPAKAMethod)
        case pseudonym(EAPAKAMethod)
        case reauthentication(EAPAKAMethod)
        /// Anything else (an anonymous "@realm", a plain user name): ask for the permanent id.
        case other
    }

    /// The identity exactly as received (these octets enter MK).
    public let text: String
    public let kind: Kind
    /// Digits after the prefix, for permanent identities.
    public let imsi: String?
    /// After "@", or nil.
    public let realm: String?
    /// From the realm's `mcc<MCC>` and `mnc<MNC>` labels, when present.
    public let mcc: String?
    public let mnc: String?

    public init(_ text: String) {
        self.text = text
        let user: Substring
        if let at = text.firstIndex(of: "@") {
            user = text[..<at]
            let r = String(text[text.index(after: at)...])
            realm = r
            var mcc: String?, mnc: String?
            for label in r.split(separator: ".") {
                if label.hasPrefix("mcc"), label.count == 6 { mcc = String(label.dropFirst(3)) }
                if label.hasPrefix("mnc"), label.count == 6 { mnc = String(label.dropFirst(3)) }
            }
            self.mcc = mcc; self.mnc = mnc
        } else {
            user = Substring(text); realm = nil; mcc = nil; mnc = nil
        }
        let digits = user.dropFirst()
        let isIMSI = (5...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
        switch user.first {
        case "0" where isIMSI: kind = .permanent(.aka); imsi = String(digits)
        case "6" where isIMSI: kind = .permanent(.akaPrime); imsi = String(digits)
        case "2": kind = .pseudonym(.aka); imsi = nil
        case "7": kind = .pseudonym(.akaPrime); imsi = nil
        case "4": kind = .reauthentication(.aka); imsi = nil
        case "8": kind = .reauthentication(.akaPrime); imsi = nil
        default: kind = .other; imsi = nil
        }
    }

    /// The method the identity's prefix asks for, if any.
    public var preferredMethod: EAPAKAMethod? {
        switch kind {
        case let .permanent(m), let .pseudonym(m), let .reauthentication(m): m
        case .other: nil
        }
    }

    public var description: String { text }
}
