import Analysis

/// Wireshark's `ikev2_decryption_table` and `esp_sa` UAT files, written live by the Analysis
/// layer's `KeyLogWriter`: IKE keys right after IKE_SA_INIT (so failed attaches decrypt too),
/// ESP rows per Child SA, each row once. Point Wireshark's personal config dir at `directory`
/// (or `XDG_CONFIG_HOME=<parent>` when `directory` is `<parent>/wireshark`).
public final class KeyLogFiles: KeyLogSink, @unchecked Sendable {
    // @unchecked: `writer` serialises its own writes.
    public let directory: String
    public let writer: KeyLogWriter

    public init(directory: String) throws {
        self.directory = directory
        writer = try KeyLogWriter(directory: directory)
    }

    public var ikev2TablePath: String { directory + "/ikev2_decryption_table" }
    public var espSAPath: String { directory + "/esp_sa" }

    public func ikeSA(_ row: String) { writer.appendIKEv2Row(row) }
    public func espSA(_ row: String) { writer.appendESPRow(row) }
}
