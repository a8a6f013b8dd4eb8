/// The SIP layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum SIPLayer {
    public static let name = "sip"
}
