import XCTest
@testable import Wire

final class IPPacketTests: XCTestCase {
    func testUDP4RoundTripAndChecksums() {
        let p = IPPacket.udp4(src: [198, 51, 100, 2], dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: Array("hello".utf8))
        XCTAssertEqual(p.count, 33)
        // A correct IPv4 header checksums to zero.
        XCTAssertEqual(IPPacket.checksum(p[0..<20]), 0)
        let v = IPPacket.parseUDP(p)
        XCTAssertEqual(v?.payload, Array("hello".utf8))
        XCTAssertEqual(v?.sport, 5060)
        XCTAssertEqual(v?.src, [198, 51, 100, 2])
        // UDP checksum over pseudo-header + datagram verifies to zero too.
        let pseudo: [UInt8] = [198, 51, 100, 2, 198, 51, 100, 1, 0, 17, 0, 13]
        XCTAssertEqual(IPPacket.checksum(pseudo + p[20...]), 0)
    }

    func testUDP6() {
        let src = [UInt8](repeating: 0, count: 15) + [1], dst = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        let p = IPPacket.udp6(src: src, dst: dst, sport: 1, dport: 2, payload: [1, 2, 3])
        XCTAssertEqual(IPPacket.parseUDP(p)?.dst, dst)
        XCTAssertNil(IPPacket.parseUDP(Array(p.prefix(45))))
    }

    func testPcapNGFileIsReadByTshark() throws {
        let path = NSTemporaryDirectory() + "vowifi-pcapng-\(getpid()).pcapng"
        let w = try PcapNGWriter(path: path)
        let i = w.addInterface(name: "inner")
        w.write(interface: i, packet: IPPacket.udp4(src: [198, 51, 100, 2], dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: Array("OPTIONS sip:x SIP/2.0\r\n\r\n".utf8)), comment: "IMSI 001010000000001")
        w.close()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { throw XCTSkip("tshark not installed") }
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        proc.arguments = ["-r", path, "-T", "fields", "-e", "ip.src", "-e", "udp.dstport", "-e", "frame.comment"]
        let out = Pipe(); proc.standardOutput = out; proc.standardError = Pipe()
        try proc.run(); proc.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("198.51.100.2\t5060"), text)
        XCTAssertTrue(text.contains("IMSI 001010000000001"), text)
        try? FileManager.default.removeItem(atPath: path)
    }
}
