import AKA
import Analysis
import Crypto
import ESP
import Foundation
import Glibc
import IKEv2
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// The evidence a running core leaves: an IKEv2 initiator attaches over loopback to the ePDG
/// on UDP 500/4500 (own 127.x.y.1 address, so no other test's port is in the way), registers
/// with IMS AKA through ESP, and then the capture, the key files and the log are checked by
/// `vowifi analyze`'s FlowAnalyzer and by tshark.
final class EvidenceTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vowifi-evidence-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let keep = ProcessInfo.processInfo.environment["VOWIFI_EVIDENCE_KEEP"] {
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: dir, toPath: keep)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let imsi = "001010000000001"
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc"), opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")

    struct Run {
        var core: VoWiFiCore
        var epdgHost: String
        var log: String
        var events: [CoreEvent]
        var registerStatus: [String]
    }

    /// Starts the core on `127.a.b.1` (500/4500, or ephemeral ports) with capture, key files
    /// and a full log.
    func startCore(wellKnownPorts: Bool, events: Collector<CoreEvent>) throws -> (VoWiFiCore, String, UInt16, UInt16) {
        if wellKnownPorts && geteuid() != 0 { throw XCTSkip("needs root to bind UDP 500/4500 (tshark knows IKE by those ports)") }
        let a = UInt8.random(in: 1...254), b = UInt8.random(in: 1...254)
        let epdgHost = "127.\(a).\(b).1"
        var o = CoreOptions(mmeConfigPath: Vectors.repoRoot.appendingPathComponent("config/mme-ims.cfg").path,
                            imsConfigPath: Vectors.repoRoot.appendingPathComponent("config/ims.cfg").path, innerPath: .inProcess)
        o.epdgHost = epdgHost; o.ikePort = wellKnownPorts ? 500 : 0; o.natTPort = wellKnownPorts ? 4500 : 0
        o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"
        o.logFile = dir + "/core.log"
        o.logOptions = "all.level=info,ikev2.level=debug,ikev2.payload=1,ikev2.key=1,ipsec.key=1,sip.level=debug,sip.payload=1,eap.level=debug"
        o.keyLogDirectory = dir + "/wireshark"
        o.capturePath = dir + "/core.pcapng"
        o.events = { events.append($0) }
        let core = try VoWiFiCore(options: o)
        try core.start()
        let (ikePort, natT) = try XCTUnwrap(core.group).loops[0].submit { [core] in (core.epdg!.ikeAddress.port, core.epdg!.natTAddress.port) }
        return (core, epdgHost, ikePort, natT)
    }

    /// One phone: attach (EAP-AKA), REGISTER (401, then 200 with IMS AKA) through ESP, detach.
    /// Returns the status lines of the two REGISTER answers.
    func runPhone(imsi: String = EvidenceTests.imsi, k: [UInt8] = EvidenceTests.k, opc: [UInt8] = EvidenceTests.opc,
                  ueHost: String, epdgHost: String, ikePort: UInt16, natT: UInt16, call: Bool = false) throws -> [String] {
        let attach = try LoopbackAttach.run(host: ueHost, epdgHost: epdgHost, ikePort: ikePort, natTPort: natT, imsi: imsi, k: k, opc: opc)
        let (sock, ue, child) = (attach.sock, attach.ue, attach.child)
        // A fresh copy of the SIM for IMS AKA over SIP: the IMS vector's SQN is above all it has seen.
        var usim = try USIM(algorithm: .milenage(try Milenage(k: k, opc: opc)))
        let c = try XCTUnwrap(child, "no Child SA: \(ue.state)\n\((try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "")")
        let innerV4 = try XCTUnwrap(ue.assigned?.ipv4)
        let (out, inb) = try c.phoneSAs()
        // SIP over UDP inside ESP to the P-CSCF; answers come back the same way.
        func sendSIP(_ text: String) throws {
            let inner = IPPacket.udp4(src: innerV4.bytes, dst: [192, 168, 4, 1], sport: 5060, dport: 5060, payload: Array(text.utf8))
            let esp = try inner.withUnsafeBytes { ESPPacket.seal($0, nextHeader: 4, sa: out) }.get()
            sock.send(esp, port: natT)
        }
        func receiveSIP() throws -> String {
            let until = Date().addingTimeInterval(5)
            while Date() < until {
                guard var (d, _) = sock.receive(timeout: 0.5) else { continue }
                guard case let .inner(range, _, _) = d.withUnsafeMutableBytes({ ESPPacket.open($0, sa: inb) }) else { continue }
                if let u = IPPacket.parseUDP(Array(d[range])), u.dport == 5060 { return String(decoding: u.payload, as: UTF8.self) }
            }
            throw XCTSkip("no SIP answer through the tunnel")
        }
        func exchange(_ text: String) throws -> String {
            try sendSIP(text)
            return try receiveSIP()
        }
        let domain = "ims.mnc001.mcc001.3gppnetwork.org"
        let impi = "\(imsi)@\(domain)", uri = "sip:\(domain)"
        func register(cseq: Int, authorization: String) -> String {
            """
            REGISTER \(uri) SIP/2.0\r
            Via: SIP/2.0/UDP \(innerV4):5060;branch=z9hG4bKev\(cseq);rport\r
            Max-Forwards: 70\r
            From: <sip:\(impi)>;tag=ev\r
            To: <sip:\(impi)>\r
            Call-ID: evidence-register-\(imsi)\r
            CSeq: \(cseq) REGISTER\r
            Contact: <sip:\(imsi)@\(innerV4):5060>;expires=600\r
            Authorization: \(authorization)\r
            Content-Length: 0\r
            \r

            """
        }
        var statuses: [String] = []
        let first = try exchange(register(cseq: 1, authorization: "Digest username=\"\(impi)\",realm=\"\(domain)\",uri=\"\(uri)\",nonce=\"\",response=\"\""))
        statuses.append(String(first.prefix(11)))
        // IMS AKA: RAND/AUTN from the nonce, RES as the AKAv1-MD5 password, qop=auth.
        let challenge = try XCTUnwrap(first.split(separator: "\r\n").first { $0.hasPrefix("WWW-Authenticate:") }, first)
        func param(_ n: String) -> String? {
            guard let r = challenge.range(of: "\(n)=\"") else { return nil }
            return String(challenge[r.upperBound...].prefix { $0 != "\"" })
        }
        let nonce = try XCTUnwrap(param("nonce")), realm = try XCTUnwrap(param("realm"))
        let parts = try DigestAKA.parseNonce(nonce)
        guard case let .success(res, _, _) = try usim.authenticate(rand: parts.rand, autn: parts.autn) else { XCTFail("USIM refused the IMS AUTN"); throw XCTSkip() }
        let response = try DigestAuth.response(algorithm: .akav1MD5, username: impi, realm: realm, password: res, method: "REGISTER",
                                               uri: uri, nonce: nonce, nc: "00000001", cnonce: "0a4f113b", qop: .auth)
        let second = try exchange(register(cseq: 2, authorization: "Digest username=\"\(impi)\",realm=\"\(realm)\",uri=\"\(uri)\",nonce=\"\(nonce)\",algorithm=AKAv1-MD5,qop=auth,nc=00000001,cnonce=\"0a4f113b\",response=\"\(response)\""))
        statuses.append(String(second.prefix(11)))
        if call {
            // A call to the echo number (no 100rel): INVITE → 180, 200; ACK; BYE → 200.
            let sdp = "v=0\r\no=- 1 1 IN IP4 \(innerV4)\r\ns=-\r\nc=IN IP4 \(innerV4)\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            func request(_ method: String, cseq: Int, toTag: String?, body: String = "") -> String {
                "\(method) tel:666 SIP/2.0\r\nVia: SIP/2.0/UDP \(innerV4):5060;branch=z9hG4bKc\(method)\(cseq);rport\r\nMax-Forwards: 70\r\n"
                    + "From: <sip:\(impi)>;tag=caller\r\nTo: <tel:666>\(toTag.map { ";tag=\($0)" } ?? "")\r\nCall-ID: evidence-call-\(imsi)\r\n"
                    + "CSeq: \(cseq) \(method)\r\nContact: <sip:\(imsi)@\(innerV4):5060>\r\nP-Preferred-Identity: <sip:\(impi)>\r\n"
                    + (body.isEmpty ? "" : "Content-Type: application/sdp\r\n") + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
            }
            try sendSIP(request("INVITE", cseq: 1, toTag: nil, body: sdp))
            var ok: String?
            for _ in 0..<4 {
                let r = try receiveSIP()
                statuses.append(String(r.prefix(11)))
                if r.hasPrefix("SIP/2.0 200") { ok = r; break }
                if !r.hasPrefix("SIP/2.0 1") { break }
            }
            let toLine = try XCTUnwrap(ok?.split(separator: "\r\n").first { $0.hasPrefix("To:") }, statuses.joined(separator: ","))
            let toTag = toLine.range(of: "tag=").map { String(toLine[$0.upperBound...].prefix { $0 != ";" && $0 != ">" }) }
            try sendSIP(request("ACK", cseq: 1, toTag: toTag))
            let bye = try exchange(request("BYE", cseq: 2, toTag: toTag))
            statuses.append(String(bye.prefix(11)))
        }
        // The phone detaches: INFORMATIONAL Delete, answered by the ePDG.
        for case let .send(bytes, _, to) in ue.delete(now: 2) { sock.send(to.port == natT ? [0, 0, 0, 0] + bytes : bytes, port: to.port) }
        _ = sock.receive(timeout: 2)
        return statuses
    }

    /// The core on `127.a.b.1` and one phone on `127.a.b.2`: attach, register, detach, stop.
    func attachAndRegister(wellKnownPorts: Bool = true) throws -> Run {
        let events = Collector<CoreEvent>()
        let (core, epdgHost, ikePort, natT) = try startCore(wellKnownPorts: wellKnownPorts, events: events)
        var stopped = false
        defer { if !stopped { core.stop() } }
        let ueHost = String(epdgHost.dropLast()) + "2"
        let statuses = try runPhone(ueHost: ueHost, epdgHost: epdgHost, ikePort: ikePort, natT: natT, call: wellKnownPorts)
        core.stop()
        stopped = true
        let log = try String(contentsOfFile: dir + "/core.log", encoding: .utf8)
        return Run(core: core, epdgHost: epdgHost, log: log, events: events.values, registerStatus: statuses)
    }

    func testTwoPhonesOnTheEPDGsOwnAddressAreTwoFlows() throws {
        // As the demo runs: phones and ePDG on one address, ephemeral ports. Flows are told
        // apart by SPIs and ports, directions by the IKE I flag and the UE's port.
        let events = Collector<CoreEvent>()
        let (core, host, ikePort, natT) = try startCore(wellKnownPorts: false, events: events)
        defer { core.stop() }
        XCTAssertEqual(try runPhone(ueHost: host, epdgHost: host, ikePort: ikePort, natT: natT), ["SIP/2.0 401", "SIP/2.0 200"])
        XCTAssertEqual(try runPhone(imsi: "001010000000003", k: [UInt8](hex: "5122250214c33e723a5dd523fc145fc0"),
                                    opc: [UInt8](hex: "981d464c7c52eb6e5036234984ad0bcf"), ueHost: host, epdgHost: host, ikePort: ikePort, natT: natT),
                       ["SIP/2.0 401", "SIP/2.0 200"])
        core.stop()
        let report = try FlowAnalyzer.analyze(path: dir + "/core.pcapng", keysDirectory: dir + "/wireshark")
        XCTAssertEqual(report.flows.map(\.imsi), [Self.imsi, "001010000000003"], LadderRenderer.render(report))
        for f in report.flows {
            for k in [StepKind.ikeSAInit, .eapAKA, .ikeAuth, .childSA, .cfgReply, .register, .delete] {
                XCTAssertEqual(f.step(k)?.verdict, .pass, "\(f.ue) \(k)\n" + LadderRenderer.render(report))
            }
        }
        XCTAssertEqual(events.values.filter { if case .attach = $0 { true } else { false } }.count, 2)
        XCTAssertEqual(events.values.filter { if case .detach = $0 { true } else { false } }.count, 2)
    }

    func testCaptureKeysAndLogGiveTheFlowToAnalyzeAndTshark() throws {
        let r = try attachAndRegister()
        XCTAssertEqual(r.registerStatus, ["SIP/2.0 401", "SIP/2.0 200", "SIP/2.0 100", "SIP/2.0 180", "SIP/2.0 200", "SIP/2.0 200"], r.log)

        // The capture: both interfaces, IMSI comments, outer packets on 500/4500 of the ePDG.
        let cap = try PcapNGReader(path: dir + "/core.pcapng")
        XCTAssertEqual(cap.interfaces.map(\.name), ["outer", "inner"])
        let outer = cap.packets.filter { $0.interfaceName == "outer" }, inner = cap.packets.filter { $0.interfaceName == "inner" }
        XCTAssertGreaterThanOrEqual(outer.count, 8)        // INIT ×2, AUTH ×6 at least, ESP ×4, Delete
        XCTAssertEqual(inner.count, 11, "REGISTER, 401, REGISTER, 200, INVITE, 100, 180, 200, ACK, BYE, 200")
        XCTAssertTrue(inner.allSatisfy { $0.comment == "IMSI \(Self.imsi)" }, "\(inner.map(\.comment))")
        XCTAssertGreaterThan(outer.filter { $0.comment == "IMSI \(Self.imsi)" }.count, outer.count / 2)

        // vowifi analyze with the key files.
        let report = try FlowAnalyzer.analyze(path: dir + "/core.pcapng", keysDirectory: dir + "/wireshark")
        let flow = try XCTUnwrap(report.flows.first, LadderRenderer.render(report))
        XCTAssertEqual(flow.imsi, Self.imsi)
        for k in [StepKind.ikeSAInit, .eapAKA, .ikeAuth, .childSA, .cfgReply, .register, .invite, .bye, .delete] {
            XCTAssertEqual(flow.step(k)?.verdict, .pass, "\(k)\n" + LadderRenderer.render(report))
        }
        // ... and with nothing but our log: keys found in its key lines.
        try FileManager.default.createDirectory(atPath: dir + "/nokeys", withIntermediateDirectories: true)
        let fromLog = try FlowAnalyzer.analyze(path: dir + "/core.pcapng", keysDirectory: dir + "/nokeys", logText: r.log)
        let f2 = try XCTUnwrap(fromLog.flows.first)
        for k in [StepKind.ikeSAInit, .eapAKA, .ikeAuth, .childSA, .register] {
            XCTAssertEqual(f2.step(k)?.verdict, .pass, "\(k) from the log's keys\n" + LadderRenderer.render(fromLog))
        }
        XCTAssertFalse(fromLog.notes.contains { $0.contains("ESP SPIs without") }, "ESP decrypted with the esp_sa rows quoted in the log: \(fromLog.notes)")

        // Events: one attach with the inner address, one registration.
        XCTAssertTrue(r.events.contains { if case let .attach(i, apn, _, v4, _) = $0 { i == Self.imsi && apn == "ims" && v4?.hasPrefix("192.168.4.") == true } else { false } }, "\(r.events)")
        XCTAssertTrue(r.events.contains { if case let .register(impi, _, exp) = $0 { impi.hasPrefix(Self.imsi) && exp > 0 } else { false } }, "\(r.events)")
        XCTAssertTrue(r.events.contains { if case let .detach(i, _) = $0 { i == Self.imsi } else { false } }, "\(r.events)")
        XCTAssertTrue(r.events.contains { if case let .callStart(id, _, to, kind) = $0 { id == "evidence-call-\(Self.imsi)" && to == "tel:666" && kind == "echo" } else { false } }, "\(r.events)")
        XCTAssertTrue(r.events.contains { if case let .callEnd(id, _) = $0 { id == "evidence-call-\(Self.imsi)" } else { false } }, "\(r.events)")

        // tshark with only the capture and our key files decrypts EAP and shows the REGISTERs.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { throw XCTSkip("tshark not installed") }
        let t = try runTool("/usr/bin/tshark", ["-r", dir + "/core.pcapng", "-o", "esp.enable_encryption_decode:TRUE",
                                                "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "eap.code",
                                                "-e", "eap.aka.subtype", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "_ws.malformed"],
                            env: ["XDG_CONFIG_HOME": dir, "HOME": dir])
        XCTAssertEqual(t.status, 0, t.err)
        let rows = t.out.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertFalse(rows.contains { $0.count > 5 && !$0[5].isEmpty }, "malformed:\n\(t.out)")
        let outerRows = rows.filter { $0.first == "outer" }
        XCTAssertEqual(outerRows.compactMap { $0.count > 1 && !$0[1].isEmpty ? $0[1] : nil }, ["1", "2", "3"], t.out)
        XCTAssertEqual(outerRows.compactMap { $0.count > 2 && !$0[2].isEmpty ? $0[2] : nil }, ["1", "1"], t.out)
        let innerMethods = rows.filter { $0.first == "inner" }.compactMap { $0.count > 3 && !$0[3].isEmpty ? $0[3] : nil }
        XCTAssertEqual(innerMethods, ["REGISTER", "REGISTER", "INVITE", "ACK", "BYE"], t.out)
        // ESP decrypted by tshark from esp_sa too: the REGISTERs show on the outer interface.
        XCTAssertEqual(outerRows.compactMap { $0.count > 3 && !$0[3].isEmpty ? $0[3] : nil }, ["REGISTER", "REGISTER", "INVITE", "ACK", "BYE"], t.out)
    }

    func testLogShowsDecodedIKEv2SIPAndKeysLikeACallbox() throws {
        let r = try attachAndRegister()
        let log = r.log
        let lines = log.split(separator: "\n").map(String.init)
        func entry(_ prefix: String) -> [String] {
            // A log entry and its indented continuation lines.
            guard let i = lines.firstIndex(where: { $0.contains(prefix) }) else { return [] }
            return [lines[i]] + lines[(i + 1)...].prefix { $0.hasPrefix("  ") }
        }
        // IKE_SA_INIT request from the phone: FROM, the phone's address, header and payload tree.
        let initReq = entry("[IKEV2] FROM ")
        XCTAssertTrue(initReq.first?.contains("IKE_SA_INIT request #0 [SA KE No N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)") == true, initReq.joined(separator: "\n"))
        let initText = initReq.joined(separator: "\n")
        for needle in ["  IKE header: SPIi=0x", "    exchange_type=IKE_SA_INIT (34) flags=0x8 (I) message_id=0 length=",
                       "  SA: 1 proposal(s)", "    Proposal #1 protocol=IKE transforms=4",
                       "      ENCR: ENCR_AES_CBC key_length=128", "      PRF: PRF_HMAC_SHA2_256", "      INTEG: AUTH_HMAC_SHA2_256_128",
                       "      D-H: MODP_2048 (14)", "  KE: DH group MODP_2048 (14), 256 bytes", "  Nonce: ",
                       "  N: NAT_DETECTION_SOURCE_IP (16388) data="] {
            XCTAssertTrue(initText.contains(needle), "missing \"\(needle)\" in\n\(initText)")
        }
        // The response: R flag, one proposal chosen.
        let initRsp = entry("[IKEV2] TO ")
        XCTAssertTrue(initRsp.first?.contains("IKE_SA_INIT response #0") == true, initRsp.joined(separator: "\n"))
        XCTAssertTrue(initRsp.contains { $0.contains("flags=0x20 (R)") }, initRsp.joined(separator: "\n"))
        // Keys after IKE_SA_INIT, with the Wireshark row the analyzer reads back.
        XCTAssertTrue(log.contains("IKE SA keys SPIi=0x"), log)
        for k in ["SK_d=", "SK_ai=", "SK_ar=", "SK_ei=", "SK_er=", "SK_pi=", "SK_pr=", "ikev2_decryption_table: "] {
            XCTAssertTrue(log.contains("  \(k)"), k)
        }
        // IKE_AUTH, decrypted: identities, EAP-AKA with its attributes, CP, TS, SA.
        for needle in ["IKE_AUTH request #1 [IDi IDr CP SA TSi TSr N(INITIAL_CONTACT) N(EAP_ONLY_AUTHENTICATION)]",
                       "SK: encrypted ", "IDi: ID_RFC822_ADDR 0\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org", "IDr: ID_FQDN ims",
                       "CP: CFG_REQUEST", "INTERNAL_IP4_ADDRESS: (empty, requested)",
                       "EAP: Request id=", "type=EAP-AKA (23)", "subtype AKA-Challenge (1)", "AT_RAND ", "AT_AUTN ", "AT_MAC ",
                       "EAP: Response id=", "AT_RES (64 bits) ", "EAP: Success id=",
                       "CP: CFG_REPLY", "INTERNAL_IP4_ADDRESS: 192.168.4.", "P_CSCF_IP4_ADDRESS: 192.168.4.1",
                       "TS_IPV4_ADDR_RANGE protocol=0 ports=0-65535 addresses=0.0.0.0-255.255.255.255",
                       "Proposal #1 protocol=ESP SPI=0x", "ESN: NO_ESN"] {
            XCTAssertTrue(log.contains(needle), "missing \"\(needle)\"")
        }
        // The phone's Delete and the ePDG's answer, the SA's last message, both decrypted.
        XCTAssertTrue(lines.contains { $0.contains("[IKEV2] FROM ") && $0.contains("INFORMATIONAL request #") && $0.hasSuffix("[D]") }, log)
        XCTAssertTrue(lines.contains { $0.contains("[IKEV2] TO ") && $0.contains("INFORMATIONAL response #") && $0.hasSuffix("[]") },
                      lines.filter { $0.contains("INFORMATIONAL") }.joined(separator: "\n"))
        XCTAssertFalse(log.contains("no keys for this IKE SA"), log)
        // The UE column is the IMSI once known.
        XCTAssertTrue(lines.contains { $0.contains("[IKEV2] FROM \(Self.imsi) 127.") && $0.contains("IKE_AUTH request #1") }, log)
        // Add IPsec SA in the tutorial's style, keys included (ipsec.key=1), and the esp_sa rows.
        let add = lines.filter { $0.contains("Add IPsec SA") }
        XCTAssertEqual(add.count, 2, add.joined(separator: "\n"))
        let out = try XCTUnwrap(add.first { $0.contains("Add IPsec SA out:") })
        XCTAssertTrue(out.contains("Tunnel src=\(r.epdgHost):500 dst=127."), out)
        XCTAssertTrue(out.contains(" src=0.0.0.0:0/0 dst=192.168.4."), out)
        XCTAssertTrue(out.contains(":0/32 spi=0x"), out)
        XCTAssertNotNil(out.range(of: #"auth=hmac-sha-1-96 0x[0-9a-f]{40} cipher=aes-cbc 0x[0-9a-f]{32}"#, options: .regularExpression), out)
        XCTAssertEqual(lines.filter { $0.contains("esp_sa: \"IPv4\"") }.count, 2)
        // SIP: FROM/TO, IMSI, the phone's inner address, and the whole message.
        let reg = entry("[SIP] FROM \(Self.imsi) 192.168.4.")
        XCTAssertTrue(reg.first?.hasSuffix(":5060 REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0") == true, reg.joined(separator: "\n"))
        XCTAssertTrue(reg.contains("  Call-ID: evidence-register-\(Self.imsi)"), reg.joined(separator: "\n"))
        XCTAssertTrue(reg.contains("  CSeq: 1 REGISTER"), reg.joined(separator: "\n"))
        let chal = entry("[SIP] TO \(Self.imsi) 192.168.4.")
        XCTAssertTrue(chal.first?.hasSuffix("SIP/2.0 401 Unauthorized") == true, chal.joined(separator: "\n"))
        XCTAssertTrue(chal.contains { $0.hasPrefix("  WWW-Authenticate: Digest ") && $0.contains("algorithm=AKAv1-MD5") }, chal.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("[SIP] TO \(Self.imsi) 192.168.4.") && $0.hasSuffix("SIP/2.0 200 OK") }, log)
    }

    func testAnalyzeFindsAnEPDGOnEphemeralPorts() throws {
        // As `vowifi demo --capture` runs it: the ePDG on ephemeral ports, not 500/4500.
        let r = try attachAndRegister(wellKnownPorts: false)
        XCTAssertEqual(r.registerStatus, ["SIP/2.0 401", "SIP/2.0 200"])
        let report = try FlowAnalyzer.analyze(path: dir + "/core.pcapng", keysDirectory: dir + "/wireshark")
        let flow = try XCTUnwrap(report.flows.first, LadderRenderer.render(report))
        for k in [StepKind.ikeSAInit, .eapAKA, .ikeAuth, .childSA, .cfgReply, .register] {
            XCTAssertEqual(flow.step(k)?.verdict, .pass, "\(k)\n" + LadderRenderer.render(report))
        }
        XCTAssertFalse(report.notes.contains { $0.contains("ESP SPIs without") }, "\(report.notes)")
    }

    // MARK: units

    func testTreeOfARealIKESAInitExactly() throws {
        // The phone's first message, as IKEInitiator sends it, decoded line by line.
        let cfg = IKEInitiatorConfig(imsi: Self.imsi, mcc: "001", mnc: "01")
        let usim = try USIM(algorithm: .milenage(try Milenage(k: Self.k, opc: Self.opc)))
        let ue = IKEInitiator(config: cfg, usim: usim, local: IKEEndpoint(IPAddress(v4: 198, 51, 100, 7), 500),
                              remote: IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), 500), now: 0)
        guard case let .send(bytes, _, _)? = ue.start(now: 0).first(where: { if case .send = $0 { true } else { false } }) else { return XCTFail("no IKE_SA_INIT") }
        let m = try IKEMessage(parsing: bytes)
        let t = IKEMessageTree(maxSize: 0)
        XCTAssertEqual(t.summary(m.header, payloads: m.payloads), "IKE_SA_INIT request #0 [SA KE No N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)" + (m.payloads.count > 5 ? " " + m.payloads.dropFirst(5).map(IKEMessageTree.shortName).joined(separator: " ") : "") + "]")
        let lines = t.lines(m, inner: nil)
        XCTAssertEqual(Array(lines.prefix(8)), [
            "IKE header: SPIi=0x\(String(format: "%016llx", m.header.spiI)) SPIr=0x0000000000000000 version=2.0",
            "  exchange_type=IKE_SA_INIT (34) flags=0x8 (I) message_id=0 length=\(bytes.count)",
            "SA: 1 proposal(s)",
            "  Proposal #1 protocol=IKE transforms=4",
            "    ENCR: ENCR_AES_CBC key_length=128",
            "    PRF: PRF_HMAC_SHA2_256",
            "    INTEG: AUTH_HMAC_SHA2_256_128",
            "    D-H: MODP_2048 (14)",
        ])
        XCTAssertEqual(lines[8], "KE: DH group MODP_2048 (14), 256 bytes")
        XCTAssertEqual(lines[9], "Nonce: \(m.payloads.nonce?.count ?? 0) bytes")
        XCTAssertEqual(lines[10], "N: NAT_DETECTION_SOURCE_IP (16388) data=20 bytes")      // max_size=0: lengths only
        // With max_size=4 values are cut after 4 bytes.
        let cut = IKEMessageTree(maxSize: 4).lines(m, inner: nil)
        XCTAssertTrue(cut.contains { $0.hasPrefix("  data=") && $0.hasSuffix("... (256 bytes)") && $0.count == "  data=".count + 8 + "... (256 bytes)".count }, cut.joined(separator: "\n"))
    }

    func testTreeOfEAPAKAAndCFGReply() {
        // The EAP-AKA Challenge and a CFG_REPLY as the ePDG sends them inside SK.
        let rand = [UInt8](repeating: 0x11, count: 16), autn = [UInt8](repeating: 0x22, count: 16)
        let eap = EAPAKAMessage(subtype: .challenge, attributes: [.AT_RAND(rand), .AT_AUTN(autn), .AT_MAC([UInt8](repeating: 0, count: 16))])
            .packet(code: .request, identifier: 7, method: EAPType.aka)
        let t = IKEMessageTree()
        XCTAssertEqual(t.payloadLines(.eap(eap), depth: 1), [
            "  EAP: Request id=7 type=EAP-AKA (23)",
            "    subtype AKA-Challenge (1)",
            "      AT_RAND 11111111111111111111111111111111",
            "      AT_AUTN 22222222222222222222222222222222",
            "      AT_MAC 00000000000000000000000000000000",
        ])
        let cp = CPPayload(cfgType: CPPayload.CFG_REPLY, attributes: [
            .init(CPPayload.Attribute.INTERNAL_IP4_ADDRESS, [192, 168, 4, 2]),
            .init(CPPayload.Attribute.P_CSCF_IP6_ADDRESS, IPAddress("2001:db8:4::1")!.bytes),
            .init(CPPayload.Attribute.INTERNAL_IP6_ADDRESS, IPAddress("2001:db8:4:1::2")!.bytes + [64]),
            .init(16390, IPAddress("2001:db8:4::1")!.bytes),
        ])
        XCTAssertEqual(t.payloadLines(.cp(cp), depth: 0), [
            "CP: CFG_REPLY, 4 attribute(s)",
            "  INTERNAL_IP4_ADDRESS: 192.168.4.2",
            "  P_CSCF_IP6_ADDRESS: 2001:db8:4::1",
            "  INTERNAL_IP6_ADDRESS: 2001:db8:4:1::2/64",
            "  P_CSCF_IP6_ADDRESS (private 16390): 2001:db8:4::1",
        ])
        let ts = TSPayload([.single(IPAddress(v4: 192, 168, 4, 2))])
        XCTAssertEqual(t.payloadLines(.tsi(ts), depth: 0), ["TSi: 1 selector(s)", "  TS_IPV4_ADDR_RANGE protocol=0 ports=0-65535 addresses=192.168.4.2-192.168.4.2"])
        XCTAssertEqual(t.payloadLines(.notify(NotifyPayload(.INVALID_KE_PAYLOAD, data: [0, 19])), depth: 0), ["N: INVALID_KE_PAYLOAD (17) accepted DH group ECP_256 (19)"])
    }

    func testLogOptionsParseLikeACallbox() {
        let o = LogOptions(parsing: "all.level=error,all.max_size=0,ikev2.level=debug,ikev2.payload=1, ipsec.key=1,sip.level=info,nas.level=debug,time=full,file.rotate=10M,ims.level=bogus")
        XCTAssertEqual(o.level(.ikev2), .debug)
        XCTAssertEqual(o.level(.sip), .info)
        XCTAssertEqual(o.level(.hss), .error)
        XCTAssertTrue(o.payload(.ikev2)); XCTAssertFalse(o.payload(.sip))
        XCTAssertTrue(o.key(.ipsec)); XCTAssertFalse(o.key(.ikev2))
        XCTAssertEqual(o[.ikev2].maxSize, 0)
        XCTAssertEqual(o.time, .full)
        XCTAssertEqual(o.rotateSize, 10 << 20)
        XCTAssertEqual(o.ignored, ["ims.level=bogus"])
        // A layer option before `all.` still wins over it.
        XCTAssertEqual(LogOptions(parsing: "sip.level=debug,all.level=none").level(.sip), .debug)
        XCTAssertEqual(LogOptions(parsing: "epdg.level=debug").level(.ikev2), .debug)
    }

    func testEventLinesForIMSEvents() {
        XCTAssertEqual(CoreEvent(.callStarted(callID: "c1", from: "sip:001010000000001@ims", to: "tel:666", kind: "echo"))?.description,
                       "call-start call_id=c1 from=sip:001010000000001@ims to=tel:666 kind=echo")
        XCTAssertEqual(CoreEvent(.callEnded(callID: "c1", reason: "BYE from caller"))?.description, "call-end call_id=c1 reason=\"BYE from caller\"")
        XCTAssertEqual(CoreEvent(.registered(impi: "i", contact: "sip:c", expires: 0)), .deregister(impi: "i", contact: "sip:c"))
        XCTAssertNil(CoreEvent(.resynchronized(impi: "i")))
        XCTAssertEqual(CoreEvent.attach(imsi: "001010000000001", apn: "ims", peer: "198.51.100.7:4500", ipv4: "192.168.4.2", ipv6: nil).description,
                       "attach imsi=001010000000001 apn=ims peer=198.51.100.7:4500 ipv4=192.168.4.2")
        let line = CoreEvent.detach(imsi: "001010000000001", reason: "deleted by peer").line
        XCTAssertNotNil(line.range(of: #"^\d\d:\d\d:\d\d\.\d{3} detach imsi=001010000000001 reason="deleted by peer"$"#, options: .regularExpression), line)
    }

    func testLogFileRotatesAndRestamps() throws {
        let sink = try LogFileSink(path: dir + "/r.log", options: LogOptions(parsing: "time=full,file.rotate=100"))
        for i in 0..<5 { sink.write("12:00:00.000 [IKEV2] - - line \(i) " + String(repeating: "x", count: 40)) }
        let first = try String(contentsOfFile: dir + "/r.log.1", encoding: .utf8)
        XCTAssertNotNil(first.range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[IKEV2\] - - line 0 x+\n"#, options: .regularExpression), first)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/r.log.2"))
        XCTAssertTrue(try String(contentsOfFile: dir + "/r.log", encoding: .utf8).contains("line 4"))
    }

    func testTrafficSelectorsAsTheTutorialWritesThem() {
        XCTAssertEqual(IPsecSALog.selector(.anyV4), "0.0.0.0:0/0")
        XCTAssertEqual(IPsecSALog.selector(.single(IPAddress(v4: 192, 168, 4, 2))), "192.168.4.2:0/32")
        XCTAssertEqual(IPsecSALog.selector(TrafficSelector(startAddress: IPAddress("2001:db8:4:1::")!, endAddress: IPAddress("2001:db8:4:1:ffff:ffff:ffff:ffff")!)), "[2001:db8:4:1::]:0/64")
        XCTAssertEqual(IPsecSALog.selector(TrafficSelector(startAddress: IPAddress(v4: 10, 0, 0, 1), endAddress: IPAddress(v4: 10, 0, 0, 5))), "10.0.0.1-10.0.0.5:0")
    }

    func testCaptureRotatesBySize() throws {
        let c = try CoreCapture(path: dir + "/rot.pcapng", maxSize: 2000)
        let a = try SocketAddress(host: "198.51.100.7", port: 4500), b = try SocketAddress(host: "203.0.113.1", port: 4500)
        for i in 0..<20 { c.outer([UInt8](repeating: UInt8(i), count: 300), from: a, to: b, imsi: Self.imsi) }
        c.close()
        XCTAssertEqual(c.files.first, dir + "/rot.pcapng")
        XCTAssertEqual(c.files.dropFirst().first, dir + "/rot.1.pcapng")
        XCTAssertGreaterThanOrEqual(c.files.count, 4)
        var total = 0
        for f in c.files {
            let size = (try FileManager.default.attributesOfItem(atPath: f)[.size] as? Int) ?? 0
            XCTAssertLessThanOrEqual(size, 2000, f)
            let r = try PcapNGReader(path: f)
            XCTAssertEqual(r.interfaces.map(\.name), ["outer", "inner"])
            XCTAssertTrue(r.packets.allSatisfy { $0.comment == "IMSI \(Self.imsi)" })
            total += r.packets.count
        }
        XCTAssertEqual(total, 20)
    }

    func runTool(_ tool: String, _ args: [String], env: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let outFile = dir + "/tool.out", errFile = dir + "/tool.err"
        _ = FileManager.default.createFile(atPath: outFile, contents: nil); _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "", (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? "")
    }
}

