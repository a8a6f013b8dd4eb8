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
    /// Works on the UTF-8 bytes: it runs on every attach, and Character iteration was a
    /// measurable part of one.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard let at = u.firstIndex(of: UInt8(ascii: "@")), at >= 7, at <= 16 else { return nil }
        switch u[0] {
        case UInt8(ascii: "0"): method = .aka
        case UInt8(ascii: "6"): method = .akaPrime
        default: return nil
        }
        guard u[1..<at].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        imsi = String(decoding: u[1..<at], as: UTF8.self)
        realm = String(decoding: u[(at + 1)...], as: UTF8.self)
        var mcc = "", mnc = ""
        for label in u[(at + 1)...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) where label.count >= 3 {
            let head = label.prefix(3)
            if head.elementsEqual("mcc".utf8) { mcc = String(decoding: label.dropFirst(3), as: UTF8.self) }
            if head.elementsEqual("mnc".utf8) { mnc = String(decoding: label.dropFirst(3), as: UTF8.self) }
        }
        self.mcc = mcc; self.mnc = mnc
    }

    public var description: String { (method == .aka ? "0" : "6") + imsi + "@" + realm }
}
