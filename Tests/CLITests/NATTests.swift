import Foundation
import TestSupport
import XCTest

/// A real NAT between the phone and the ePDG (root only): three namespaces — the phone
/// (198.51.100.2), a NAT router masquerading with nftables, the ePDG (203.0.113.2) with
/// its TUN. The phone does not force NAT-T: NAT detection must find the NAT, both sides
/// move to 4500 and encapsulate ESP, and the whole call passes through the translation.
extension DemoTUNTests {
    func testAttachRegisterAndCallThroughARealNAT() throws {
        let ipTool = try requireRoot()
        guard let nft = ["/usr/sbin/nft", "/sbin/nft"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("nftables not installed")
        }
        let d = tempDir()
        let tag = "\(getpid() % 100000)n"
        let ueNS = "vwn-\(tag)-ue", natNS = "vwn-\(tag)-nat", coreNS = "vwn-\(tag)-core"
        defer {
            for ns in [ueNS, natNS, coreNS] { _ = try? runTool(ipTool, ["netns", "del", ns]) }
            try? FileManager.default.removeItem(atPath: d)
        }
        for ns in [ueNS, natNS, coreNS] { try ip(["netns", "add", ns]); try ip(["-n", ns, "link", "set", "lo", "up"]) }
        // phone <-> NAT (inside), NAT (outside) <-> ePDG
        try ip(["link", "add", "vni\(tag)", "type", "veth", "peer", "name", "vnu\(tag)"])
        try ip(["link", "add", "vno\(tag)", "type", "veth", "peer", "name", "vnc\(tag)"])
        try ip(["link", "set", "vnu\(tag)", "netns", ueNS]); try ip(["link", "set", "vni\(tag)", "netns", natNS])
        try ip(["link", "set", "vno\(tag)", "netns", natNS]); try ip(["link", "set", "vnc\(tag)", "netns", coreNS])
        for (ns, dev, a) in [(ueNS, "vnu\(tag)", "198.51.100.2/24"), (natNS, "vni\(tag)", "198.51.100.1/24"),
                             (natNS, "vno\(tag)", "203.0.113.1/24"), (coreNS, "vnc\(tag)", "203.0.113.2/24")] {
            try ip(["-n", ns, "addr", "add", a, "dev", dev]); try ip(["-n", ns, "link", "set", dev, "up"])
        }
        try ip(["-n", ueNS, "route", "add", "default", "via", "198.51.100.1"])
        XCTAssertEqual(try runTool(ipTool, ["netns", "exec", natNS, "sysctl", "-w", "net.ipv4.ip_forward=1"]).status, 0)
        try """
        table ip vowifi_nat {
          chain post { type nat hook postrouting priority 100; oifname "vno\(tag)" masquerade random; }
        }
        """.write(toFile: d + "/nat.nft", atomically: true, encoding: .utf8)
        let nat = try runTool(ipTool, ["netns", "exec", natNS, nft, "-f", d + "/nat.nft"])
        XCTAssertEqual(nat.status, 0, nat.out + nat.err)

        let repo = Vectors.repoRoot.path
        try """
        include "\(repo)/config/mme-ims.cfg",
        epdg: { bind_addr: "203.0.113.2:500", certificate: "cert.pem", private_key: "key.pem", sqn_db: "sqn.sqlite", tun_ifname: "vwnat0" },
        """.write(toFile: d + "/mme.cfg", atomically: true, encoding: .utf8)
        let (core, text) = try startCore(ns: coreNS, args: ["-c", d + "/mme.cfg", "--ims", repo + "/config/ims.cfg",
                                                             "--log", d + "/core.log", "--log-options", "all.level=info,ikev2.level=debug"])
        defer { if core.isRunning { kill(core.processIdentifier, SIGTERM); core.waitUntilExit() } }
        XCTAssertTrue(text.contains("running;"), text)

        let r = try runTool(ipTool, ["netns", "exec", ueNS, CLITests.binary, "ue", "--epdg", "203.0.113.2", "--local", "198.51.100.2:500",
                                     "--no-force-natt", "--imsi", "001010000000002", "--k", "a530a7fe428fad1082c45eddfce13884",
                                     "--op", "511c6c4e83e38c89b1c5d8dde62426fa", "--profile", "iphone", "--media", "0.5"])
        XCTAssertEqual(r.status, 0, r.out + r.err + "\n" + ((try? String(contentsOfFile: d + "/core.log", encoding: .utf8))?.suffix(3000).description ?? ""))
        XCTAssertTrue(r.out.contains("RESULT: PASS"), r.out)
        XCTAssertTrue(r.out.contains("NAT detected"), r.out)
        // The ePDG saw the phone from the NAT's outside address, on the translated ports.
        let log = (try? String(contentsOfFile: d + "/core.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("203.0.113.1:"), String(log.suffix(2000)))
    }
}
