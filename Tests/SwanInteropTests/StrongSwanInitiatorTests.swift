import Foundation
import Glibc
import XCTest

/// strongSwan (charon + swanctl, kernel-libipsec) as the initiator against our ePDG, with
/// certificate authentication on both sides (Debian's strongSwan has no USIM, so it cannot run
/// EAP-AKA as a phone). Namespace "a" runs our whole core as `vowifi run` would (TUN vowifi0
/// with the P-CSCF addresses, routes to the pools); namespace "b" runs charon.
final class StrongSwanInitiatorTests: SwanEPDGTestCase {
    static let pcscf4 = "198.18.1.1", pcscf6 = "2001:db8:18::1"

    /// The ePDG's config: the "ims" PDN with pools from 198.18.0.0/15 and 2001:db8:18::/48.
    static func mmeConfig(dir: String, dpd: Int, espDuration: Int, ikeDuration: Int = 3600) -> String {
        SwanEPDGConfig.mme(dir: dir, epdg: """
            esp_duration: \(espDuration),
            ike_duration: \(ikeDuration),
            dpd_timer_value: \(dpd),
            """, pdn: """
            pdn_type: "ipv4v6",
            first_ip_addr: "198.18.0.2",
            last_ip_addr: "198.18.0.254",
            first_ipv6_prefix: "2001:db8:18:1::",
            last_ipv6_prefix: "2001:db8:18:ffff::",
            dns_addr: ["198.18.1.53", "2001:db8:18::53"],
            p_cscf_addr: ["\(pcscf4)", "\(pcscf6)"],
            """)
    }

    static func imsConfig(dir: String) -> String {
        """
        log_options: "all.level=info",
        log_filename: "\(dir)/ims.log",
        sip_addr: [ "\(pcscf4)", "\(pcscf6)" ],
        domain: "ims.mnc001.mcc001.3gppnetwork.org",
        echo: [ "tel:666" ],
        \(SwanEPDGConfig.ueDB)
        """
    }

    static func swanctlConf(ueName: String, dpdDelay: Int, remote: String = NetnsPair.addressA) -> String {
        """
        connections {
          epdg {
            version = 2
            remote_addrs = \(remote)
            vips = 0.0.0.0,::
            encap = yes
            proposals = aes128-sha256-modp2048,aes256-sha384-modp3072
            dpd_delay = \(dpdDelay)s
            send_certreq = yes
            local {
              auth = pubkey
              certs = \(ueName).pem
              id = \(ueName)
            }
            remote {
              auth = pubkey
              id = ims
            }
            children {
              ims {
                local_ts = dynamic
                remote_ts = 0.0.0.0/0,::/0
                esp_proposals = aes128-sha256,aes256-sha1
                start_action = none
                dpd_action = clear
              }
            }
          }
        }
        """
    }

    /// Everything up to a running ePDG and a charon loaded with `ueName`'s credentials.
    func bringUp(testID: String, ueName: String, trustCA: Bool, capture wantCapture: Bool,
                 epdgDPD: Int = 5, espDuration: Int = 300, swanDPD: Int = 3, ikeDuration: Int = 3600,
                 swanRemote: String = NetnsPair.addressA) throws {
        let pki = try preparePKI(dirTag: "init", ueName: ueName)
        if trustCA { try FileManager.default.copyItem(atPath: pki.caPEM, toPath: dir + "/peer-ca.pem") }
        else {
            // A CA that did not sign the UE's certificate.
            let other = try TestPKI(dir: try makeTempDir("otherca"))
            try FileManager.default.copyItem(atPath: other.caPEM, toPath: dir + "/peer-ca.pem")
            try? FileManager.default.removeItem(atPath: other.dir)
        }
        try Self.mmeConfig(dir: dir, dpd: epdgDPD, espDuration: espDuration, ikeDuration: ikeDuration).write(toFile: dir + "/mme.cfg", atomically: true, encoding: .utf8)
        try Self.imsConfig(dir: dir).write(toFile: dir + "/ims.cfg", atomically: true, encoding: .utf8)
        try Probes.install(in: dir)

        let net = try startEPDG(netTag: "i", testID: testID, capture: wantCapture)
        try startCharon(in: net, plugins: ["resolve"], pluginConfig: ["resolve { file = \(dir)/charon/resolv.conf }"], pki: pki, ueName: ueName,
                        swanctlConf: Self.swanctlConf(ueName: ueName, dpdDelay: swanDPD, remote: swanRemote))
    }

