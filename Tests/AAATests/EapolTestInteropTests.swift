import AKA
import Crypto
import Foundation
import HSS
import XCTest
@testable import AAA

/// EAP-AKA/AKA' over RADIUS against a real peer: eapol_test with an external USIM.
final class EapolTestInteropTests: XCTestCase {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010000000001"
    static let secret = "testing123"

    var hss: HSS!
    var udp: RADIUSUDPServer!
    let rec = Recorder()

    override func setUpWithError() throws {
        guard EapolTestRunner.available else { throw XCTSkip("eapol_test not installed (Debian package eapoltest)") }
        hss = try HSS(subscribers: [Subscriber(imsi: Self.imsi, algorithm: .milenage, k: Self.k, opc: Self.opc)])
        let rec = rec
        udp = try RADIUSUDPServer(bindAddress: "127.0.0.1", port: 0, clients: ["127.0.0.1": Self.secret], hss: hss,
                                  log: { level, line in rec.log(level, line) },
                                  onEvent: { _, e in rec.record(e) })
        try udp.start()
    }

    override func tearDown() {
        udp?.stop()
        udp = nil
    }

    func usim(k: [UInt8] = k, lastSQN: SQN = .zero) throws -> SIMResponder {
        SIMResponder(usim: try USIM(algorithm: .milenage(try Milenage(k: k, opc: Self.opc)), lastSQN: lastSQN))
    }

    var accepted: [EAPAKAResult] { rec.accepted }

    func assertSuccess(_ run: EapolTestRunner.Run, method: EAPAKAMethod, identity: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(run.succeeded, "eapol_test failed (exit \(run.exitCode)):\n\(run.output.suffix(3000))", file: file, line: line)
        XCTAssertTrue(run.output.contains("MPPE keys OK: 1  mismatch: 0"), "MPPE keys do not match the peer's MSK", file: file, line: line)
        guard let ours = accepted.last else { return XCTFail("server recorded no Access-Accept", file: file, line: line) }
        XCTAssertEqual(ours.method, method, file: file, line: line)
        XCTAssertEqual(ours.imsi, Self.imsi, file: file, line: line)
        XCTAssertEqual(ours.identity, identity, file: file, line: line)
        XCTAssertEqual(ours.msk.count, 64, file: file, line: line)
        if let theirs = run.msk { XCTAssertEqual(theirs, ours.msk, "MSK differs from eapol_test's", file: file, line: line) }
        else { XCTFail("eapol_test printed no MSK", file: file, line: line) }
    }

    func testEAPAKASuccess() throws {
        let identity = "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org"
        let run = try EapolTestRunner.run(method: "AKA", identity: identity, sim: try usim(),
                                          serverPort: udp.port, secret: Self.secret)
        assertSuccess(run, method: .aka, identity: identity)
        XCTAssertEqual(run.sim.outcomes, ["auth"])
    }

    func testEAPAKAPrimeSuccess() throws {
        let identity = "6\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"
        let run = try EapolTestRunner.run(method: "AKA'", identity: identity, sim: try usim(),
                                          serverPort: udp.port, secret: Self.secret)
        assertSuccess(run, method: .akaPrime, identity: identity)
        XCTAssertEqual(run.sim.outcomes, ["auth"])
    }

    func testResynchronisation() throws {
        // The card has already seen SEQ 1000: the HSS's first AUTN (SEQ 1) is stale.
        let identity = "0\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"
        let run = try EapolTestRunner.run(method: "AKA", identity: identity,
                                          sim: try usim(lastSQN: try SQN(seq: 1000, ind: 0)),
                                          serverPort: udp.port, secret: Self.secret)
        assertSuccess(run, method: .aka, identity: identity)
        XCTAssertEqual(run.sim.outcomes, ["auts", "auth"])
        XCTAssertEqual(hss.currentSEQ(imsi: Self.imsi), 1001, "HSS continues just above SEQ_MS")
    }

    func testWrongKOnTheSIMFails() throws {
        var wrongK = Self.k
        wrongK[0] ^= 0x01
        let identity = "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org"
        let run = try EapolTestRunner.run(method: "AKA", identity: identity, sim: try usim(k: wrongK),
                                          serverPort: udp.port, secret: Self.secret)
        XCTAssertFalse(run.succeeded)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertEqual(run.sim.outcomes, ["mac-failure"])
        XCTAssertTrue(accepted.isEmpty)
        XCTAssertTrue(rec.rejected(containing: "Authentication-Reject"),
                      "expected an Access-Reject after AKA-Authentication-Reject; events: \(rec.allEvents)")
    }

    func testWrongSharedSecretGetsNoAnswer() throws {
        let identity = "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org"
        let run = try EapolTestRunner.run(method: "AKA", identity: identity, sim: try usim(),
                                          serverPort: udp.port, secret: "not-the-secret", timeout: 3)
        XCTAssertFalse(run.succeeded)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.sim.outcomes.isEmpty, "no challenge may reach the peer")
        XCTAssertTrue(accepted.isEmpty)
        XCTAssertGreaterThanOrEqual(rec.discarded(containing: "Message-Authenticator does not verify"), 1)
        XCTAssertTrue(rec.allLines.contains { $0.contains("Message-Authenticator does not verify") })
    }
}
