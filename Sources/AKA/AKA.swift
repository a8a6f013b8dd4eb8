/// The AKA layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum AKALayer {
    public static let name = "aka"
}
