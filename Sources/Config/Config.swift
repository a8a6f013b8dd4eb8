/// The Config layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum ConfigLayer {
    public static let name = "config"
}
