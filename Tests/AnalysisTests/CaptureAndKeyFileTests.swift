import XCTest
import Crypto
import Wire
import IKEv2
import ESP
@testable import Analysis

final class CaptureAndKeyFileTests: XCTestCase {
    var dir = ""
    override func setUp() {
        dir = NSTemporaryDirectory() + "vowifi-keys-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testPcapNGWriterRoundTripWithInterfacesAndComments() throws {
        let w = try PcapNGWriter(path: dir + "/a.pcapng")
        let o = w.addInterface(name: "outer")
        let i = w.addInterface(name: "inner", linkType: .ethernet)
        let ip = IPPacket.udp4(src: [203, 0, 113, 2], dst: [203, 0, 113, 1], sport: 500, dport: 500, payload: [1, 2, 3])
        w.write(interface: o, packet: ip, time: 1_700_000_000.25, comment: "IMSI 001010123456789")
        let eth: [UInt8] = [UInt8](repeating: 0xAA, count: 12) + [0x81, 0x00, 0x00, 0x05, 0x08, 0x00] + ip
        w.write(interface: i, packet: eth, time: 1_700_000_001)
        w.close()
        let r = try PcapNGReader(path: dir + "/a.pcapng")
        XCTAssertEqual(r.interfaces.map(\.name), ["outer", "inner"])
        XCTAssertEqual(r.interfaces.map(\.linkType), [101, 1])
        XCTAssertEqual(r.packets.count, 2)
        XCTAssertEqual(r.packets[0].comment, "IMSI 001010123456789")
        XCTAssertEqual(r.packets[0].time, 1_700_000_000.25, accuracy: 1e-6)
        XCTAssertEqual(r.packets[0].ipPacket, ip)
        XCTAssertNil(r.packets[1].comment)
        XCTAssertEqual(r.packets[1].interfaceName, "inner")
        XCTAssertEqual(r.packets[1].ipPacket, ip, "Ethernet + VLAN header stripped")
    }

    func testClassicPcapBothByteOrdersAndNanoseconds() throws {
        let ip = IPPacket.udp4(src: [198, 51, 100, 2], dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: Array("OPTIONS".utf8))
        func file(bigEndian: Bool, nanos: Bool) -> [UInt8] {
            func u32(_ v: UInt32) -> [UInt8] { let b = [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]; return bigEndian ? b.reversed() : b }
            func u16(_ v: UInt16) -> [UInt8] { let b = [UInt8(v & 0xFF), UInt8(v >> 8)]; return bigEndian ? b.reversed() : b }
            var f = u32(nanos ? 0xA1B2_3C4D : 0xA1B2_C3D4) + u16(2) + u16(4) + u32(0) + u32(0) + u32(65535) + u32(101)
            f += u32(1000) + u32(nanos ? 500_000_000 : 500_000) + u32(UInt32(ip.count)) + u32(UInt32(ip.count)) + ip
            return f
        }
        for be in [false, true] {
            for ns in [false, true] {
                let r = try PcapNGReader(bytes: file(bigEndian: be, nanos: ns))
                XCTAssertEqual(r.packets.count, 1)
                XCTAssertEqual(r.packets[0].time, 1000.5, accuracy: 1e-9)
                XCTAssertEqual(r.packets[0].ipPacket, ip)
            }
        }
        XCTAssertThrowsError(try PcapNGReader(bytes: [1, 2, 3, 4, 5])) { XCTAssertEqual($0 as? CaptureError, .notACapture(magic: 0x0403_0201)) }
        var truncated = file(bigEndian: false, nanos: false)
        truncated.removeLast(3)
        XCTAssertThrowsError(try PcapNGReader(bytes: truncated))
    }

