/// The HSS layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum HSSLayer {
    public static let name = "hss"
}
