import Foundation
import TestSupport
import XCTest

/// `vowifi ue` against a `vowifi run` child process, and `vowifi load`.
final class UELoadTests: XCTestCase {
    /// A free UDP port on 127.0.0.1 (bound, read, closed: the core binds it a moment later).
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: sin.sin_port)
    }

    /// An unprivileged-style core config: loopback high ports, the repo's ue_db, private files.
    static func writeRunConfig(dir d: String, ike: UInt16, natT: UInt16, sip: UInt16) throws -> (mme: String, ims: String) {
        let ueDB = Vectors.repoRoot.appendingPathComponent("config/ue_db-ims.cfg").path
        let mme = """
        log_options: "all.level=info,ikev2.level=debug,eap.level=debug,hss.level=debug",
        log_filename: "\(d)/core.log",
        plmn: "00101",
        epdg: {
          bind_addr: "127.0.0.1:\(ike)",
          nat_t_port: \(natT),
          certificate: "epdg_cert.pem",
          private_key: "epdg_private_key.pem",
          sqn_db: "sqn.sqlite",
        },
        pdn_list: [
          { access_point_name: "ims", pdn_type: "ipv4v6", first_ip_addr: "198.18.4.2", last_ip_addr: "198.18.4.254",
            first_ipv6_prefix: "2001:db8:4:1::", last_ipv6_prefix: "2001:db8:4:ffff::",
            dns_addr: ["198.18.4.1"], p_cscf_addr: ["198.18.4.1", "2001:db8:4::1"] },
        ],
        include "\(ueDB)",
        """
        let ims = """
        log_options: "all.level=info,sip.level=debug,ims.level=debug",
        log_filename: "\(d)/ims.log",
        sip_addr: [ "198.18.4.1", "2001:db8:4::1", "127.0.0.1:\(sip)" ],
        domain: "ims.mnc001.mcc001.3gppnetwork.org",
        echo: [ "tel:666" ],
        include "\(ueDB)",
        """
        try mme.write(toFile: d + "/mme.cfg", atomically: true, encoding: .utf8)
        try ims.write(toFile: d + "/ims.cfg", atomically: true, encoding: .utf8)
        return (d + "/mme.cfg", d + "/ims.cfg")
    }

    /// Starts `vowifi run` with the configs and waits for "running;".
    static func startRun(mme: String, ims: String, dir: String) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["run", "--in-process", "-c", mme, "--ims", ims]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        try p.run()
        var text = ""
        let until = Date().addingTimeInterval(30)
        while !text.contains("running;") && Date() < until && p.isRunning {
            let chunk = out.fileHandleForReading.availableDataNonBlocking()
            if chunk.isEmpty { usleep(20_000) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        guard text.contains("running;") else {
            if p.isRunning { p.terminate() }
            throw XCTSkip("vowifi run did not start:\n\(text)")
        }
        return (p, out)
    }

    /// `vowifi ue` against `vowifi run` (a child process on loopback high ports): the TS 35.208
    /// set 1 SIM attaches, registers and calls the echo number; the same SIM with a wrong K fails
    /// at IKE_AUTH with the USIM's reason and a non-zero exit status; the XOR SIM registers.
    func testUEAgainstVowifiRun() throws {
        guard FileManager.default.isExecutableFile(atPath: CLITests.binary) else { throw XCTSkip("not built") }
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let ike = Self.freePort(), natT = Self.freePort(), sip = Self.freePort()
        let (mme, ims) = try Self.writeRunConfig(dir: d, ike: ike, natT: natT, sip: sip)
        let (core, _) = try Self.startRun(mme: mme, ims: ims, dir: d)
        defer { if core.isRunning { kill(core.processIdentifier, SIGTERM); core.waitUntilExit() } }

        let base = ["ue", "--epdg", "127.0.0.1:\(ike)", "--natt-port", "\(natT)", "--imsi", "001010000000001",
                    "--opc", "cd63cb71954a9f4e48a5994e37a02baf", "--media", "0.5"]
        let good = try run(base + ["--k", "465b5ce8b199b49faa5f0a2ee238a6bc", "--capture", d + "/ue.pcapng"])
        XCTAssertEqual(good.status, 0, good.out + good.err)
        XCTAssertTrue(good.out.contains("RESULT: PASS"), good.out)
        for step in ["IKE_SA_INIT", "IKE_AUTH (EAP-AKA)", "CHILD_SA + CFG_REPLY", "SIP REGISTER (IMS AKA)", "INVITE", "RTP echo", "BYE"] {
            XCTAssertTrue(good.out.split(separator: "\n").contains { $0.hasPrefix(step) && $0.contains("PASS") }, "step \(step) did not pass:\n" + good.out)
        }
        XCTAssertTrue(good.out.contains("inner 198.18.4."), good.out)
        // The phone-side capture holds the exchange (pcapng magic, one packet per datagram at least).
        let cap = try Data(contentsOf: URL(fileURLWithPath: d + "/ue.pcapng"))
        XCTAssertEqual(Array(cap.prefix(4)), [0x0A, 0x0D, 0x0D, 0x0A])
        XCTAssertGreaterThan(cap.count, 2000)

        let bad = try run(base + ["--k", "00000000000000000000000000000000"])
        XCTAssertNotEqual(bad.status, 0, bad.out)
        XCTAssertTrue(bad.out.contains("RESULT: FAIL"), bad.out)
        let line = bad.out.split(separator: "\n").first { $0.hasPrefix("IKE_AUTH (EAP-AKA)") } ?? ""
        XCTAssertTrue(line.contains("FAIL"), bad.out)
        XCTAssertTrue(line.contains("AKA-Authentication-Reject"), String(line))
        XCTAssertTrue(line.contains("wrong K"), String(line))
        XCTAssertFalse(bad.out.contains("SIP REGISTER"), bad.out)

        let xor = try run(["ue", "--epdg", "127.0.0.1:\(ike)", "--natt-port", "\(natT)", "--imsi", "001010123456789", "--algo", "xor",
                               "--k", "00112233445566778899aabbccddeeff", "--scenario", "register", "--quiet"])
        XCTAssertEqual(xor.status, 0, xor.out + xor.err)
        XCTAssertFalse(xor.out.contains("INVITE"), xor.out)

        // `vowifi load` against the same core by address: 20 load-test SIMs attach, register and call.
        let load = try run(["load", "--ues", "20", "--rate", "50", "--epdg", "127.0.0.1:\(ike)", "--natt-port", "\(natT)",
                            "--scenario", "call", "--media", "0.3", "--json", d + "/load.json", "--out", d], timeout: 90)
        XCTAssertEqual(load.status, 0, load.out + load.err)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/load.json"))) as? [String: Any]
        let counts = try XCTUnwrap(json?["counts"] as? [String: Any])
        XCTAssertEqual(counts["registered"] as? Int, 20)
        XCTAssertEqual(counts["callsCompleted"] as? Int, 20)

        // Bad usage: a Milenage SIM without OP/OPc is refused before any packet.
        let usage = try run(["ue", "--epdg", "127.0.0.1:\(ike)", "--imsi", "001010000000001", "--k", "465b5ce8b199b49faa5f0a2ee238a6bc"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.err.contains("--op or --opc"), usage.err)

        kill(core.processIdentifier, SIGTERM)
        core.waitUntilExit()
        XCTAssertEqual(core.terminationStatus, 0)
        let log = (try? String(contentsOfFile: d + "/core.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("001010000000001"), "the core's log names the subscriber")
    }

    /// 50 phones attach and register against the in-process core with no failure; the JSON
    /// report holds the counts, rates and ordered percentiles of each step.
    func testLoad50PhonesWithoutFailures() throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = try run(["load", "--ues", "50", "--rate", "100", "--json", d + "/load.json", "--out", d], timeout: 120)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("RESULT: PASS"), r.out)
        XCTAssertTrue(r.err.contains("attached") || r.out.contains("attaches"), r.err)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/load.json"))) as? [String: Any]
        let counts = try XCTUnwrap(json?["counts"] as? [String: Any])
        XCTAssertEqual(counts["attached"] as? Int, 50)
        XCTAssertEqual(counts["registered"] as? Int, 50)
        XCTAssertEqual(counts["failures"] as? Int, 0)
        XCTAssertEqual(counts["unfinished"] as? Int, 0)
        let rates = try XCTUnwrap(json?["rates"] as? [String: Any])
        XCTAssertGreaterThan(rates["attachesPerSecond"] as? Double ?? 0, 5)
        XCTAssertGreaterThan(rates["registrationsPerSecond"] as? Double ?? 0, 5)
        let latency = try XCTUnwrap(json?["latency"] as? [[String: Any]])
        for step in ["IKE_SA_INIT", "IKE_AUTH (EAP-AKA)", "SIP REGISTER (IMS AKA)", "SUBSCRIBE reg event"] {
            let l = try XCTUnwrap(latency.first { $0["step"] as? String == step }, "no latency for \(step)")
            XCTAssertEqual(l["count"] as? Int, 50)
            let p50 = l["p50ms"] as? Double ?? -1, p95 = l["p95ms"] as? Double ?? -1, p99 = l["p99ms"] as? Double ?? -1
            XCTAssertTrue(p50 > 0 && p50 <= p95 && p95 <= p99, "\(step): \(p50) \(p95) \(p99)")
        }
        XCTAssertEqual((json?["failures"] as? [Any])?.count, 0)
        XCTAssertNotNil((json?["machine"] as? [String: Any])?["cpu"])
    }

    /// Calls placed at a rate on registered phones: every one set up, echoed and ended.
    func testLoadWithCallsAtARate() throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = try run(["load", "--ues", "10", "--rate", "50", "--call-rate", "10", "--calls", "12", "--media", "0.3",
                             "--json", d + "/load.json", "--out", d], timeout: 120)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/load.json"))) as? [String: Any]
        let counts = try XCTUnwrap(json?["counts"] as? [String: Any])
        XCTAssertEqual(counts["callsPlaced"] as? Int, 12)
        XCTAssertEqual(counts["callsUp"] as? Int, 12)
        XCTAssertEqual(counts["callsCompleted"] as? Int, 12)
        XCTAssertGreaterThan((json?["rates"] as? [String: Any])?["callsPerSecond"] as? Double ?? 0, 1)
        let latency = try XCTUnwrap(json?["latency"] as? [[String: Any]])
        XCTAssertEqual(latency.first { $0["step"] as? String == "RTP echo" }?["count"] as? Int, 12)
    }

    /// Against an address where no ePDG answers: every phone fails at IKE_SA_INIT, the failures
    /// are grouped by cause in the table and the JSON, and the exit status is non-zero.
    func testLoadCountsFailuresByCause() throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let dead = Self.freePort()
        let r = try run(["load", "--ues", "3", "--rate", "0", "--epdg", "127.0.0.1:\(dead)", "--natt-port", "\(Self.freePort())",
                             "--step-timeout", "1.5", "--json", d + "/load.json", "--out", d], timeout: 60)
        XCTAssertEqual(r.status, 1, r.out + r.err)
        XCTAssertTrue(r.out.contains("failures by cause:"), r.out)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/load.json"))) as? [String: Any]
        let failures = try XCTUnwrap(json?["failures"] as? [[String: Any]])
        XCTAssertEqual(failures.count, 1, "\(failures)")
        XCTAssertEqual(failures.first?["count"] as? Int, 3)
        XCTAssertTrue((failures.first?["cause"] as? String ?? "").hasPrefix("IKE_SA_INIT:"), "\(failures)")
        XCTAssertEqual((json?["counts"] as? [String: Any])?["attached"] as? Int, 0)
    }
}
