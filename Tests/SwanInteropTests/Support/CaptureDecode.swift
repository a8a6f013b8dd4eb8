import Foundation
import XCTest

/// Ends a test's capture (after closing the IKE SA so its last messages are in it) and reads
/// it back with tshark using the ePDG's Wireshark key files (`keys/ikev2_decryption_table`,
/// `keys/esp_sa`) from a private config home: what only our key files can decrypt.
enum CaptureDecode {
    /// Starts tshark on `iface` in `ns` writing UDP to `path`, and returns once a marker datagram
    /// sent from `ns` to `peer` has been captured: tshark prints "Capturing" before dumpcap's
    /// filter sees packets, and a capture that began late (ESP only, no IKE) once failed CI.
    /// The marker goes to UDP port 5999, where nothing listens (its ICMP error is not UDP).
    static func start(ns: String, iface: String, path: String, log: String, peer: String) throws -> Process {
        let p = try Shell.spawn(NetnsPair.exec(ns, ["tshark", "-l", "-P", "-i", iface, "-w", path, "-f", "udp"]), logPath: log)
        _ = Shell.waitUntil(10) { Shell.read(log).contains("Capturing") }
        let seen = Shell.waitUntil(10) {
            _ = Shell.run(NetnsPair.exec(ns, ["bash", "-c", "echo vowifi-capture-marker > /dev/udp/\(peer)/5999"]), timeout: 5)
            usleep(200_000)
            return Shell.read(log).contains("5999")
        }
        if !seen { FileHandle.standardError.write(Data("capture on \(iface) saw no marker within 10 s\n".utf8)) }
        return p
    }

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
