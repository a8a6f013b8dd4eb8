import XCTest
import Crypto
import Wire
import IKEv2
@testable import Analysis

/// Captures made by the real IKEv2 state machines, analyzed as `vowifi analyze` does.
final class FlowAnalyzerTests: XCTestCase {
    func goodCapture(_ name: String) throws -> CaptureBuilder {
        let b = try CaptureBuilder(name: name)
        try b.attach()
        XCTAssertEqual(b.ue.state, .established)
        try b.register()
        try b.subscribe()
        try b.call()
        b.detach()
        return b
    }

    func testGoodAttachRegisterCallAllStepsPass() throws {
        let b = try goodCapture("good")
        defer { b.cleanup() }
        let report = try b.analyze()
        let ladder = LadderRenderer.render(report)
        XCTAssertEqual(report.flows.count, 1, ladder)
        let f = report.flows[0]
        XCTAssertTrue(report.passed, ladder)
        XCTAssertEqual(f.steps.map(\.kind), StepKind.allCases)
        for s in f.steps { XCTAssertEqual(s.verdict, .pass, "\(s.kind): \(s.summary) \(s.explanation ?? "")") }
        XCTAssertEqual(f.imsi, CaptureBuilder.imsi)
        XCTAssertEqual(f.ueAddress, "203.0.113.50")
        XCTAssertEqual(f.epdgAddress, "203.0.113.1")
        XCTAssertEqual(f.innerAddresses, ["198.51.100.2"])
        XCTAssertEqual(f.pcscf, ["198.51.100.1"])
        let child = try XCTUnwrap(b.child)
        let childStep = try XCTUnwrap(f.step(.childSA))
        XCTAssertTrue(childStep.summary.contains("0x" + hex8(child.inboundSPI)), childStep.summary)
        XCTAssertTrue(childStep.summary.contains("0x" + hex8(child.outboundSPI)), childStep.summary)
        XCTAssertTrue(childStep.summary.contains("ENCR_AES_CBC_128/AUTH_HMAC_SHA1_96"), childStep.summary)
        XCTAssertTrue(f.step(.eapAKA)!.summary.contains("EAP-Success"))
        XCTAssertTrue(f.step(.register)!.summary.contains("REGISTER → 401 → REGISTER → 200"), f.step(.register)!.summary)
        XCTAssertTrue(f.step(.rtp)!.summary.contains("phone → IMS 50 packets (lost 0/50), IMS → phone 50 packets (lost 0/50)"), f.step(.rtp)!.summary)
        // The ladder names the decrypted EAP messages and SIP methods, in order.
        let labels = f.events.map(\.label)
        let order = ["IKE_SA_INIT SA KE", "EAP-Request/AKA-Challenge", "EAP-Response/AKA-Challenge (AT_RES, AT_MAC)", "EAP-Success",
                     "CP(CFG_REPLY)", "REGISTER", "401 Unauthorized", "REGISTER (Authorization)", "200 OK (REGISTER)",
                     "INVITE", "180 Ringing", "200 OK (INVITE)", "ACK", "RTP", "BYE", "200 OK (BYE)", "D(IKE)"]
        var at = 0
        for o in order {
            guard let i = labels[at...].firstIndex(where: { $0.contains(o) }) else { XCTFail("\(o) missing after \(labels[at...].first ?? "end")\n\(ladder)"); break }
            at = i
        }
        XCTAssertTrue(ladder.contains("all steps passed"), ladder)
        XCTAssertTrue(ladder.contains("|"), ladder)
    }

