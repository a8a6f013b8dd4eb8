/// The Wire layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum WireLayer {
    public static let name = "wire"
}
