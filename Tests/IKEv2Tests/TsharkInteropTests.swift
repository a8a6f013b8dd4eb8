import XCTest
import Crypto
import Foundation
import Wire
@testable import IKEv2

/// Wireshark's own IKEv2 dissector reads an attach made by this code: it must find every
/// payload, decrypt the SK payloads with the logged keys, and check their ICVs.
final class TsharkInteropTests: XCTestCase {
    static let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Classic pcap, LINKTYPE_RAW (IPv4), one UDP datagram per record.
    func pcap(_ packets: [(bytes: [UInt8], from: IKEEndpoint, to: IKEEndpoint)]) -> [UInt8] {
        var w = ByteWriter()
        func le32(_ v: UInt32) { for i in 0..<4 { w.u8(UInt8((v >> (8 * UInt32(i))) & 0xff)) } }
        func le16(_ v: UInt16) { w.u8(UInt8(v & 0xff)); w.u8(UInt8(v >> 8)) }
        le32(0xa1b2c3d4); le16(2); le16(4); le32(0); le32(0); le32(65535); le32(101)
        for (i, p) in packets.enumerated() {
            var ip = ByteWriter()
            let marker: [UInt8] = (p.from.port == 4500 || p.to.port == 4500) ? [0, 0, 0, 0] : []
            let udpLen = 8 + marker.count + p.bytes.count
            ip.u8(0x45); ip.u8(0); ip.u16(UInt16(20 + udpLen)); ip.u16(UInt16(i)); ip.u16(0); ip.u8(64); ip.u8(17); ip.u16(0)
            ip.append(p.from.address.bytes); ip.append(p.to.address.bytes)
            var sum: UInt32 = 0
            for j in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip.bytes[j]) << 8 | UInt32(ip.bytes[j + 1]) }
            while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
            ip.patch(at: 10, width: 2, value: UInt64(~UInt16(sum)))
            ip.u16(p.from.port); ip.u16(p.to.port); ip.u16(UInt16(udpLen)); ip.u16(0)
            ip.append(marker); ip.append(p.bytes)
            le32(UInt32(1_700_000_000 + i)); le32(0); le32(UInt32(ip.count)); le32(UInt32(ip.count))
            w.append(ip.bytes)
        }
        return w.bytes
    }

    func run(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try XCTUnwrap(Self.tshark))
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func testTsharkDissectsAndDecryptsAnAttach() throws {
        try attach(suite: nil, encName: "AES-CBC-128 [RFC3602]", integName: "HMAC_SHA2_256_128 [RFC4868]")
    }

    /// RFC 5282 AES-GCM: Wireshark's decryption checks our AAD (header through SK header) and salt.
    func testTsharkDecryptsAESGCM() throws {
        try attach(suite: IKESuite(encryption: .ENCR_AES_GCM_16(keyBits: 256), integrity: nil, prf: .PRF_HMAC_SHA2_384, dhGroup: .ecp256),
                   encName: "AES-GCM-256 with 16 octet ICV [RFC5282]", integName: "NONE [RFC4306]")
    }

    func attach(suite: IKESuite?, encName: String, integName: String) throws {
        guard Self.tshark != nil else { throw XCTSkip("tshark not installed") }
        let h = try AttachHarness()
        h.nat = true
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        if let suite { cfg.ikeSuites = [suite] }
        try h.makeUE(cfg)
        var packets: [(bytes: [UInt8], from: IKEEndpoint, to: IKEEndpoint)] = []
        // Record in wire order by wrapping the harness routing.
        h.route(h.ue.start(now: h.now), fromUE: true)
        var rounds = 0
        while (!h.packetsToEPDG.isEmpty || !h.packetsToUE.isEmpty) && rounds < 50 {
            rounds += 1
            let a = h.packetsToEPDG; h.packetsToEPDG = []
            for m in a { packets.append(m); h.route(h.epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: false) }
            let b = h.packetsToUE; h.packetsToUE = []
            for m in b { packets.append((m.bytes, m.from, h.seen(m.to))); h.route(h.ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: true) }
        }
        XCTAssertEqual(h.ue.state, .established)
        let info = try XCTUnwrap(h.ue.info())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ikev2-tshark-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["KEEP_PCAP"] == nil { try? FileManager.default.removeItem(at: dir) } }
        let file = dir.appendingPathComponent("attach.pcap")
        try Data(pcap(packets)).write(to: file)
        func hex16(_ v: UInt64) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
        // UAT record: byte fields as bare hex (quoted hex is read as text and rejected), names quoted.
        func row(_ skAr: [UInt8]) -> String {
            [hex16(info.spiI), hex16(info.spiR), info.keys.SK_ei.hex, info.keys.SK_er.hex, "\"\(encName)\"",
             info.keys.SK_ai.hex, skAr.hex, "\"\(integName)\""].joined(separator: ",")
        }
        if suite == nil {
            // With a wrong SK_ar, Wireshark must flag the ePDG's ICVs: proof that it really checks them.
            var wrong = info.keys.SK_ar; wrong[0] ^= 1
            let bad = try run(["-n", "-r", file.path, "-o", "uat:ikev2_decryption_table:" + row(wrong), "-T", "fields", "-e", "_ws.expert.message"])
            XCTAssertTrue(bad.contains("Integrity Checksum Data is incorrect"), bad)
        }
        let out = try run(["-n", "-r", file.path, "-o", "uat:ikev2_decryption_table:" + row(info.keys.SK_ar),
                           "-T", "fields", "-E", "separator=|", "-e", "isakmp.exchangetype", "-e", "isakmp.notify.msgtype",
                           "-e", "eap.code", "-e", "eap.type", "-e", "isakmp.cfg.attr.type", "-e", "isakmp.id.type", "-e", "_ws.expert.message"])
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 8, "\(out) \(file.path)")
        guard lines.count == 8 else { return }
        XCTAssertTrue(lines[0].hasPrefix("34|"), out)           // IKE_SA_INIT
        XCTAssertTrue(lines[0].contains("16388"), out)          // NAT_DETECTION_SOURCE_IP
        XCTAssertTrue(lines[2].hasPrefix("35|"), out)           // IKE_AUTH, decrypted: IDi, CP...
        XCTAssertTrue(lines[2].contains("16417"), out)          // EAP_ONLY_AUTHENTICATION inside SK
        XCTAssertTrue(lines[3].contains("|1|23|"), out)         // EAP-Request/AKA
        XCTAssertTrue(lines[4].contains("|2|23|"), out)         // EAP-Response/AKA
        XCTAssertTrue(lines[5].contains("|3|"), out)            // EAP-Success
        XCTAssertTrue(lines[7].contains("1,3,20") || lines[7].contains("1,20"), out) // CFG_REPLY attributes
        XCTAssertTrue(lines[2].contains("|1,3,20|3,2|"), out)    // CFG_REQUEST attributes, IDi RFC822 + IDr FQDN
        XCTAssertFalse(out.lowercased().contains("malformed"), out)
        XCTAssertFalse(out.contains("incorrect"), out)
    }
}
