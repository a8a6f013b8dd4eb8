import Foundation
import Glibc
import IKEv2
import TestSupport
import XCTest
@testable import Runtime

/// The second authentication (additional_ue_auth_type) over real loopback UDP: the core built
/// from a copy of config/mme-ims.cfg with `additional_ue_auth_type` set and the "ims" PDN's
/// username/password, and our phone with the PDN credentials.
final class SecondAuthUDPTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vowifi-2nd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// The shipped config, copied with its certificates and SIMs, then edited.
    func makeCore(method: String) throws -> VoWiFiCore {
        let src = Vectors.repoRoot.appendingPathComponent("config").path
        for f in try FileManager.default.contentsOfDirectory(atPath: src) where f.hasSuffix(".cfg") || f.hasSuffix(".pem") {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        var mme = try String(contentsOfFile: dir + "/mme-ims.cfg", encoding: .utf8)
        mme = mme.replacingOccurrences(of: "  mobike: true,\n", with: "  mobike: true,\n  additional_ue_auth_type: \"\(method)\",\n")
        mme = mme.replacingOccurrences(of: "    access_point_name: \"ims\",\n", with: "    access_point_name: \"ims\",\n    username: \"alice\", password: \"pdn-pass\",\n")
        XCTAssertTrue(mme.contains("additional_ue_auth_type: \"\(method)\"") && mme.contains("username: \"alice\""), "config edit failed")
        try mme.write(toFile: dir + "/mme-ims.cfg", atomically: true, encoding: .utf8)
        var o = CoreOptions(mmeConfigPath: dir + "/mme-ims.cfg", imsConfigPath: dir + "/ims.cfg", innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0
        o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"
        o.logFile = dir + "/core.log"
        o.logOptions = "all.level=debug"
        return try VoWiFiCore(options: o)
    }

    func attach(method: String, password: String) throws -> (LoopbackAttach, String) {
        let core = try makeCore(method: method)
        try core.start()
        defer { core.stop() }
        let (ike, natt) = try XCTUnwrap(core.group).loops[0].submit { [core] in (core.epdg!.ikeAddress, core.epdg!.natTAddress) }
        let a = try LoopbackAttach.run(ikePort: ike.port, natTPort: natt.port, pdnUsername: "alice", pdnPassword: password)
        usleep(100_000)
        return (a, (try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "")
    }

    func testCHAPOverUDP() throws {
        let (a, log) = try attach(method: "chap", password: "pdn-pass")
        XCTAssertNotNil(a.child, "no Child SA: \(a.ue.state)\n\(log.suffix(4000))")
        XCTAssertEqual(a.ue.state, .established)
        XCTAssertEqual(a.ue.assigned?.ipv4?.bytes.prefix(3), [192, 168, 4])
        XCTAssertTrue(log.contains("second authentication success: IMSI 001010000000001 APN ims EAP-MD5-Challenge (chap) user 'alice'"), String(log.suffix(4000)))
        // The decoded-message log names the method on the wire.
        XCTAssertTrue(log.contains("[EAP(Request/EAP-MD5-Challenge)]"), String(log.suffix(4000)))
        XCTAssertTrue(log.contains("[EAP(Response/EAP-MD5-Challenge)]"), String(log.suffix(4000)))
        XCTAssertTrue(log.contains("N(MULTIPLE_AUTH_SUPPORTED)"), String(log.prefix(4000)))
    }

    func testPAPOverUDP() throws {
        let (a, log) = try attach(method: "pap", password: "pdn-pass")
        XCTAssertNotNil(a.child, "no Child SA: \(a.ue.state)\n\(log.suffix(4000))")
        XCTAssertTrue(log.contains("second authentication success: IMSI 001010000000001 APN ims EAP-GTC (pap) user 'alice'"), String(log.suffix(4000)))
        XCTAssertTrue(log.contains("[EAP(Request/EAP-GTC)]"), String(log.suffix(4000)))
        XCTAssertFalse(log.contains("pdn-pass"), "the PAP password must not reach the log")
    }

    func testWrongPasswordOverUDP() throws {
        let (a, log) = try attach(method: "pap", password: "wrong")
        XCTAssertNil(a.child)
        XCTAssertEqual(a.ue.state, .failed(reason: "IKE_AUTH rejected with AUTHENTICATION_FAILED", notify: .AUTHENTICATION_FAILED))
        XCTAssertTrue(log.contains("second authentication failed: IMSI 001010000000001 APN ims EAP-GTC (pap) user 'alice': password mismatch"), String(log.suffix(4000)))
    }
}
