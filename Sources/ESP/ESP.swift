/// The ESP layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum ESPLayer {
    public static let name = "esp"
}
