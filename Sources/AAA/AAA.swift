/// The AAA layer: a RADIUS server (RFC 2865/3579) in front of the EAP-AKA/AKA' server,
/// so Wi-Fi access points (802.1X) and other ePDGs authenticate SIMs against our HSS.
public enum AAALayer {
    public static let name = "aaa"
}

/// Severity of an AAA log line; mirrors Runtime's error/info/debug so the host maps 1:1.
public enum AAALogLevel: Int, Sendable, Comparable {
    case error = 1, info, debug
    public static func < (a: AAALogLevel, b: AAALogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where AAA log lines go. The AAA target cannot import Runtime (Runtime imports AAA),
/// so the host passes a closure that forwards to its Logger (layer "eap"/"aaa").
public typealias AAALogSink = @Sendable (AAALogLevel, String) -> Void