    func testIKEv2RowRoundTrip() throws {
        let line = WiresharkIKEv2Table.row(spii: 0x0123_4567_89ab_cdef, spir: 0xfedc_ba98_7654_3210, encryption: .ENCR_AES_CBC(keyBits: 256),
                                           skEi: [UInt8](repeating: 1, count: 32), skEr: [UInt8](repeating: 2, count: 32),
                                           integrity: .AUTH_HMAC_SHA2_256_128, skAi: [UInt8](repeating: 3, count: 32), skAr: [UInt8](repeating: 4, count: 32))
        var t = KeyTables()
        t.addIKEv2Table("# comment\n" + line + "\n\n\"bad\",\"row\"\n")
        XCTAssertEqual(t.ike.count, 1)
        XCTAssertEqual(t.problems.count, 1, "the short row is reported")
        let r = try XCTUnwrap(t.ikeRow(spiI: 0x0123_4567_89ab_cdef, spiR: 0xfedc_ba98_7654_3210))
        XCTAssertEqual(r.encryption, .ENCR_AES_CBC(keyBits: 256))
        XCTAssertEqual(r.integrity, .AUTH_HMAC_SHA2_256_128)
        XCTAssertEqual(r.skEr, [UInt8](repeating: 2, count: 32))
        // Wireshark's UAT byte fields are bare hex; only the algorithm names are quoted.
        XCTAssertEqual(r.line, "0123456789abcdef,fedcba9876543210," + String(repeating: "01", count: 32) + "," + String(repeating: "02", count: 32)
                       + ",\"AES-CBC-256 [RFC3602]\"," + String(repeating: "03", count: 32) + "," + String(repeating: "04", count: 32) + ",\"HMAC_SHA2_256_128 [RFC4868]\"")
        var again = KeyTables()
        again.addIKEv2Table(r.line)
        XCTAssertEqual(again.ike.first, r)
        // GCM: no integrity.
        let gcm = WiresharkIKEv2Table.row(spii: 1, spir: 2, encryption: .ENCR_AES_GCM_16(keyBits: 128), skEi: [UInt8](repeating: 5, count: 20),
                                          skEr: [UInt8](repeating: 6, count: 20), integrity: nil, skAi: [], skAr: [])
        t.addIKEv2Table(gcm)
        XCTAssertEqual(t.ikeRow(spiI: 1, spiR: 2)?.encryption, .ENCR_AES_GCM_16(keyBits: 128))
        XCTAssertEqual(t.ikeRow(spiI: 1, spiR: 2)?.line.hasSuffix(",\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\""), true)
    }

    func testESPRowRoundTripAndDecrypt() throws {
        for (enc, integ) in [(EncryptionAlgorithm.ENCR_AES_CBC(keyBits: 128), IntegrityAlgorithm?.some(.AUTH_HMAC_SHA1_96)),
                             (.ENCR_AES_GCM_16(keyBits: 256), nil), (.ENCR_AES_CBC(keyBits: 256), .AUTH_HMAC_SHA2_256_128)] {
            let t = try ESPTransform(encryption: enc, encryptionKey: SecureRandom.bytes(enc.keyMaterialLength), integrity: integ,
                                     integrityKey: SecureRandom.bytes(integ?.keyLength ?? 0))
            let sa = ESPSecurityAssociation(spi: 0xC000_0001, direction: .outbound, transform: t)
            let text = WiresharkESPSA.row(sa: sa, source: "203.0.113.2", destination: "203.0.113.1")
            var tables = KeyTables()
            tables.addESPTable(text)
            let row = try XCTUnwrap(tables.esp.first, "\(tables.problems)")
            XCTAssertEqual(row.line, text)
            XCTAssertEqual(row.encryption, enc)
            XCTAssertTrue(row.matches(source: "203.0.113.2", destination: "203.0.113.1"))
            XCTAssertFalse(row.matches(source: "203.0.113.9", destination: "203.0.113.1"))
            let inner = IPPacket.udp4(src: [198, 51, 100, 2], dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: Array("BYE".utf8))
            var esp = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: sa) }.get()
            let inSA = try XCTUnwrap(row.makeSAs().first)
            let out = esp.withUnsafeMutableBytes { ESPPacket.open($0, sa: inSA) }
            guard case let .inner(range, nh, _) = out else { return XCTFail("\(enc): \(out)") }
            XCTAssertEqual(nh, 4)
            XCTAssertEqual(Array(esp[range]), inner)
        }
    }

    func testKeysFoundInLogLines() {
        let ike = WiresharkIKEv2Table.row(spii: 7, spir: 8, encryption: .ENCR_AES_CBC(keyBits: 128), skEi: [UInt8](repeating: 1, count: 16),
                                          skEr: [UInt8](repeating: 2, count: 16), integrity: .AUTH_HMAC_SHA1_96, skAi: [UInt8](repeating: 3, count: 20), skAr: [UInt8](repeating: 4, count: 20))
        let fields: [String] = ["IPv4", "203.0.113.2", "203.0.113.1", "0x0000abcd", "AES-CBC [RFC3602]", "0x000102030405060708090a0b0c0d0e0f",
                                "HMAC-SHA-1-96 [RFC2404]", "0x0001020304050607080910111213141516171819"]
        let esp: String = fields.map { "\"" + $0 + "\"" }.joined(separator: ",")
        var t = KeyTables()
        let log: String = "12:00:00 [IKEV2] keylog ikev2_decryption_table: " + ike + "\n12:00:01 [ESP] keylog esp_sa: " + esp + "\nunrelated \"x\",\"y\"\n"
        t.addFromLog(log)
        t.addFromLog("keylog: " + KeyTables.parse(ike).line.replacingOccurrences(of: "0000000000000007", with: "0000000000000017"))
        XCTAssertEqual(t.ike.map(\.spiI), [7, 0x17])
        XCTAssertEqual(t.esp.map(\.spi), [0xabcd])
    }

    func testKeyLogWriterAppendsWholeRowsFromManyThreads() throws {
        let w = try KeyLogWriter(directory: dir + "/keys")
        func row(_ i: Int) -> String {
            let ei = [UInt8](repeating: UInt8(i & 0xFF), count: 16), er = [UInt8](repeating: 2, count: 16)
            let ai = [UInt8](repeating: 3, count: 20), ar = [UInt8](repeating: 4, count: 20)
            return WiresharkIKEv2Table.row(spii: UInt64(i + 1), spir: UInt64(1000 + i), encryption: .ENCR_AES_CBC(keyBits: 128), skEi: ei,
                                           skEr: er, integrity: .AUTH_HMAC_SHA1_96, skAi: ai, skAr: ar)
        }
        let rows: [String] = (0..<200).map(row)
        DispatchQueue.concurrentPerform(iterations: rows.count) { i in w.appendIKEv2Row(rows[i]) }
        w.appendIKEv2Row(rows[0])   // duplicate, written once
        // Rows are on disk at once (no buffering): read while the writer is still open.
        let text = try String(contentsOfFile: dir + "/keys/ikev2_decryption_table", encoding: .utf8)
        XCTAssertEqual(Set(text.split(separator: "\n").map(String.init)), Set(rows.map { KeyTables.parse($0).line }))
        XCTAssertEqual(text.split(separator: "\n").count, 200)
        let t = KeyTables.load(directory: dir + "/keys")
        XCTAssertEqual(t.ike.count, 200)
        XCTAssertTrue(t.problems.isEmpty)
        // A second writer appends rather than truncating.
        let w2 = try KeyLogWriter(directory: dir + "/keys")
        w2.appendIKEv2Row(row(5000))
        XCTAssertEqual(KeyTables.load(directory: dir + "/keys").ike.count, 201)
    }
}

