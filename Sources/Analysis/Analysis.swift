/// The Analysis layer: rebuilds each UE's flow from a capture or a log (`vowifi analyze`).
public enum AnalysisLayer {
    public static let name = "analysis"
}
