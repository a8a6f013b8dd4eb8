import Foundation
import IMS
import SIP
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// The in-process inner path carries the phones' UDP only: a relayed INVITE over 1300 bytes
/// between two phones on that path stays on UDP (Via UDP), and the IMS host says why once
/// per phone (`largeRequestKeptOnUDP`), not for every request.
final class IMSHostInnerPathTests: XCTestCase {
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"
    static let pcscf: [UInt8] = [192, 168, 4, 1]

    func testLargeRequestToAnInProcessPhoneStaysOnUDPAndIsSaidOnce() throws {
        let inner = InProcessInnerNetwork()
        let toUE = Collector<[UInt8]>()
        inner.attach { toUE.append($0) }
        let lines = Collector<String>()
        let logger = try Logger(defaultLevel: .info, destination: .lines { lines.append($0) })
        let group = try EventLoopGroup(loopCount: 1, name: "ims-inner")
        defer { group.shutdown() }
        let cluster = IMSCluster(group: group, socketAddresses: [], inner: inner, logger: logger)
        try cluster.start(evidence: nil) { _, store in
            let subs = IMSMemorySubscribers(domain: Self.domain)
            for u in ["user1", "user2"] {
                subs.add(.init(subscriber: IMSSubscriber(impi: u, impus: [u], authentType: .md5, pwd: "pw-" + u), algorithm: nil))
            }
            return IMSCore(config: IMSConfig(domain: Self.domain, sipAddresses: ["192.168.4.1"]), subscribers: subs, store: store)
        }
        defer { cluster.stop() }
        let loop = group.loops[0]

        // Each phone speaks from its inner address; what the host sends back is collected.
        func exchange(_ m: SIPMessage, from ip: [UInt8]) throws -> [SIPMessage] {
            let before = toUE.count
            let pkt = IPPacket.udp4(src: ip, dst: Self.pcscf, sport: 5060, dport: 5060, payload: m.serialized())
            try loop.submit { inner.fromUE(pkt, owner: "imsi-\(ip[3])") }
            return toUE.values.dropFirst(before).compactMap { IPPacket.parseUDP($0).flatMap { try? SIPMessage(parsing: $0.payload) } }
        }
        func register(_ user: String, _ ip: [UInt8]) throws {
            let host = "192.168.4.\(ip[3]):5060"
            let ok = try SIPDigestRegistration.register(user: user, password: "pw-\(user)", domain: Self.domain, cnonce: "abc", request: { cseq, auth in
                try SIPMessage.testRequest("REGISTER", uri: "sip:" + Self.domain, via: "SIP/2.0/UDP \(host);branch=z9hG4bK\(user)\(cseq);rport",
                                           from: "<sip:\(user)@\(Self.domain)>;tag=\(user)", to: "<sip:\(user)@\(Self.domain)>",
                                           callID: "reg-\(user)", cseq: cseq, contact: "<sip:\(user)@\(host)>",
                                           headers: auth.map { [("Authorization", $0)] } ?? [])
            }, exchange: { try exchange($0, from: ip).last })
            XCTAssertTrue(ok, "\(user) not registered")
        }
        try register("user1", [192, 168, 4, 10])
        try register("user2", [192, 168, 4, 11])

        func bigInvite(_ n: Int) throws -> SIPMessage {
            var m = try SIPMessage.testRequest("INVITE", uri: "sip:user2@" + Self.domain, via: "SIP/2.0/UDP 192.168.4.10:5060;branch=z9hG4bKbig\(n);rport",
                                               from: "<sip:user1@\(Self.domain)>;tag=a\(n)", to: "<sip:user2@\(Self.domain)>", callID: "big-\(n)",
                                               contact: "<sip:user1@192.168.4.10:5060>", headers: [("Content-Type", "application/sdp")])
            m.body = Array(("v=0\r\n" + String(repeating: "a=fmtp:96 mode-change-capability=2;max-red=0\r\n", count: 40)).utf8)
            return m
        }
        for n in 1...2 {
            let fwd = try XCTUnwrap(try exchange(try bigInvite(n), from: [192, 168, 4, 10]).first { $0.method == "INVITE" })
            XCTAssertGreaterThan(fwd.serialized().count, 1300)
            XCTAssertEqual(try fwd.topVia().transport, "UDP", "no TCP on the in-process path")
            XCTAssertEqual(fwd.requestURI?.description, "sip:user2@192.168.4.11:5060")
        }
        let said = cluster.events().filter { if case .largeRequestKeptOnUDP = $0 { return true }; return false }.map { "\($0)" }
        XCTAssertEqual(said.count, 1, "once per phone: \(said)")
        XCTAssertTrue(said.first?.contains("in-process inner path") ?? false, "\(said)")
        XCTAssertTrue(lines.values.contains { $0.contains("largeRequestKeptOnUDP") }, "logged")
    }
}