    /// Two phones in one capture are judged separately.
    func testTwoUEsAreSeparated() throws {
        let good = try goodCapture("two-a")
        defer { good.cleanup() }
        let bad = try CaptureBuilder(name: "two-b", ueHost: 77)
        defer { bad.cleanup() }
        try bad.attach(k: [UInt8](hex: "000102030405060708090a0b0c0d0e0f"))
        good.close(); bad.close()
        var keys = KeyTables.load(directory: good.keyDir)
        let other = KeyTables.load(directory: bad.keyDir)
        for r in other.ike { keys.add(r) }
        for r in other.esp { keys.add(r) }
        let packets = (try PcapNGReader(path: good.capturePath).packets + PcapNGReader(path: bad.capturePath).packets).sorted { $0.time < $1.time }
        let report = FlowAnalyzer(options: .init(keys: keys)).analyze(packets: packets)
        XCTAssertEqual(report.flows.map(\.ueAddress).sorted(), ["203.0.113.50", "203.0.113.77"])
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.flows.first { $0.ueAddress == "203.0.113.50" }?.passed, true, LadderRenderer.render(report))
        XCTAssertEqual(report.flows.first { $0.ueAddress == "203.0.113.77" }?.firstProblem?.kind, .eapAKA)
    }

    /// The keys can come from the ePDG's log alone (rows quoted in its key-log lines).
    func testKeysFromLogLines() throws {
        let b = try goodCapture("fromlog")
        defer { b.cleanup() }
        let ike = try String(contentsOfFile: b.keyDir + "/ikev2_decryption_table", encoding: .utf8)
        let esp = try String(contentsOfFile: b.keyDir + "/esp_sa", encoding: .utf8)
        let log = ike.split(separator: "\n").map { "2026-12-04T08:00:00Z [IKEV2] key: \($0)" }.joined(separator: "\n") + "\n"
            + esp.split(separator: "\n").map { "2026-12-04T08:00:00Z [ESP] esp_sa \($0)" }.joined(separator: "\n")
        try? FileManager.default.removeItem(atPath: b.keyDir + "/esp_sa")
        try? FileManager.default.removeItem(atPath: b.keyDir + "/ikev2_decryption_table")
        let report = try b.analyze(logText: log, keys: false)
        XCTAssertTrue(report.passed, LadderRenderer.render(report))
        XCTAssertFalse(report.notes.contains { $0.contains("without a working esp_sa row") }, "\(report.notes)")
    }

    /// IKE with the non-ESP marker and UDP-encapsulated ESP on port 4500 (RFC 3948).
    func testUDPEncapsulatedFlow() throws {
        let b = try CaptureBuilder(name: "natt", udp4500: true)
        defer { b.cleanup() }
        try b.attach()
        XCTAssertEqual(b.child?.udpEncapsulation, true)
        try b.register()
        try b.call(rtpPackets: 20)
        b.detach()
        let report = try b.analyze()
        XCTAssertTrue(report.passed, LadderRenderer.render(report))
        XCTAssertFalse(report.notes.contains { $0.contains("without a working esp_sa row") }, "\(report.notes)")
    }

    /// Without esp_sa the inner interface of our own capture still shows the SIP flow.
    func testInnerInterfaceWithoutESPKeys() throws {
        let b = try goodCapture("inner")
        defer { b.cleanup() }
        try? FileManager.default.removeItem(atPath: b.keyDir + "/esp_sa")
        let report = try b.analyze()
        XCTAssertTrue(report.passed, LadderRenderer.render(report))
        XCTAssertTrue(report.notes.contains { $0.contains("without a working esp_sa row") })
    }

    /// Without any keys IKE_AUTH cannot be read: the steps are inferred from ESP, and the
    /// explanation asks for the key table.
    func testNoKeysButInnerInterfaceInfersTheAttach() throws {
        let b = try goodCapture("infer")
        defer { b.cleanup() }
        let report = try b.analyze(keys: false)
        let f = try XCTUnwrap(report.flows.first)
        XCTAssertTrue(report.passed, LadderRenderer.render(report))
        XCTAssertTrue(f.step(.eapAKA)?.summary.contains("encrypted") == true)
        XCTAssertTrue(f.step(.cfgReply)?.summary.contains("inferred") == true)
    }

    func testNoKeysAsksForKeyTable() throws {
        let b = try CaptureBuilder(name: "nokeys")
        defer { b.cleanup() }
        try b.attach()
        let report = try b.analyze(keys: false)
        let f = try XCTUnwrap(report.flows.first)
        XCTAssertEqual(f.step(.ikeSAInit)?.verdict, .pass)
        XCTAssertEqual(f.step(.eapAKA)?.verdict, .missing)
        XCTAssertTrue(f.firstProblem?.explanation?.contains("--keys") == true, LadderRenderer.render(f))
    }

    func testWrongKFailsEAPWithExplanation() throws {
        let b = try CaptureBuilder(name: "wrongk")
        defer { b.cleanup() }
        try b.attach(k: [UInt8](hex: "000102030405060708090a0b0c0d0e0f"))
        if case .failed = b.ue.state {} else { XCTFail("attach should fail: \(String(describing: b.ue.state))") }
        let report = try b.analyze()
        let f = try XCTUnwrap(report.flows.first)
        XCTAssertFalse(report.passed)
        XCTAssertEqual(f.step(.ikeSAInit)?.verdict, .pass)
        let eap = try XCTUnwrap(f.step(.eapAKA))
        XCTAssertEqual(eap.verdict, .fail)
        XCTAssertEqual(f.firstProblem?.kind, .eapAKA)
        let why = try XCTUnwrap(eap.explanation)
        XCTAssertEqual(why, "EAP-AKA failed: the phone rejected the network's AUTN (MAC failure, AKA-Authentication-Reject) and the ePDG answered EAP-Failure with AUTHENTICATION_FAILED — wrong K/OPc on the SIM or in ue_db")
        XCTAssertTrue(why.contains("AUTHENTICATION_FAILED"), why)
        XCTAssertTrue(why.contains("wrong K/OPc on the SIM or in ue_db"), why)
        XCTAssertTrue(why.contains("AKA-Authentication-Reject"), why)
        XCTAssertEqual(f.step(.ikeAuth)?.verdict, .missing)
        XCTAssertTrue(f.events.contains { $0.label.contains("EAP-Response/AKA-Authentication-Reject") && $0.isError })
        let ladder = LadderRenderer.render(report)
        XCTAssertTrue(ladder.contains("first problem: EAP-AKA FAIL"), ladder)
        if let d = ProcessInfo.processInfo.environment["VOWIFI_ANALYSIS_KEEP"] { try? ladder.write(toFile: d + "/wrongk.txt", atomically: true, encoding: .utf8) }
    }

    func testProposalMismatchNamesOfferedAndAccepted() throws {
        var p = CaptureBuilder.defaultPolicy()
        p.ikeEncryption = [.ENCR_AES_CBC(keyBits: 256)]
        let b = try CaptureBuilder(name: "noprop", policy: p)
        defer { b.cleanup() }
        try b.attach()
        let offered = "ENCR_AES_CBC_128/PRF_HMAC_SHA2_256/AUTH_HMAC_SHA2_256_128/MODP_2048"
        // With the ePDG's policy.
        var f = try XCTUnwrap(b.analyze(policy: p).flows.first)
        var step = try XCTUnwrap(f.step(.ikeSAInit))
        XCTAssertEqual(step.verdict, .fail)
        XCTAssertEqual(f.firstProblem?.kind, .ikeSAInit)
        var why = try XCTUnwrap(step.explanation)
        XCTAssertTrue(why.hasPrefix("IKE_SA_INIT: NO_PROPOSAL_CHOSEN — the phone offered \(offered), the ePDG accepts ENCR_AES_CBC_256 /"), why)
        // With only the ePDG's log.
        f = try XCTUnwrap(b.analyze(logText: b.epdgLog).flows.first)
        step = try XCTUnwrap(f.step(.ikeSAInit))
        why = try XCTUnwrap(step.explanation)
        XCTAssertTrue(why.contains("the phone offered \(offered)"), why)
        XCTAssertTrue(why.contains("the ePDG accepts [\"ENCR_AES_CBC_256\"]"), why)
        XCTAssertEqual(f.step(.eapAKA)?.verdict, .missing)
    }

    func testMissingPCSCFExplained() throws {
        let b = try CaptureBuilder(name: "nopcscf", policy: CaptureBuilder.defaultPolicy(pcscf: []))
        defer { b.cleanup() }
        try b.attach()
        XCTAssertEqual(b.ue.state, .established)
        b.now += 5
        b.detach()
        let f = try XCTUnwrap(b.analyze().flows.first)
        XCTAssertEqual(f.step(.childSA)?.verdict, .pass)
        XCTAssertEqual(f.firstProblem?.kind, .cfgReply)
        XCTAssertTrue(f.firstProblem?.explanation?.contains("no P-CSCF address") == true, f.firstProblem?.explanation ?? "")
        let reg = try XCTUnwrap(f.step(.register))
        XCTAssertEqual(reg.verdict, .missing)
        XCTAssertTrue(reg.explanation?.contains("no SIP REGISTER arrived after the Child SA") == true, reg.explanation ?? "")
    }

    func testNoSIPAfterChildSAPointsAtPCSCF() throws {
        let b = try CaptureBuilder(name: "nosip")
        defer { b.cleanup() }
        try b.attach()
        let f = try XCTUnwrap(b.analyze().flows.first)
        XCTAssertEqual(f.step(.cfgReply)?.verdict, .pass)
        XCTAssertEqual(f.firstProblem?.kind, .register)
        XCTAssertEqual(f.firstProblem?.explanation,
                       "no SIP REGISTER arrived after the Child SA: no ESP packet at all — check the P-CSCF address the phone received (198.51.100.1) and that the phone's IMS client is on")
    }

    func testIMSAKARejectedRegister() throws {
        let b = try CaptureBuilder(name: "reg401")
        defer { b.cleanup() }
        try b.attach()
        try b.register(finalCode: 401)
        let f = try XCTUnwrap(b.analyze().flows.first)
        XCTAssertEqual(f.firstProblem?.kind, .register)
        XCTAssertTrue(f.firstProblem?.explanation?.contains("401 again to the REGISTER with credentials") == true, f.firstProblem?.explanation ?? "")
    }

    func testNoEchoIsExplained() throws {
        let b = try CaptureBuilder(name: "noecho")
        defer { b.cleanup() }
        try b.attach()
        try b.register()
        try b.call(rtpPackets: 10, echo: false)
        b.detach()
        let f = try XCTUnwrap(b.analyze().flows.first)
        XCTAssertEqual(f.firstProblem?.kind, .rtp)
        XCTAssertEqual(f.step(.rtp)?.verdict, .fail)
        XCTAssertTrue(f.step(.rtp)?.explanation?.contains("no RTP came back") == true)
        XCTAssertEqual(f.step(.subscribe)?.verdict, .missing, "optional")
        XCTAssertEqual(f.step(.bye)?.verdict, .pass)
    }

    func testInvalidKERetryAndResyncAreReported() throws {
        var p = CaptureBuilder.defaultPolicy()
        p.ikeDHGroups = [.modp2048]
        let b = try CaptureBuilder(name: "retry", policy: p)
        defer { b.cleanup() }
        var cfg = IKEInitiatorConfig(imsi: CaptureBuilder.imsi, mcc: "001", mnc: "01")
        cfg.ikeSuites = [IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128, prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256),
                         IKESuite(encryption: .ENCR_AES_GCM_16(keyBits: 256), integrity: nil, prf: .PRF_HMAC_SHA2_256, dhGroup: .modp2048)]
        try b.attach(config: cfg, lastSeq: 500)
        XCTAssertEqual(b.ue.state, .established)
        let f = try XCTUnwrap(b.analyze().flows.first)
        let initStep = try XCTUnwrap(f.step(.ikeSAInit))
        XCTAssertEqual(initStep.verdict, .pass)
        XCTAssertTrue(initStep.summary.contains("retried after INVALID_KE_PAYLOAD (the ePDG wants MODP_2048)"), initStep.summary)
        let eap = try XCTUnwrap(f.step(.eapAKA))
        XCTAssertEqual(eap.verdict, .pass, eap.explanation ?? "")
        XCTAssertTrue(eap.summary.contains("resynchronised via AT_AUTS"), eap.summary)
        XCTAssertTrue(f.events.contains { $0.label.contains("AKA-Synchronization-Failure (AT_AUTS)") })
    }

    func testHTMLIsSelfContainedSVG() throws {
        let b = try CaptureBuilder(name: "html")
        defer { b.cleanup() }
        try b.attach(k: [UInt8](hex: "000102030405060708090a0b0c0d0e0f"))
        let html = HTMLRenderer.render(try b.analyze())
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(html.contains("EAP-AKA FAIL:"), html)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        XCTAssertFalse(html.contains("https://"))
    }
}

