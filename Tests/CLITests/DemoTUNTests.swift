import Foundation
import TestSupport
import XCTest

/// The flow through real TUN devices in network namespaces (root only).
final class DemoTUNTests: XCTestCase {
    static let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func requireRoot() throws -> String {
        guard geteuid() == 0 else { throw XCTSkip("needs root (network namespaces, TUN)") }
        guard FileManager.default.fileExists(atPath: "/dev/net/tun") else { throw XCTSkip("no /dev/net/tun") }
        guard let ip = Self.ipTool else { throw XCTSkip("no ip tool") }
        guard FileManager.default.isExecutableFile(atPath: CLITests.binary) else { throw XCTSkip("not built") }
        return ip
    }

    @discardableResult
    func ip(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try requireRoot())
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let d = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let s = String(decoding: d, as: UTF8.self)
        if p.terminationStatus != 0 { XCTFail("ip \(args.joined(separator: " ")): \(s)") }
        return s
    }

    /// `vowifi demo --tun`: the core in its namespace with a TUN, the phone in another over a veth
    /// pair; every step passes, packets crossed the TUN both ways, and the namespaces are gone after.
    func testDemoThroughTUNInNamespaces() throws {
        _ = try requireRoot()
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = try run(["demo", "--tun", "--media", "1", "--out", d], timeout: 120)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("RESULT: PASS"), r.out)
        for step in ["IKE_SA_INIT", "IKE_AUTH (EAP-AKA)", "CHILD_SA + CFG_REPLY", "SIP REGISTER (IMS AKA)", "INVITE", "RTP echo", "BYE"] {
            XCTAssertTrue(r.out.split(separator: "\n").contains { $0.hasPrefix(step) && $0.contains("PASS") }, "\(step):\n" + r.out)
        }
        XCTAssertTrue(r.out.contains("from 198.51.100.2"), r.out)
        // Packets went through the kernel: SIP and 50 RTP packets each way at least.
        let tunLine = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("TUN ") }, r.out)
        let numbers = tunLine.split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(numbers.count, 2, String(tunLine))
        XCTAssertGreaterThan(numbers.first ?? 0, 50)
        XCTAssertGreaterThan(numbers.last ?? 0, 50)
        // The namespaces it made are removed.
        let ns = try XCTUnwrap(r.out.range(of: #"vowifi-[0-9]+-core"#, options: .regularExpression).map { String(r.out[$0]) })
        let list = try ip(["netns", "list"])
        XCTAssertFalse(list.contains(ns), list)
        XCTAssertFalse(list.contains(ns.replacingOccurrences(of: "-core", with: "-ue")), list)
        XCTAssertTrue(FileManager.default.fileExists(atPath: d + "/keys/esp_sa"))
    }

    /// The same topology built by the test itself: `vowifi run --tun` via `ip netns exec` (the
    /// TUN carries the P-CSCF address, the IMS is bound on it), `vowifi ue` (iPhone profile) from the
    /// other namespace on 500/4500, and a wrong K from the same place failing at IKE_AUTH.
    func testRunWithTUNAndUEInNamespaces() throws {
        _ = try requireRoot()
        let d = tempDir()
        let tag = "\(getpid() % 100000)t"
        let coreNS = "vwt-\(tag)-core", ueNS = "vwt-\(tag)-ue", cv = "vtc\(tag)", uv = "vtu\(tag)"
        defer {
            _ = try? ip(["netns", "del", coreNS]); _ = try? ip(["netns", "del", ueNS])
            try? FileManager.default.removeItem(atPath: d)
        }
        try ip(["netns", "add", coreNS]); try ip(["netns", "add", ueNS])
        try ip(["link", "add", cv, "type", "veth", "peer", "name", uv])
        try ip(["link", "set", cv, "netns", coreNS]); try ip(["link", "set", uv, "netns", ueNS])
        for (ns, dev, a) in [(coreNS, cv, "198.51.100.1"), (ueNS, uv, "198.51.100.2")] {
            try ip(["-n", ns, "addr", "add", a + "/24", "dev", dev])
            try ip(["-n", ns, "link", "set", dev, "up"])
            try ip(["-n", ns, "link", "set", "lo", "up"])
        }
        let repo = Vectors.repoRoot.path
        let cfg = """
        include "\(repo)/config/mme-ims.cfg",
        epdg: { bind_addr: "198.51.100.1:500", certificate: "cert.pem", private_key: "key.pem", sqn_db: "sqn.sqlite", tun_ifname: "vwtun0" },
        """
        try cfg.write(toFile: d + "/mme.cfg", atomically: true, encoding: .utf8)
        let (core, text) = try startCore(ns: coreNS, args: ["-c", d + "/mme.cfg", "--ims", repo + "/config/ims.cfg", "--log", d + "/core.log"])
        defer { if core.isRunning { kill(core.processIdentifier, SIGTERM); core.waitUntilExit() } }
        XCTAssertTrue(text.contains("running;"), text)
        XCTAssertTrue(text.contains("inner path: tun") || text.contains("vwtun0"), text)
        let addrs = try ip(["-n", coreNS, "addr", "show", "vwtun0"])
        XCTAssertTrue(addrs.contains("192.168.4.1"), addrs)

        let ue = ["netns", "exec", ueNS, CLITests.binary, "ue", "--epdg", "198.51.100.1", "--local", "198.51.100.2:500",
                  "--imsi", "001010000000002", "--op", "511c6c4e83e38c89b1c5d8dde62426fa", "--profile", "iphone", "--media", "0.5"]
        let good = try runTool(try requireRoot(), ue + ["--k", "a530a7fe428fad1082c45eddfce13884"])
        XCTAssertEqual(good.status, 0, good.out + good.err)
        XCTAssertTrue(good.out.contains("RESULT: PASS"), good.out)
        let bad = try runTool(try requireRoot(), ue + ["--k", "a530a7fe428fad1082c45eddfce13885", "--scenario", "attach"])
        XCTAssertNotEqual(bad.status, 0, bad.out)
        XCTAssertTrue(bad.out.split(separator: "\n").contains { $0.hasPrefix("IKE_AUTH") && $0.contains("AKA-Authentication-Reject") }, bad.out)
        let counters = try ip(["-n", coreNS, "-s", "link", "show", "vwtun0"])
        XCTAssertTrue(counters.contains("RX:"), counters)
    }

    /// `vowifi run --tun <args>` inside `ns`; returns once its summary says "running;"
    /// (or it exited / 30 s passed), with what it printed.
    func startCore(ns: String, args: [String]) throws -> (Process, String) {
        let core = Process()
        core.executableURL = URL(fileURLWithPath: try requireRoot())
        core.arguments = ["netns", "exec", ns, CLITests.binary, "run", "--tun"] + args
        let out = Pipe()
        core.standardOutput = out; core.standardError = out
        try core.run()
        var text = ""
        let until = Date().addingTimeInterval(30)
        while !text.contains("running;") && core.isRunning && Date() < until {
            let c = out.fileHandleForReading.availableDataNonBlocking()
            if c.isEmpty { usleep(20_000) } else { text += String(decoding: c, as: UTF8.self) }
        }
        return (core, text)
    }

    func runTool(_ tool: String, _ args: [String]) throws -> Run {
        let r = try ToolRun.run(tool, args)
        return Run(status: r.status, out: r.out, err: r.err)
    }
}
