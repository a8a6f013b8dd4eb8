import ESP
import Foundation
import Glibc
import IKEv2
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// A phone without NAT and without forced NAT-T (ports 500/500) gets a Child SA without UDP
/// encapsulation: its ESP travels as IP protocol 50 and the ePDG answers the same way.
/// Needs root (ports 500 and a raw socket); on loopback addresses of its own.
final class PlainESPTests: XCTestCase {
    func testPlainESPBothWays() throws {
        guard geteuid() == 0 else { throw XCTSkip("plain ESP needs root (raw sockets, port 500)") }
        let net = "127.\(UInt8.random(in: 20...250)).\(UInt8.random(in: 1...250))"
        let epdgIP = net + ".1", phoneIP = net + ".2"
        let dir = NSTemporaryDirectory() + "vowifi-plainesp-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = CoreOptions(mmeConfigPath: Vectors.repoRoot.appendingPathComponent("config/mme-ims.cfg").path,
                            imsConfigPath: Vectors.repoRoot.appendingPathComponent("config/ims.cfg").path, innerPath: .inProcess)
        o.epdgHost = epdgIP; o.ikePort = 500; o.natTPort = 4500; o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"; o.logFile = dir + "/core.log"
        let core = try VoWiFiCore(options: o)
        try core.start()
        defer { core.stop() }
        XCTAssertNotNil(core.cluster?.rawESP, core.cluster?.rawESPUnavailable ?? "")

        // The phone on port 500 of its own address: no NAT detected, no UDP encapsulation.
        let attach = try LoopbackAttach.run(host: phoneIP, port: 500, epdgHost: epdgIP, ikePort: 500, natTPort: 4500)
        let c = try XCTUnwrap(attach.child, "attach failed: \(attach.ue.state)")
        XCTAssertFalse(c.udpEncapsulation)
        let innerV4 = try XCTUnwrap(attach.ue.assigned?.ipv4)

        // The phone's raw ESP socket.
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), 50)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var me = sockaddr_in(); me.sin_family = sa_family_t(AF_INET); me.sin_addr.s_addr = inet_addr(phoneIP)
        _ = withUnsafePointer(to: &me) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let (out, inb) = try c.phoneSAs()
        let options = "OPTIONS sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r\nVia: SIP/2.0/UDP \(innerV4):5060;branch=z9hG4bKraw1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: plain-esp\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        let innerPacket = IPPacket.udp4(src: innerV4.bytes, dst: [192, 168, 4, 1], sport: 5060, dport: 5060, payload: Array(options.utf8))
        let esp = try innerPacket.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
        var to = sockaddr_in(); to.sin_family = sa_family_t(AF_INET); to.sin_addr.s_addr = inet_addr(epdgIP)
        _ = esp.withUnsafeBytes { b in withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } }

        // The IMS's answer comes back as plain ESP to the phone's address.
        var reply: String?
        let until = Date().addingTimeInterval(5)
        var buf = [UInt8](repeating: 0, count: 65536)
        while reply == nil, Date() < until {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) == 1 else { continue }
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 28 else { continue }
            let ihl = Int(buf[0] & 0x0F) * 4
            guard Array(buf[16..<20]) == phoneIP.split(separator: ".").compactMap({ UInt8($0) }) else { continue }
            var espIn = Array(buf[ihl..<n])
            guard case let .inner(range, _, _) = espIn.withUnsafeMutableBytes({ ESPPacket.open($0, sa: inb) }) else { continue }
            reply = IPPacket.parseUDP(Array(espIn[range])).map { String(decoding: $0.payload, as: UTF8.self) }
        }
        let r = try XCTUnwrap(reply, "no plain-ESP reply\n" + ((try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? ""))
        XCTAssertTrue(r.hasPrefix("SIP/2.0 200"), r)
    }
}
