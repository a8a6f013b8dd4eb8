import XCTest
import Crypto
import Wire
@testable import ESP

/// tshark, given only our capture and our esp_sa file, decrypts the inner SIP packet.
final class WiresharkDecryptTests: XCTestCase {
    func testTsharkDecryptsOurESPWithOurSAFile() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { throw XCTSkip("tshark not installed") }
        let dir = NSTemporaryDirectory() + "vowifi-ws-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/wireshark", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ue: [UInt8] = [198, 51, 100, 7], pcscf: [UInt8] = [198, 51, 100, 1]
        let outerUE: [UInt8] = [203, 0, 113, 2], outerEPDG: [UInt8] = [203, 0, 113, 1]
        let sip = Array("REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\r\nCall-ID: vowifi-test\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n".utf8)
        var rows: [String] = []
        let pcap = try PcapNGWriter(path: dir + "/esp.pcapng")
        let ifc = pcap.addInterface(name: "outer")
        let combos: [(EncryptionAlgorithm, IntegrityAlgorithm?)] = [(.ENCR_AES_GCM_16(keyBits: 128), nil), (.ENCR_AES_CBC(keyBits: 128), .AUTH_HMAC_SHA1_96), (.ENCR_AES_CBC(keyBits: 256), .AUTH_HMAC_SHA2_256_128)]
        for (i, (enc, integ)) in combos.enumerated() {
            let t = try ESPTransform(encryption: enc, encryptionKey: SecureRandom.bytes(enc.keyMaterialLength), integrity: integ, integrityKey: SecureRandom.bytes(integ?.keyLength ?? 0))
            let sa = ESPSecurityAssociation(spi: 0xA000_0001 + UInt32(i), direction: .outbound, transform: t)
            rows.append(WiresharkESPSA.row(sa: sa, source: "203.0.113.2", destination: "203.0.113.1"))
            let inner = IPPacket.udp4(src: ue, dst: pcscf, sport: 5060, dport: 5060, payload: sip)
            let esp = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: sa) }.get()
            pcap.write(interface: ifc, packet: IPPacket.udp4(src: outerUE, dst: outerEPDG, sport: 4500, dport: 4500, payload: esp))
        }
        pcap.close()
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/wireshark/esp_sa", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        p.arguments = ["-r", dir + "/esp.pcapng", "-o", "esp.enable_encryption_decode:TRUE", "-T", "fields", "-e", "esp.spi", "-e", "sip.Method", "-e", "_ws.malformed"]
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = dir
        env["HOME"] = dir
        p.environment = env
        let out = Pipe(); p.standardOutput = out; p.standardError = Pipe()
        try p.run(); p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, text)
        for l in lines { XCTAssertTrue(l.contains("REGISTER"), "not decrypted: \(l)\nrows:\n\(rows.joined(separator: "\n"))") }
    }
}
