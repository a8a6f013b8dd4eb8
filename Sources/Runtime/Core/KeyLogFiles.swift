import Foundation

/// Writes Wireshark's `ikev2_decryption_table` and `esp_sa` UAT files live, a row per SA,
/// so a capture opens decrypted (point Wireshark's personal config dir at `directory`,
/// or copy the two files into ~/.config/wireshark).
public final class KeyLogFiles: KeyLogSink, @unchecked Sendable {
    // @unchecked: appends are serialised by `lock`.
    public let directory: String
    private let lock = NSLock()

    public init(directory: String) {
        self.directory = directory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public var ikev2TablePath: String { directory + "/ikev2_decryption_table" }
    public var espSAPath: String { directory + "/esp_sa" }

    public func ikeSA(_ row: String) { append(row, to: ikev2TablePath) }
    public func espSA(_ row: String) { append(row, to: espSAPath) }

    private func append(_ row: String, to path: String) {
        lock.lock(); defer { lock.unlock() }
        let line = Data((row + "\n").utf8)
        if let h = FileHandle(forWritingAtPath: path) {
            h.seekToEndOfFile(); h.write(line); try? h.close()
        } else {
            FileManager.default.createFile(atPath: path, contents: line)
        }
    }
}