extension KeyTables {
    static func parse(_ row: String) -> IKEv2KeyRow {
        var t = KeyTables()
        t.addIKEv2Table(row)
        return t.ike[0]
    }
}

/// Key rows as the running core quotes them in its log (ikev2.key=1, ipsec.key=1).
final class LogKeyLineTests: XCTestCase {
    func testKeyTablesReadTheCoresKeyLines() throws {
        let log = """
        08:47:38.247 [IKEV2] - a2e45c50a25430e3 IKE SA keys SPIi=0xa2e45c50a25430e3 SPIr=0xfa88ddb0124cdbb1 ENCR_AES_CBC_128/AUTH_HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048
          SK_d=86163ff20dd8e59eccb5f923897a1568bf7868902d40845726d92d6c9a373364
          SK_ei=e9576113dda8e377e21c5c0cbf3a5351
          ikev2_decryption_table: a2e45c50a25430e3,fa88ddb0124cdbb1,e9576113dda8e377e21c5c0cbf3a5351,6fe6ae317d50993a732d2f3f559a97b3,"AES-CBC-128 [RFC3602]",94cf0af7e6c776c3485c4f685cd972ab04479c236fec8a17c9801601d6cbbfb4,00f4f380ffd24431b27fda35f2efc7b609038351d44abf0144e5ae955582715d,"HMAC_SHA2_256_128 [RFC4868]"
        08:47:38.260 [IPSEC] - 001010000000001 esp_sa: "IPv4","127.238.160.2","127.238.160.1","0x89ea1b29","AES-CBC [RFC3602]","0xb4700e44052b991c68edee369b78395c","HMAC-SHA-1-96 [RFC2404]","0x394a7176cfc1d8782d4da3e3466d67200dcdd013"
        08:47:38.260 [IPSEC] - 001010000000001 Add IPsec SA out: Tunnel src=127.238.160.1:500 dst=127.238.160.2:33157 src=0.0.0.0:0/0 dst=192.168.4.2:0/32 spi=0x4a5bddc3 auth=hmac-sha-1-96 0xdae6f45017530579efbb29601620fd56cd5aab9c cipher=aes-cbc 0x0b1e277c23f055c2d0ee1ff773d6c2f7
        """
        var t = KeyTables()
        t.addFromLog(log)
        XCTAssertEqual(t.ike.count, 1)
        let row = try XCTUnwrap(t.ikeRow(spiI: 0xa2e45c50a25430e3, spiR: 0xfa88ddb0124cdbb1))
        XCTAssertEqual(row.encryption, .ENCR_AES_CBC(keyBits: 128))
        XCTAssertEqual(row.integrity, .AUTH_HMAC_SHA2_256_128)
        XCTAssertEqual(row.skEr, [UInt8](hex: "6fe6ae317d50993a732d2f3f559a97b3"))
        XCTAssertEqual(t.esp.count, 1)
        XCTAssertEqual(t.esp.first?.spi, 0x89ea1b29)
        XCTAssertEqual(t.esp.first?.source, "127.238.160.2")
        XCTAssertEqual(t.esp.first?.integrityKey, [UInt8](hex: "394a7176cfc1d8782d4da3e3466d67200dcdd013"))
        XCTAssertTrue(t.problems.isEmpty, "\(t.problems)")
    }
}
