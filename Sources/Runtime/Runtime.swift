/// The Runtime layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum RuntimeLayer {
    public static let name = "runtime"
}
