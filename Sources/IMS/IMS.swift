/// The IMS layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum IMSLayer {
    public static let name = "ims"
}
