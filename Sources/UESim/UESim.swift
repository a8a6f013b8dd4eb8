/// The UESim layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum UESimLayer {
    public static let name = "uesim"
}