    func ping(from ns: String, to dst: String, count: Int = 3, file: StaticString = #filePath, line: UInt = #line) {
        let r = Shell.run(NetnsPair.exec(ns, ["python3", dir + "/ping.py", dst, String(count)]), timeout: 30)
        XCTAssertEqual(r.status, 0, "ping \(ns) -> \(dst): \(r.output)", file: file, line: line)
    }

    /// A TCP echo server in `serverNS` on addr:port, and a client in `clientNS` sending `bytes`.
    func tcpEcho(serverNS: String, clientNS: String, addr: String, port: Int, bytes: Int,
                 file: StaticString = #filePath, line: UInt = #line) throws {
        let log = dir + "/tcp-\(port).out"
        let server = try Shell.spawn(NetnsPair.exec(serverNS, ["timeout", "40", "python3", dir + "/tcp.py", "server", addr, String(port)]), logPath: log)
        XCTAssertTrue(Shell.waitUntil(10) { Shell.read(log).contains("listening") }, "TCP server on \(addr): \(Shell.read(log))", file: file, line: line)
        let r = Shell.run(NetnsPair.exec(clientNS, ["python3", dir + "/tcp.py", "client", addr, String(port), String(bytes)]), timeout: 40)
        XCTAssertEqual(r.status, 0, "TCP \(clientNS) -> \(addr):\(port): \(r.output)", file: file, line: line)
        XCTAssertTrue(r.output.contains("equal=True"), r.output, file: file, line: line)
        server.waitUntilExit()
        XCTAssertTrue(Shell.read(log).contains("echoed \(bytes) bytes"), Shell.read(log), file: file, line: line)
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
              let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let r = Range(m.range(at: m.numberOfRanges > 1 ? 1 : 0), in: text) else { return nil }
        return String(text[r])
    }

