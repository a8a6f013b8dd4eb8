import AAA
import AKA
import Foundation
import Glibc
import HSS
import IKEv2
import XCTest

/// strongSwan as the ePDG (responder, its own certificate, eap-radius) relaying EAP-AKA to our
/// AAA server (RADIUSUDPServer on our HSS), with our IKEv2 initiator and a software USIM as the
/// phone. Namespace "a" holds charon (kernel-libipsec: this kernel has no XFRM ESP) and our RADIUS server on
/// 127.0.0.1:1812; namespace "b" the phone's UDP 500/4500 sockets. An independent IKEv2 stack
/// thus checks our initiator, our EAP-AKA server and our MSK (MS-MPPE keys) end to end.
final class StrongSwanResponderTests: XCTestCase {
    var net: NetnsPair?
    var dir = ""
    var charon: Charon?
    var radius: RADIUSUDPServer?
    let events = EventLog()

    static let imsi = "001010000000001"
    // TS 35.208 test set 1 (Milenage).
    static let k = "465b5ce8b199b49faa5f0a2ee238a6bc"
    static let opc = "cd63cb71954a9f4e48a5994e37a02baf"
    static let pcscf = "198.18.1.1"

    final class EventLog: @unchecked Sendable {
        // @unchecked: guarded by `lock` (the RADIUS thread appends, the test reads).
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    override func tearDown() {
        radius?.stop()
        radius = nil
        charon?.stop()
        net?.destroy()
        if !dir.isEmpty, ProcessInfo.processInfo.environment["SWAN_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }

    /// charon as the ePDG with eap-radius (`radiusSecret`), our AAA with `aaaSecret`.
    func bringUp(radiusSecret: String, aaaSecret: String) throws {
        try requireInteropEnvironment(tools: ["charon", "swanctl", "ip", "openssl", "unshare", "timeout"])
        dir = try makeTempDir("resp")
        try FileManager.default.createDirectory(atPath: dir + "/pki", withIntermediateDirectories: true)
        let pki = try TestPKI(dir: dir + "/pki")
        try pki.issue("ims")
        let net = try NetnsPair(tag: "r")
        self.net = net

        // Our AAA: the HSS with the subscriber, RADIUS on 127.0.0.1:1812 in charon's namespace.
        let sub = Subscriber(imsi: Self.imsi, algorithm: .milenage, k: Self.hex(Self.k), opc: Self.hex(Self.opc))
        let hss = try HSS(subscribers: [sub])
        let ev = events
        let server = try NetnsSocket.run(in: net.a) {
            try RADIUSUDPServer(bindAddress: "127.0.0.1", port: 1812, clients: ["127.0.0.1": aaaSecret], hss: hss,
                                onEvent: { peer, e in ev.add("\(peer) \(e)") })
        }
        try server.start()
        radius = server

        let c = try Charon(ns: net.a, dir: dir + "/charon",
                           plugins: ["random", "nonce", "aes", "md5", "sha1", "sha2", "hmac", "kdf", "xcbc", "gmp", "x509", "pubkey", "pkcs1",
                                     "pkcs8", "pem", "revocation", "constraints", "kernel-libipsec", "kernel-netlink", "socket-default", "vici",
                                     "eap-radius", "eap-identity"],
                           pluginConfig: """
                           kernel-netlink { fwmark = !0x42 }
                           socket-default { fwmark = 0x42 }
                           eap-radius {
                             eap_start = no
                             servers {
                               aaa {
                                 address = 127.0.0.1
                                 auth_port = 1812
                                 secret = \(radiusSecret)
                               }
                             }
                           }
                           """)
        charon = c
        try FileManager.default.copyItem(atPath: pki.dir + "/ims.pem", toPath: c.dir + "/swanctl/x509/ims.pem")
        try FileManager.default.copyItem(atPath: pki.dir + "/ims.key", toPath: c.dir + "/swanctl/private/ims.key")
        try c.start()
        try c.load(swanctlConf: """
        connections {
          epdg {
            version = 2
            local_addrs = \(NetnsPair.addressA)
            pools = ue4, ue6
            proposals = aes128-sha256-modp2048
            local {
              auth = pubkey
              certs = ims.pem
              id = ims
            }
            remote {
              auth = eap-radius
              id = %any
              eap_id = %any
            }
            children {
              ims {
                local_ts = 0.0.0.0/0, ::/0
                esp_proposals = aes128-sha1
              }
            }
          }
        }
        pools {
          ue4 {
            addrs = 198.18.0.0/24
            dns = 198.18.1.53
            20 = \(Self.pcscf)
          }
          ue6 {
            addrs = 2001:db8:18:1::/112
            dns = 2001:db8:18::53
          }
        }
        """)
    }

    func makePhone(k: String = StrongSwanResponderTests.k, akaPrime: Bool = false, ipv6: Bool = false) throws -> PhoneDriver {
        guard let net else { throw XCTSkip("no namespaces") }
        var cfg = IKEInitiatorConfig(imsi: Self.imsi, mcc: "001", mnc: "01", useAKAPrime: akaPrime, apn: "ims", requestIPv6: ipv6)
        cfg.forceUDPEncapsulation = true
        // Ask for strongSwan's certificate (it sends it only when asked): any CA.
        cfg.certificateRequest = CertPayload(encoding: CertPayload.X509_SIGNATURE, data: [])
        cfg.retransmitTimeout = 1
        cfg.maxRetransmits = 3
        let usim = try USIM(algorithm: .milenage(Milenage(k: Self.hex(k), opc: Self.hex(Self.opc))))
        return try PhoneDriver(ns: net.b, local: NetnsPair.addressB, epdg: NetnsPair.addressA, config: cfg, usim: usim)
    }

    /// Issue 5: IKE_SA_INIT, EAP-Identity, EAP-AKA through strongSwan to our AAA (RADIUS
    /// Access-Challenge/Accept with MS-MPPE keys), AUTH from the MSK both ways, strongSwan's
    /// certificate AUTH checked by the phone, CP address/DNS/P-CSCF, the Child SA; then ICMP echo
    /// through the tunnel to strongSwan's side (libipsec decrypts our ESP in UDP and encrypts the replies).
    func testOurPhoneThroughStrongSwanToOurAAA() throws {
        try bringUp(radiusSecret: "swan-radius-secret", aaaSecret: "swan-radius-secret")
        guard let charon, let net else { return }
        var capture: Process?
        if Shell.which("tshark") != nil {
            capture = try CaptureDecode.start(ns: net.b, iface: net.vethB, path: dir + "/phone.pcapng", log: dir + "/tshark.out", peer: NetnsPair.addressA)
        }
        defer { if let c = capture, c.isRunning { c.interrupt(); c.waitUntilExit() } }
        let phone = try makePhone()
        let ok = phone.connect()
        XCTAssertTrue(ok, "phone: \(phone.ike.state)\n\(phone.logs.joined(separator: "\n"))\n--- charon\n\(charon.log.suffix(5000))\n--- radius\n\(events.all)")
        guard ok, let assigned = phone.ike.assigned else { return }
        XCTAssertTrue(phone.ike.responderUsedCertificate, "the phone did not check strongSwan's certificate AUTH")
        XCTAssertEqual(assigned.ipv4.map { $0.bytes[0...2] == [198, 18, 0] }, true, "\(assigned)")
        XCTAssertEqual(assigned.dns.map(\.description), ["198.18.1.53"])
        XCTAssertEqual(assigned.pcscf.map(\.description), [Self.pcscf])
        XCTAssertTrue(events.all.contains { $0.contains("accepted") }, "\(events.all)")
        let sas = charon.swanctl("--list-sas").output
        XCTAssertTrue(sas.contains("ESTABLISHED") && sas.contains("INSTALLED"), sas)
        XCTAssertTrue(sas.contains("0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"), sas)
        XCTAssertTrue(sas.contains(assigned.ipv4?.description ?? "-"), sas)
        XCTAssertTrue(charon.log.contains("RADIUS authentication of '0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org' successful"),
                      charon.log.suffix(3000).description)

        // Traffic: echo requests from the inner address to strongSwan's own address, through ESP.
        let replies = phone.ping([198, 51, 100, 1], count: 3)
        XCTAssertEqual(replies, 3, "echo replies through strongSwan's tunnel\n\(phone.logs.suffix(20).joined(separator: "\n"))\n\(charon.swanctl("--list-sas").output)")
        let after = charon.swanctl("--list-sas").output
        XCTAssertNotNil(after.range(of: #"in\s+[0-9a-f]{8},\s+[1-9]\d* bytes"#, options: .regularExpression), "strongSwan counted no inbound ESP:\n\(after)")

        // Issue 9 from the phone's side: with the phone's keys, tshark opens every SK payload and
        // ESP packet of the exchange with strongSwan, and nothing is malformed.
        if let cap = capture {
            usleep(500_000)
            cap.interrupt()
            cap.waitUntilExit()
            let xdg = dir + "/xdg/wireshark"
            try FileManager.default.createDirectory(atPath: xdg, withIntermediateDirectories: true)
            try (phone.keyRows.ike.joined(separator: "\n") + "\n").write(toFile: xdg + "/ikev2_decryption_table", atomically: true, encoding: .utf8)
            try (phone.keyRows.esp.joined(separator: "\n") + "\n").write(toFile: xdg + "/esp_sa", atomically: true, encoding: .utf8)
            let r = Shell.run(["tshark", "-r", dir + "/phone.pcapng", "-o", "esp.enable_encryption_decode:TRUE", "-T", "fields", "-E", "separator=|",
                               "-e", "eap.type", "-e", "eap.aka.subtype", "-e", "icmp.type", "-e", "_ws.malformed", "-e", "_ws.expert.severity"],
                              env: ["XDG_CONFIG_HOME": dir + "/xdg", "HOME": dir + "/xdg"], timeout: 60, dropStderr: true)
            XCTAssertEqual(r.status, 0)
            // For a failure message only: the IKE packets tshark saw (a capture that started late has none).
            let ikeSummary = { [dir] in
                Shell.run(["tshark", "-r", dir + "/phone.pcapng", "-Y", "isakmp", "-T", "fields", "-E", "separator=|",
                           "-e", "isakmp.ispi", "-e", "isakmp.rspi", "-e", "isakmp.exchtype", "-e", "isakmp.enc.decrypted"],
                          env: ["XDG_CONFIG_HOME": dir + "/xdg", "HOME": dir + "/xdg"], timeout: 60, dropStderr: true).output
            }
            let rows = r.output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
            XCTAssertFalse(rows.contains { $0.count > 3 && !$0[3].isEmpty }, "malformed:\n\(r.output.prefix(2000))")
            let eapTypes = Set(rows.compactMap { $0.first }.filter { !$0.isEmpty })
            XCTAssertTrue(eapTypes.isSuperset(of: ["1", "23"]), "decrypted EAP types (Identity, AKA): \(eapTypes)\nIKE in the capture:\n\(ikeSummary().prefix(3000))\nkey rows:\n\(phone.keyRows.ike.joined(separator: "\n"))")
            let akaSubtypes = Set(rows.compactMap { $0.count > 1 ? $0[1] : nil }.filter { !$0.isEmpty })
            XCTAssertTrue(akaSubtypes.contains("1"), "decrypted AKA subtypes (Challenge = 1): \(akaSubtypes)")
            let icmp = Set(rows.compactMap { $0.count > 2 ? $0[2] : nil }.filter { !$0.isEmpty })
            XCTAssertTrue(icmp.isSuperset(of: ["0", "8"]), "decrypted ICMP types: \(icmp)")
        }
    }

    /// The same with EAP-AKA' (RFC 5448/9048: NAI prefix 6, AT_KDF, AT_KDF_INPUT "WLAN", CK'/IK'):
    /// strongSwan relays a method it does not implement itself; the MSK from our AAA matches the
    /// phone's, so both AUTHs verify and ESP flows.
    func testOurPhoneWithEAPAKAPrimeThroughStrongSwan() throws {
        try bringUp(radiusSecret: "swan-radius-secret", aaaSecret: "swan-radius-secret")
        guard let charon else { return }
        let phone = try makePhone(akaPrime: true)
        let ok = phone.connect()
        XCTAssertTrue(ok, "phone: \(phone.ike.state)\n\(phone.logs.joined(separator: "\n"))\n--- charon\n\(charon.log.suffix(4000))\n--- radius\n\(events.all)")
        guard ok else { return }
        XCTAssertTrue(events.all.contains { $0.contains("accepted") && $0.contains("AKA'") }, "\(events.all)")
        XCTAssertTrue(charon.log.contains("RADIUS authentication of '6001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org' successful"),
                      charon.log.suffix(3000).description)
        XCTAssertEqual(phone.ping([198, 51, 100, 1], count: 2), 2, phone.logs.suffix(10).joined(separator: "\n"))
    }

    /// IPv4v6: the phone asks for INTERNAL_IP6_ADDRESS too, gets one from strongSwan's IPv6 pool,
    /// and ICMPv6 echo crosses the tunnel (ESP next header 41) besides IPv4.
    func testOurPhoneIPv4v6ThroughStrongSwan() throws {
        try bringUp(radiusSecret: "swan-radius-secret", aaaSecret: "swan-radius-secret")
        guard let charon else { return }
        let phone = try makePhone(ipv6: true)
        let ok = phone.connect()
        XCTAssertTrue(ok, "phone: \(phone.ike.state)\n\(phone.logs.joined(separator: "\n"))\n--- charon\n\(charon.log.suffix(4000))")
        guard ok, let assigned = phone.ike.assigned else { return }
        XCTAssertEqual(assigned.ipv6.map { Array($0.bytes[0..<8]) }, [0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 1], "\(assigned)")
        XCTAssertTrue(assigned.dns.map(\.description).contains("2001:db8:18::53"), "\(assigned)")
        XCTAssertEqual(phone.ping([198, 51, 100, 1], count: 2), 2, phone.logs.suffix(10).joined(separator: "\n"))
        let dst6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0x51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        XCTAssertEqual(phone.ping6(dst6, count: 2), 2, "ICMPv6 through the tunnel\n\(phone.logs.suffix(10).joined(separator: "\n"))\n\(charon.swanctl("--list-sas").output)")
    }

    /// A phone whose K differs from the HSS's fails: it rejects the network's AUTN
    /// (AKA-Authentication-Reject), our AAA sends Access-Reject, strongSwan AUTHENTICATION_FAILED.
    func testWrongKFails() throws {
        try bringUp(radiusSecret: "swan-radius-secret", aaaSecret: "swan-radius-secret")
        guard let charon else { return }
        let phone = try makePhone(k: "000102030405060708090a0b0c0d0e0f")
        XCTAssertFalse(phone.connect(seconds: 15))
        XCTAssertFalse(phone.established)
        XCTAssertTrue(events.all.contains { $0.contains("rejected") }, "\(events.all)")
        XCTAssertFalse(charon.swanctl("--list-sas").output.contains("ESTABLISHED"))
        XCTAssertTrue(charon.log.contains("RADIUS authentication of") && charon.log.contains("failed"), charon.log.suffix(3000).description)
    }

    /// strongSwan's RADIUS secret differs from our AAA's: our server discards the requests (bad
    /// Message-Authenticator), strongSwan gets no answer, and no SA comes up.
    func testWrongRADIUSSecretFails() throws {
        try bringUp(radiusSecret: "not-the-secret", aaaSecret: "swan-radius-secret")
        guard let charon else { return }
        let phone = try makePhone()
        XCTAssertFalse(phone.connect(seconds: 15))
        XCTAssertFalse(phone.established)
        XCTAssertFalse(events.all.contains { $0.contains("accepted") || $0.contains("challenge") }, "\(events.all)")
        XCTAssertTrue(events.all.contains { $0.contains("discarded") }, "\(events.all)")
        XCTAssertFalse(charon.swanctl("--list-sas").output.contains("ESTABLISHED"))
    }
}
