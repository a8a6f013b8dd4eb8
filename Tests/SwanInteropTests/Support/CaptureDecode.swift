import Foundation
import XCTest

/// Ends a test's capture (after closing the IKE SA so its last messages are in it) and reads
/// it back with tshark using the ePDG's Wireshark key files (`keys/ikev2_decryption_table`,
/// `keys/esp_sa`) from a private config home: what only our key files can decrypt.
enum CaptureDecode {
    /// One row per packet matching `filter`, `fields` in order ("" where absent).
    static func rows(dir: String, capture: Process, charon: Charon, filter: String, fields: [String],
                     file: StaticString = #filePath, line: UInt = #line) throws -> (rows: [[String]], text: String) {
        charon.swanctl("--terminate", ["--ike", "epdg"])
        sleep(1)
        capture.interrupt()
        _ = Shell.waitUntil(10) { !capture.isRunning }
        let xdg = dir + "/xdg"
        try FileManager.default.createDirectory(atPath: xdg + "/wireshark", withIntermediateDirectories: true)
        for f in ["ikev2_decryption_table", "esp_sa"] { try FileManager.default.copyItem(atPath: dir + "/keys/" + f, toPath: xdg + "/wireshark/" + f) }
        let dec = Shell.run(["tshark", "-r", dir + "/outer.pcapng", "-Y", filter, "-T", "fields", "-E", "separator=|"] + fields.flatMap { ["-e", $0] },
                            env: ["XDG_CONFIG_HOME": xdg, "HOME": xdg], timeout: 60, dropStderr: true)
        XCTAssertEqual(dec.status, 0, "tshark failed", file: file, line: line)
        let rows = dec.output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        return (rows, dec.output)
    }
}