    /// Issue 4: IKE_SA up with certificate AUTH both ways, CP addresses (IPv4 and IPv6) in
    /// `swanctl --list-sas`, the Child SA installed on both sides; ping and a TCP stream through
    /// the tunnel both ways over IPv4 and IPv6; a Child SA rekey from strongSwan and DPD
    /// (strongSwan's, every 3 s when idle) and an IKE SA rekey from strongSwan, with traffic still
    /// flowing after each; the capture of
    /// the outer interface dissects in tshark without malformed packets.
    func testStrongSwanInitiatorCertificateAuthTrafficRekeyDPD() throws {
        try bringUp(testID: "StrongSwanInitiatorTests/testStrongSwanInitiatorCertificateAuthTrafficRekeyDPD",
                    ueName: "ue.swan.test", trustCA: true, capture: true)
        guard let net, let charon, let sas = initiateIMS() else { return }
        XCTAssertTrue(sas.contains("ESTABLISHED"), sas)
        XCTAssertTrue(sas.contains("INSTALLED"), sas)
        XCTAssertTrue(sas.contains("AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"), sas)
        // The virtual IPs from our pools (CFG_REPLY), as strongSwan's local traffic selectors.
        let vip4 = Self.firstMatch(#"(198\.18\.0\.\d+)/32"#, in: sas)
        let vip6 = Self.firstMatch(#"(2001:db8:18:[0-9a-f:]+)/\d+"#, in: sas)
        XCTAssertNotNil(vip4, "no IPv4 virtual IP from 198.18.0.0/24 in:\n\(sas)")
        XCTAssertNotNil(vip6, "no IPv6 virtual IP from 2001:db8:18::/48 in:\n\(sas)")
        XCTAssertTrue(charon.log.contains("installing new virtual IP \(vip4 ?? "-")"), charon.log.suffix(3000).description)
        // DNS from CFG_REPLY (strongSwan's resolve plugin writes what it got).
        XCTAssertTrue(Shell.waitUntil(3) { Shell.read(self.dir + "/charon/resolv.conf").contains("198.18.1.53") },
                      "DNS not received: " + Shell.read(dir + "/charon/resolv.conf"))
        XCTAssertTrue(Shell.waitUntil(3) { Shell.read(self.dir + "/status").contains("ikeSAs=1 childSAs=1") }, Shell.read(dir + "/status"))
        let vlog = Shell.read(dir + "/vowifi.log")
        XCTAssertTrue(vlog.contains("authenticated by DIGITAL_SIGNATURE signature") || vlog.contains("authenticated by RSA_DIGITAL_SIGNATURE signature"),
                      "ePDG log has no certificate authentication line")
        guard let vip4 else { return }

        // IPv4 both ways: UE -> P-CSCF address on vowifi0, and the ePDG's side -> the UE's address.
        ping(from: net.b, to: Self.pcscf4)
        ping(from: net.a, to: vip4)
        try tcpEcho(serverNS: net.a, clientNS: net.b, addr: Self.pcscf4, port: 5601, bytes: 200_000)
        try tcpEcho(serverNS: net.b, clientNS: net.a, addr: vip4, port: 5602, bytes: 200_000)
        if let vip6 {
            ping(from: net.b, to: Self.pcscf6)
            ping(from: net.a, to: vip6)
            try tcpEcho(serverNS: net.a, clientNS: net.b, addr: Self.pcscf6, port: 5603, bytes: 100_000)
        }

        // Child SA rekey started by strongSwan: new SPIs, the old pair deleted, traffic continues.
        let spiBefore = Self.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: sas)
        XCTAssertNotNil(spiBefore, sas)
        let rk = charon.swanctl("--rekey", ["--child", "ims"])
        XCTAssertEqual(rk.status, 0, rk.output)
        var after = ""
        XCTAssertTrue(Shell.waitUntil(10) {
            after = charon.swanctl("--list-sas").output
            return after.contains("ims: #2, reqid 1, INSTALLED") && !after.contains("ims: #1")
        }, "rekeyed Child SA not alone:\n\(after)\n\(charon.log.suffix(3000))")
        let spiAfter = Self.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: after)
        XCTAssertNotNil(spiAfter, after)
        XCTAssertNotEqual(spiBefore, spiAfter, "inbound SPI unchanged after rekey:\n\(after)")
        XCTAssertTrue(Shell.waitUntil(5) { Shell.read(self.dir + "/status").contains("ikeSAs=1 childSAs=1") }, Shell.read(dir + "/status"))
        ping(from: net.b, to: Self.pcscf4)
        ping(from: net.a, to: vip4)
        try tcpEcho(serverNS: net.a, clientNS: net.b, addr: Self.pcscf4, port: 5604, bytes: 50_000)

        // IKE SA rekey started by strongSwan (CREATE_CHILD_SA with a KE for the IKE SA): the
        // Child SA moves to the new IKE SA, and DPD below runs over the new keys.
        let ikeBefore = Self.firstMatch(#"IKEv2, ([0-9a-f]{16}_i\*? [0-9a-f]{16}_r\*?)"#, in: after)
        let rki = charon.swanctl("--rekey", ["--ike", "epdg"])
        XCTAssertEqual(rki.status, 0, rki.output)
        var afterIKE = ""
        XCTAssertTrue(Shell.waitUntil(10) {
            afterIKE = charon.swanctl("--list-sas").output
            let spis = Self.firstMatch(#"IKEv2, ([0-9a-f]{16}_i\*? [0-9a-f]{16}_r\*?)"#, in: afterIKE)
            return spis != nil && spis != ikeBefore && afterIKE.components(separatedBy: "ESTABLISHED").count == 2
                && afterIKE.contains("INSTALLED")
        }, "IKE SA not rekeyed:\n\(afterIKE)\n\(charon.log.suffix(3000))\n\(Shell.read(dir + "/vowifi.log").suffix(2000))")
        XCTAssertTrue(Shell.waitUntil(5) { Shell.read(self.dir + "/vowifi.log").contains("rekeyed to") }, "the ePDG logged no IKE SA rekey")
        XCTAssertTrue(Shell.waitUntil(5) { Shell.read(self.dir + "/status").contains("ikeSAs=1 childSAs=1") }, Shell.read(dir + "/status"))
        ping(from: net.b, to: Self.pcscf4)

        // DPD: idle long enough for strongSwan (dpd_delay 3 s) to probe twice; the ePDG answers
        // each empty INFORMATIONAL, strongSwan keeps the SA, traffic still flows.
        sleep(7)
        XCTAssertTrue(charon.log.contains("sending DPD request"), "strongSwan sent no DPD")
        XCTAssertTrue(Shell.read(dir + "/vowifi.log").contains("liveness check (DPD) from peer"), "the ePDG saw no DPD")
        XCTAssertFalse(charon.log.contains("giving up after"), "strongSwan gave up on a DPD:\n\(charon.log.suffix(3000))")
        let still = charon.swanctl("--list-sas").output
        XCTAssertTrue(still.contains("ESTABLISHED") && still.contains("INSTALLED"), still)
        ping(from: net.b, to: Self.pcscf4)
        ping(from: net.a, to: vip4)

        // Issue 9: the outer capture (IKE on 500/4500, ESP in UDP) dissects without malformed packets.
        if let cap = capture {
            charon.swanctl("--terminate", ["--ike", "epdg"])
            sleep(1)
            cap.interrupt()
            _ = Shell.waitUntil(10) { !cap.isRunning }
            let path = dir + "/outer.pcapng"
            let ike = Shell.run(["tshark", "-r", path, "-Y", "isakmp", "-T", "fields", "-e", "isakmp.exchangetype"], timeout: 60, dropStderr: true)
            let types = Set(ike.output.split(separator: "\n").map(String.init))
            XCTAssertTrue(types.isSuperset(of: ["34", "35", "36", "37"]), "IKE exchanges seen: \(types) \(ike.output.prefix(500))")
            let esp = Shell.run(["tshark", "-r", path, "-Y", "esp", "-T", "fields", "-e", "esp.spi"], timeout: 60, dropStderr: true)
            XCTAssertGreaterThan(esp.output.split(separator: "\n").count, 20, "ESP packets in the capture")
            let bad = Shell.run(["tshark", "-r", path, "-Y", "_ws.malformed || _ws.expert.severity >= error"], timeout: 60, dropStderr: true)
            XCTAssertEqual(bad.status, 0)
            XCTAssertEqual(bad.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "malformed packets:\n\(bad.output)")

            // With the ePDG's key files (Wireshark UATs) tshark opens the SK payloads and the ESP:
            // the encrypted IKE payloads and the inner packets are well-formed too.
            let xdg = dir + "/xdg"
            try FileManager.default.createDirectory(atPath: xdg + "/wireshark", withIntermediateDirectories: true)
            for f in ["ikev2_decryption_table", "esp_sa"] {
                try FileManager.default.copyItem(atPath: dir + "/keys/" + f, toPath: xdg + "/wireshark/" + f)
            }
            let env = ["XDG_CONFIG_HOME": xdg, "HOME": xdg]
            let dec = Shell.run(["tshark", "-r", path, "-o", "esp.enable_encryption_decode:TRUE", "-T", "fields", "-E", "separator=|",
                                 "-e", "isakmp.auth.method", "-e", "isakmp.cfg.attr.type", "-e", "ip.proto", "-e", "_ws.malformed",
                                 "-e", "_ws.expert.severity"], env: env, timeout: 60, dropStderr: true)
            XCTAssertEqual(dec.status, 0)
            let rows = dec.output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
            XCTAssertFalse(rows.contains { $0.count > 3 && !$0[3].isEmpty }, "malformed after decryption:\n\(dec.output.prefix(3000))")
            let authMethods = Set(rows.compactMap { $0.first }.filter { !$0.isEmpty })
            XCTAssertTrue(authMethods.contains("14"), "decrypted AUTH methods: \(authMethods)")
            let cfgTypes = Set(rows.compactMap { $0.count > 1 ? $0[1] : nil }.flatMap { $0.split(separator: ",").map(String.init) })
            XCTAssertTrue(cfgTypes.isSuperset(of: ["1", "8"]), "decrypted CP attribute types: \(cfgTypes)")
            // Inner protocols seen by decrypting ESP (the outer ip.proto is 17, the inner 1/6/58).
            let protos = Set(rows.compactMap { $0.count > 2 ? $0[2] : nil }.flatMap { $0.split(separator: ",").map(String.init) })
            XCTAssertTrue(protos.isSuperset(of: ["1", "6"]), "inner protocols after ESP decryption: \(protos)")
        }
    }

    /// The other direction of the same procedures: the ePDG starts them. With esp_duration 12 s
    /// the ePDG rekeys the Child SA itself at 90% (CREATE_CHILD_SA with N(REKEY_SA) toward
    /// strongSwan, then Delete of the old pair), and with dpd_timer_value 5 s and strongSwan's
    /// DPD off it probes an idle strongSwan; the tunnel carries traffic after both.
    func testEPDGInitiatedChildRekeyAndDPDTowardStrongSwan() throws {
        try bringUp(testID: "StrongSwanInitiatorTests/testEPDGInitiatedChildRekeyAndDPDTowardStrongSwan",
                    ueName: "ue.swan.test", trustCA: true, capture: false, epdgDPD: 5, espDuration: 12, swanDPD: 0)
        guard let net, let charon, let sas = initiateIMS() else { return }
        guard let vip4 = Self.firstMatch(#"(198\.18\.0\.\d+)/32"#, in: sas) else { return XCTFail(sas) }
        let spiBefore = Self.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: sas)
        ping(from: net.b, to: Self.pcscf4)

        // Idle: the ePDG's DPD (5 s) comes first, its Child SA rekey at 10.8 s.
        XCTAssertTrue(Shell.waitUntil(20) { charon.log.contains("CHILD_SA ims{2} established") },
                      "no ePDG-initiated rekey:\n\(charon.log.suffix(4000))\n\(Shell.read(self.dir + "/vowifi.log").suffix(3000))")
        let vlog = Shell.read(dir + "/vowifi.log")
        XCTAssertTrue(vlog.contains("reached esp lifetime 12 s: rekeying"), String(vlog.suffix(3000)))
        XCTAssertTrue(charon.log.contains("parsed CREATE_CHILD_SA request"), "strongSwan saw no CREATE_CHILD_SA request")
        XCTAssertTrue(vlog.contains("send INFORMATIONAL request"), "the ePDG sent no INFORMATIONAL (DPD / Delete)")
        XCTAssertTrue(charon.log.contains("parsed INFORMATIONAL request 0 [ ]") || charon.log.contains("parsed INFORMATIONAL request 1 [ ]"),
                      "strongSwan saw no empty INFORMATIONAL (DPD) from the ePDG:\n\(charon.log.suffix(3000))")
        var after = ""
        XCTAssertTrue(Shell.waitUntil(10) {
            after = charon.swanctl("--list-sas").output
            return after.contains("ims: #2, reqid 1, INSTALLED") && !after.contains("ims: #1")
        }, "old Child SA not deleted:\n\(after)")
        let spiAfter = Self.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: after)
        XCTAssertNotEqual(spiBefore, spiAfter, after)
        XCTAssertTrue(after.contains("ESTABLISHED"), after)
        ping(from: net.b, to: Self.pcscf4)
        ping(from: net.a, to: vip4)
        try tcpEcho(serverNS: net.a, clientNS: net.b, addr: Self.pcscf4, port: 5611, bytes: 100_000)
    }

    /// The certificate check has teeth: a UE certificate from a CA the ePDG does not trust gets
    /// AUTHENTICATION_FAILED and no SA, on either side.
    func testStrongSwanInitiatorUntrustedCertificateRefused() throws {
        try bringUp(testID: "StrongSwanInitiatorTests/testStrongSwanInitiatorUntrustedCertificateRefused",
                    ueName: "ue.swan.test", trustCA: false, capture: false)
        guard let charon else { return }
        let vlog = initiateIMSRefused()
        XCTAssertTrue(charon.log.contains("AUTHENTICATION_FAILED"), charon.log.suffix(3000).description)
        XCTAssertTrue(vlog.contains("initiator certificate refused"), vlog.suffix(3000).description)
        XCTAssertFalse(charon.swanctl("--list-sas").output.contains("ESTABLISHED"))
    }
}
