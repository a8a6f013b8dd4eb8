/// The IKEv2 layer of VoWiFi Core (see docs/DESIGN.md for what it holds and may import).
public enum IKEv2Layer {
    public static let name = "ikev2"
}