/// Damaged captures give verdicts, never a crash.
final class AnalyzerRobustnessTests: XCTestCase {
    func testMutatedPacketsNeverCrash() throws {
        let b = try CaptureBuilder(name: "fuzz")
        defer { b.cleanup() }
        try b.attach()
        try b.register()
        try b.call(rtpPackets: 2)
        b.detach()
        b.close()
        let packets = try PcapNGReader(path: b.capturePath).packets
        let keys = KeyTables.load(directory: b.keyDir)
        let analyzer = FlowAnalyzer(options: .init(keys: keys))
        XCTAssertTrue(analyzer.analyze(packets: packets).passed)
        var rng = SystemRandomNumberGenerator()
        var runs = 0
        for i in packets.indices {
            for mutation in 0..<6 {
                var p = packets
                var d = p[i].data
                switch mutation {
                case 0: d = Array(d.prefix(Int.random(in: 0..<max(1, d.count), using: &rng)))
                case 1: d[Int.random(in: 0..<d.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                case 2: for _ in 0..<8 { d[Int.random(in: 0..<d.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                case 3: if d.count > 28 { d[28...] = ArraySlice([UInt8](repeating: 0xFF, count: d.count - 28)) }
                case 4: d += [UInt8](repeating: 0, count: Int.random(in: 1...64, using: &rng))
                default: p.remove(at: i); runs += 1; _ = LadderRenderer.render(analyzer.analyze(packets: p)); continue
                }
                p[i].data = d
                let r = analyzer.analyze(packets: p)
                _ = LadderRenderer.render(r)
                _ = HTMLRenderer.render(r)
                runs += 1
            }
        }
        XCTAssertEqual(runs, packets.count * 6)
        // Garbage files are refused with a typed error.
        XCTAssertThrowsError(try PcapNGReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: b.capturePath)).prefix(200))))
    }
}
