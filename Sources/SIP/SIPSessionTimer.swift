/// The session timer headers of RFC 4028: `Session-Expires` (compact `x`, §4) with its
/// `refresher` parameter, and `Min-SE` (§5). Values, parsed and serialized symmetrically.
public struct SIPSessionExpires: Sendable, Equatable, CustomStringConvertible {
    /// Who sends the refreshes (§4): the dialog's UAC or UAS, as the 2xx names them.
    public enum Refresher: String, Sendable { case uac, uas }

    /// Session interval in seconds (delta-seconds).
    public var interval: UInt32
    public var refresher: Refresher?

    public init(interval: UInt32, refresher: Refresher? = nil) {
        self.interval = interval
        self.refresher = refresher
    }

    /// Parses `delta-seconds *(;se-params)`; nil when the value is not that.
    public init?(parsing text: String) {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.sipTrimmed }
        guard let first = parts.first, !first.isEmpty, first.utf8.count <= 10, first.utf8.allSatisfy(SIPChar.isDigit),
              let n = UInt64(first), n <= UInt64(UInt32.max) else { return nil }
        interval = UInt32(n)
        refresher = nil
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1).map { SIPHeaderName.asciiLowercased(String($0.sipTrimmed)) }
            if kv.count == 2, kv[0] == "refresher" { refresher = Refresher(rawValue: kv[1]) }
        }
    }

    /// The Session-Expires of a message (nil when absent or malformed).
    public init?(_ m: SIPMessage) {
        guard let v = m.header("Session-Expires") else { return nil }
        self.init(parsing: v)
    }

    public var description: String { String(interval) + (refresher.map { ";refresher=" + $0.rawValue } ?? "") }

    /// RFC 4028 §10: the refresher sends its refresh once half the interval has passed.
    public var refreshAfter: Double { Double(interval) / 2 }

    /// RFC 4028 §10: the side that does not refresh sends BYE this long after the last refresh,
    /// slightly before expiry: the interval minus min(32 s, interval / 3).
    public var byeAfter: Double { Double(interval) - min(32, Double(interval) / 3) }

    /// The Min-SE of a message (§5; nil when absent or malformed).
    public static func minSE(_ m: SIPMessage) -> UInt32? {
        guard let v = m.header("Min-SE") else { return nil }
        let delta = v.split(separator: ";").first.map { String($0.sipTrimmed) } ?? ""
        guard !delta.isEmpty, delta.utf8.count <= 10, delta.utf8.allSatisfy(SIPChar.isDigit), let n = UInt64(delta) else { return nil }
        return UInt32(clamping: n)
    }
}
