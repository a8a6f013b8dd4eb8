/// A 3GPP root NAI (TS 23.003 §19.3): `<prefix><IMSI>@nai.epc.mnc<MNC>.mcc<MCC>.3gppnetwork.org`,
/// where the prefix digit selects the EAP method and identity kind (0 AKA, 6 AKA' permanent).
public struct NAI: Sendable, Equatable, CustomStringConvertible {
    public enum Method: Sendable, Equatable { case aka, akaPrime }
    public var method: Method
    public var imsi: String
    public var mcc: String
    public var mnc: String
    /// The realm after "@" (e.g. "nai.epc.mnc001.mcc001.3gppnetwork.org", "sos.nai.epc...").
    public var realm: String

    public init(method: Method, imsi: String, mcc: String, mnc: String) {
        self.method = method; self.imsi = imsi; self.mcc = mcc
        self.mnc = mnc.count == 2 ? "0" + mnc : mnc
        realm = "nai.epc.mnc\(self.mnc).mcc\(mcc).3gppnetwork.org"
    }

    /// Parses a permanent identity; nil for pseudonyms, re-auth ids or anything else.
    public init?(_ text: String) {
        guard let at = text.firstIndex(of: "@") else { return nil }
        let user = text[..<at]
        realm = String(text[text.index(after: at)...])
        guard let p = user.first, user.count >= 7, user.count <= 16 else { return nil }
        switch p {
        case "0": method = .aka
        case "6": method = .akaPrime
        default: return nil
        }
        let digits = user.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        imsi = String(digits)
        var mcc = "", mnc = ""
        for label in realm.split(separator: ".") {
            if label.hasPrefix("mcc") { mcc = String(label.dropFirst(3)) }
            if label.hasPrefix("mnc") { mnc = String(label.dropFirst(3)) }
        }
        self.mcc = mcc; self.mnc = mnc
    }

    public var description: String { (method == .aka ? "0" : "6") + imsi + "@" + realm }
}
