import AAA
import Foundation
import TestSupport
import XCTest
@testable import Runtime

/// The `radius` object of the MME config starts the AAA with the core: an access point's
/// EAP-Response/Identity gets an Access-Challenge carrying the EAP-AKA Challenge, and a
/// request signed with the wrong secret gets nothing.
final class RADIUSWiringTests: XCTestCase {
    func testRADIUSFromConfigAnswersAnAccessPoint() throws {
        let dir = NSTemporaryDirectory() + "vowifi-radius-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = UInt16.random(in: 40000...49000)
        let repo = Vectors.repoRoot.path
        try """
        include "\(repo)/config/mme-ims.cfg",
        radius: { bind_addr: "127.0.0.1:\(port)", clients: [{ addr: "127.0.0.1", secret: "testing123" }] },
        """.write(toFile: dir + "/mme.cfg", atomically: true, encoding: .utf8)
        var o = CoreOptions(mmeConfigPath: dir + "/mme.cfg", imsConfigPath: repo + "/config/ims.cfg", innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0; o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"; o.logFile = dir + "/log"
        let core = try VoWiFiCore(options: o)
        try core.start()
        defer { core.stop() }
        XCTAssertEqual(core.radius?.port, port)
        XCTAssertTrue(core.summary().contains("RADIUS 127.0.0.1:\(port)"), core.summary())

        // EAP-Response/Identity for a permanent EAP-AKA identity.
        let identity = Array("0001010000000001@wlan.mnc001.mcc001.3gppnetwork.org".utf8)
        let eap: [UInt8] = [2, 1, UInt8((5 + identity.count) >> 8), UInt8((5 + identity.count) & 0xFF), 1] + identity
        var req = RADIUSPacket(code: .accessRequest, identifier: 7,
                               attributes: [RADIUSAttribute(type: RADIUSAttributeType.userName, value: identity)]
                                   + RADIUSPacket.eapMessageAttributes(eap)
                                   + [RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16))])
        let sock = try LoopbackUDP()
        sock.send(try RADIUSAuthenticator.signRequest(req, secret: Array("testing123".utf8)), port: port)
        let (reply, _) = try XCTUnwrap(sock.receive(timeout: 3), "no RADIUS reply")
        let packet = try RADIUSPacket(parsing: reply)
        XCTAssertEqual(packet.code, .accessChallenge)
        let challenge = try XCTUnwrap(packet.eapMessage)
        XCTAssertEqual(challenge[0], 1)      // EAP-Request
        XCTAssertEqual(challenge[4], 23)     // EAP-AKA
        XCTAssertEqual(challenge[5], 1)      // AKA-Challenge

        // Wrong shared secret: silently dropped (RFC 2865 §3).
        req.identifier = 8
        sock.send(try RADIUSAuthenticator.signRequest(req, secret: Array("wrong".utf8)), port: port)
        XCTAssertNil(sock.receive(timeout: 0.5))
    }
}
