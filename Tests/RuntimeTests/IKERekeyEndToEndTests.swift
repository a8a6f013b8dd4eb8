import AKA
import Crypto
import ESP
import Foundation
@testable import IKEv2
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// The ePDG (4 shards) rekeys a phone's IKE SA at 90% of ike_duration 20 s over real
/// loopback UDP: the phone follows, the old SPIs are gone, the new SA (where the phone is
/// the responder, I flag clear) carries a Child SA rekey, and SIP still flows through ESP.
final class IKERekeyEndToEndTests: XCTestCase {
    func testEPDGRekeysThePhonesIKESAAndTheSessionGoesOn() throws {
        let dir = NSTemporaryDirectory() + "vowifi-ikerekey-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = Vectors.repoRoot.appendingPathComponent("config").path
        let cfg = dir + "/mme-rekey.cfg"
        try """
        include "\(root)/mme-ims.cfg",
        epdg: { ike_duration: 20, certificate: "\(root)/epdg_cert.pem", private_key: "\(root)/epdg_private_key.pem" },
        """.write(toFile: cfg, atomically: true, encoding: .utf8)
        var o = CoreOptions(mmeConfigPath: cfg, imsConfigPath: Vectors.repoRoot.appendingPathComponent("config/ims.cfg").path, innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0; o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"; o.logFile = dir + "/core.log"; o.logOptions = "all.level=debug,ikev2.key=1"
        o.keyLogDirectory = dir + "/keys"; o.loops = 4
        let core = try VoWiFiCore(options: o)
        try core.start()
        defer { core.stop() }
        let cluster = try XCTUnwrap(core.cluster)
        let (ike, natt) = (cluster.ikeAddress, cluster.natTAddress)
        func coreLog() -> String { (try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "" }

        let attach = try LoopbackAttach.run(ikePort: ike.port, natTPort: natt.port, forceUDPEncapsulation: true)
        let (sock, ue) = (attach.sock, attach.ue)
        _ = try XCTUnwrap(attach.child, "no Child SA: \(ue.state)")
        let (oldI, oldR) = (ue.spiI, ue.spiR)
        let epdgIP = IPAddress("127.0.0.1")!
        let ueEnd = IKEEndpoint(epdgIP, sock.port)

        // The phone's side of the wire: IKE in (after the non-ESP marker) to the initiator, its sends out.
        var installed: [ChildSADescription] = []
        func perform(_ actions: [IKEAction]) {
            for a in actions {
                switch a {
                case let .send(bytes, _, to): sock.send(to.port == natt.port ? [0, 0, 0, 0] + bytes : bytes, port: to.port)
                case let .installChildSA(d): installed.append(d)
                default: break
                }
            }
        }
        func pump(seconds: Double, until done: () -> Bool) {
            let deadline = Date().addingTimeInterval(seconds)
            while !done(), Date() < deadline {
                let now = Date().timeIntervalSince1970
                if let (d, from) = sock.receive(timeout: 0.2), from == natt.port, d.count > 4, d.prefix(4) == [0, 0, 0, 0] {
                    perform(ue.handle(datagram: Array(d.dropFirst(4)), from: IKEEndpoint(epdgIP, from), to: ueEnd, now: now))
                }
                perform(ue.poll(now: now))
            }
        }

        // Rekey at 18 s; the phone answers, then gets the Delete of the old SA.
        pump(seconds: 30) { ue.spiI != oldI && ue.retired.isEmpty }
        XCTAssertNotEqual(ue.spiI, oldI, "no IKE SA rekey from the ePDG\n\(coreLog())")
        XCTAssertFalse(ue.isInitiator, "the ePDG started the rekey: it is the new SA's initiator")
        XCTAssertTrue(ue.retired.isEmpty, "the old SA was deleted by the ePDG")
        XCTAssertEqual(ue.state, .established)
        XCTAssertEqual(cluster.group.shard(for: ue.spiI), cluster.group.shard(for: oldR), "the ePDG's new SPI stays on the UE's shard")
        // The phone has answered the Delete; the ePDG's loop logs its end a moment later.
        var log = coreLog()
        let logDeadline = Date().addingTimeInterval(3)
        while !log.contains("rekeyed; old IKE SA deleted"), Date() < logDeadline {
            Thread.sleep(forTimeInterval: 0.05)
            log = coreLog()
        }
        XCTAssertTrue(log.contains("of ike_duration 20 s: rekeying it"), log)
        XCTAssertTrue(log.contains("initiated by the ePDG"), log)
        XCTAssertTrue(log.contains("rekeyed; old IKE SA deleted"), log)

        // The key table has a row for the new SA, so captures still decrypt.
        let table = try String(contentsOfFile: dir + "/keys/ikev2_decryption_table", encoding: .utf8)
        let keys = try XCTUnwrap(ue.keys)
        XCTAssertTrue(table.contains(WiresharkIKEv2Table.row(spii: ue.spiI, spir: ue.spiR, encryption: try XCTUnwrap(ue.suite).encryption,
                                                             skEi: keys.SK_ei, skEr: keys.SK_er, integrity: ue.suite?.integrity,
                                                             skAi: keys.SK_ai, skAr: keys.SK_ar)), table)
        XCTAssertEqual(table.split(separator: "\n").count, 2)
        // ikev2.key=1: the new SA's SK_* are in the log too.
        XCTAssertTrue(log.contains("SK_ei=\(Hex.encode(keys.SK_ei))") && log.contains("SK_er=\(Hex.encode(keys.SK_er))"), log)

        // The old SPIs are gone: a request on them gets INVALID_IKE_SPI.
        let stale = IKEMessage(header: IKEHeader(spiI: oldI, spiR: oldR, exchangeType: .INFORMATIONAL, isInitiator: true, isResponse: false, messageID: 9),
                               payloads: []).serialize()
        sock.send([0, 0, 0, 0] + stale, port: natt.port)
        var invalidSPI = false
        let until = Date().addingTimeInterval(3)
        while !invalidSPI, Date() < until {
            guard let (d, _) = sock.receive(timeout: 0.3), d.prefix(4) == [0, 0, 0, 0], let m = try? IKEMessage(parsing: Array(d.dropFirst(4))) else { continue }
            invalidSPI = m.header.spiI == oldI && m.payloads.notify(.INVALID_IKE_SPI) != nil
        }
        XCTAssertTrue(invalidSPI, "the old IKE SA still answers\n\(coreLog())")

        // A Child SA rekey by the phone over the new SA (dispatched by SPIi, I flag clear).
        installed = []
        perform(ue.rekeyChildSA(now: Date().timeIntervalSince1970))
        pump(seconds: 5) { !installed.isEmpty && ue.children.count == 1 }
        let c = try XCTUnwrap(installed.first, "no Child SA rekey over the new IKE SA\n\(coreLog())")
        XCTAssertEqual(c.ikeSPIi, ue.spiI)

        // SIP through the new Child SA: the IMS answers 401.
        let innerV4 = try XCTUnwrap(ue.assigned?.ipv4)
        let (out, inb) = try c.phoneSAs()
        let domain = "ims.mnc001.mcc001.3gppnetwork.org"
        let register = "REGISTER sip:\(domain) SIP/2.0\r\nVia: SIP/2.0/UDP \(innerV4):5060;branch=z9hG4bKrekey1;rport\r\nMax-Forwards: 70\r\n"
            + "From: <sip:001010000000001@\(domain)>;tag=rk\r\nTo: <sip:001010000000001@\(domain)>\r\nCall-ID: rekey-register\r\nCSeq: 1 REGISTER\r\n"
            + "Contact: <sip:001010000000001@\(innerV4):5060>;expires=600\r\n"
            + "Authorization: Digest username=\"001010000000001@\(domain)\",realm=\"\(domain)\",uri=\"sip:\(domain)\",nonce=\"\",response=\"\"\r\nContent-Length: 0\r\n\r\n"
        let inner = IPPacket.udp4(src: innerV4.bytes, dst: [192, 168, 4, 1], sport: 5060, dport: 5060, payload: Array(register.utf8))
        sock.send(try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get(), port: natt.port)
        var reply: String?
        let sipUntil = Date().addingTimeInterval(5)
        while reply == nil, Date() < sipUntil {
            guard var (d, _) = sock.receive(timeout: 0.5), d.prefix(4) != [0, 0, 0, 0] else { continue }
            guard case let .inner(range, _, _) = d.withUnsafeMutableBytes({ ESPPacket.open($0, sa: inb) }) else { continue }
            if let u = IPPacket.parseUDP(Array(d[range])) { reply = String(decoding: u.payload, as: UTF8.self) }
        }
        let r = try XCTUnwrap(reply, "no SIP reply through the tunnel after the IKE rekey\n\(coreLog())")
        XCTAssertTrue(r.hasPrefix("SIP/2.0 401"), r)
    }

    func testDispatchKeyFollowsTheIFlag() {
        // SPIi 0x11.., SPIr 0x22..: from the original initiator (I set) our SPI is SPIr; from
        // the responder of an SA the ePDG rekeyed (I clear) it is SPIi.
        var b = [UInt8](repeating: 0x11, count: 8) + [UInt8](repeating: 0x22, count: 8) + [46, 0x20, 37, 0x08] + [0, 0, 0, 1, 0, 0, 0, 28]
        XCTAssertEqual(b.withUnsafeBytes { EPDGCluster.ikeKey($0, offset: 0) }, 0x2222_2222_2222_2222)
        b[19] = 0x20
        XCTAssertEqual(b.withUnsafeBytes { EPDGCluster.ikeKey($0, offset: 0) }, 0x1111_1111_1111_1111)
        b[19] = 0x08
        for i in 8..<16 { b[i] = 0 }
        XCTAssertEqual(b.withUnsafeBytes { EPDGCluster.ikeKey($0, offset: 0) }, 0x1111_1111_1111_1111, "IKE_SA_INIT: SPIi")
    }
}
