/// IMS identities derived from a `ue_db` entry (TS 23.003 §13), so the HSS, the IMS and the
/// simulated phones agree on them.
extension UEDBEntry {
    /// `impi` if written, else `<imsi>@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org` (TS 23.003 §13.3).
    public func resolvedIMPI(plmn: PLMN) -> String? {
        if let impi { return impi }
        guard let imsi else { return nil }
        return "\(imsi)@\(plmn.imsDomain)"
    }

    /// The domain of this user's SIP IMPUs: its own `domain`, else the IMS one.
    public func resolvedDomain(imsDomain: String) -> String { domain ?? imsDomain }
}

extension UEDBEntry.IMPU {
    /// The IMPU as a URI: no scheme means SIP (`"001010123456789"` gives
    /// `sip:001010123456789@<domain>`), and a SIP IMPU written without host gets the domain.
    public func uri(domain: String) -> String {
        let lower = impu.lowercased()
        if lower.hasPrefix("tel:") || lower.hasPrefix("urn:") { return impu }
        if lower.hasPrefix("sip:") || lower.hasPrefix("sips:") {
            return impu.contains("@") ? impu : "\(impu)@\(domain)"
        }
        return impu.contains("@") ? "sip:\(impu)" : "sip:\(impu)@\(domain)"
    }
}
