import Foundation
import XCTest

/// strongSwan as the initiator is rekeyed by OUR ePDG (ike_duration 20 s, so at 18 s): the
/// ePDG sends CREATE_CHILD_SA {SA(IKE), Ni, KEi}, becomes the new IKE SA's initiator (RFC 7296
/// §2.18, §3.1) and deletes the old SA. strongSwan lists the new SPIs with its own on the
/// responder side, traffic and DPD run over the new SA, and the capture still decrypts with
/// the ePDG's key table.
extension StrongSwanInitiatorTests {
    func testEPDGRekeysStrongSwansIKESA() throws {
        try bringUp(testID: "StrongSwanInitiatorTests/testEPDGRekeysStrongSwansIKESA", ueName: "ue.swan.test", trustCA: true,
                         capture: true, epdgDPD: 300, espDuration: 300, swanDPD: 3, ikeDuration: 20)
        guard let net, let charon else { return }
        let spiPattern = #"IKEv2, ([0-9a-f]{16}_i\*? [0-9a-f]{16}_r\*?)"#
        guard let sas = initiateIMS() else { return }
        guard let vip4 = StrongSwanInitiatorTests.firstMatch(#"(198\.18\.0\.\d+)/32"#, in: sas) else { return XCTFail(sas) }
        let before = try XCTUnwrap(StrongSwanInitiatorTests.firstMatch(spiPattern, in: sas), sas)
        XCTAssertTrue(before.hasSuffix("_r") && before.contains("_i*"), "strongSwan started as the initiator: \(before)")
        let childBefore = StrongSwanInitiatorTests.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: sas)
        ping(from: net.b, to: StrongSwanInitiatorTests.pcscf4)

        // The ePDG's rekey at 18 s; strongSwan answers it and deletes nothing itself.
        var after = ""
        XCTAssertTrue(Shell.waitUntil(30) {
            after = charon.swanctl("--list-sas").output
            let spis = StrongSwanInitiatorTests.firstMatch(spiPattern, in: after)
            return spis != nil && spis != before && after.components(separatedBy: "ESTABLISHED").count == 2 && after.contains("INSTALLED")
        }, "IKE SA not rekeyed by the ePDG:\n\(after)\n\(charon.log.suffix(4000))\n\(Shell.read(dir + "/vowifi.log").suffix(3000))")
        let newSPIs = try XCTUnwrap(StrongSwanInitiatorTests.firstMatch(spiPattern, in: after))
        // strongSwan's own SPI is now SPIr: the ePDG, which started the rekey, is the initiator.
        XCTAssertTrue(newSPIs.hasSuffix("_r*") && !newSPIs.contains("_i*"), "roles after the ePDG's rekey: \(newSPIs)\n\(after)")
        let vlog = Shell.read(dir + "/vowifi.log")
        XCTAssertTrue(vlog.contains("of ike_duration 20 s: rekeying it"), String(vlog.suffix(3000)))
        XCTAssertTrue(vlog.contains("initiated by the ePDG"), String(vlog.suffix(3000)))
        XCTAssertTrue(Shell.waitUntil(5) { Shell.read(dir + "/vowifi.log").contains("rekeyed; old IKE SA deleted") },
                      "strongSwan did not answer the Delete of the old SA:\n\(Shell.read(dir + "/vowifi.log").suffix(3000))")
        XCTAssertTrue(charon.log.contains("parsed CREATE_CHILD_SA request 0 [ SA No KE ]"), "strongSwan saw no IKE rekey request:\n\(charon.log.suffix(3000))")
        XCTAssertTrue(charon.log.contains("rekeyed between"), charon.log.suffix(3000).description)
        // The Child SA and the virtual IP stay; the ePDG keeps one IKE SA and one Child SA.
        XCTAssertTrue(after.contains(vip4), after)
        XCTAssertEqual(StrongSwanInitiatorTests.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: after), childBefore, after)
        XCTAssertTrue(Shell.waitUntil(5) { Shell.read(dir + "/status").contains("ikeSAs=1 childSAs=1") }, Shell.read(dir + "/status"))
        ping(from: net.b, to: StrongSwanInitiatorTests.pcscf4)
        ping(from: net.a, to: vip4)

        // strongSwan's DPD (every 3 s when idle) over the new SA: answered, nothing given up.
        let dpdsBefore = charon.log.components(separatedBy: "sending DPD request").count
        sleep(7)
        XCTAssertGreaterThan(charon.log.components(separatedBy: "sending DPD request").count, dpdsBefore, "strongSwan sent no DPD after the rekey")
        // A Child SA rekey from strongSwan over the new IKE SA, then traffic.
        let rk = charon.swanctl("--rekey", ["--child", "ims"])
        XCTAssertEqual(rk.status, 0, rk.output)
        XCTAssertTrue(Shell.waitUntil(10) { charon.swanctl("--list-sas").output.contains("ims: #2, reqid 1, INSTALLED") },
                      "no Child rekey over the new IKE SA:\n\(charon.log.suffix(3000))")
        ping(from: net.b, to: StrongSwanInitiatorTests.pcscf4)
        for bad in ["giving up after", "retransmit", "INVALID_SYNTAX", "NO_PROPOSAL_CHOSEN", "TEMPORARY_FAILURE", "failed", "invalid"] {
            XCTAssertFalse(charon.log.contains(bad), "charon log has '\(bad)':\n\(charon.log.suffix(4000))")
        }

        // The capture decrypts with the ePDG's key table, before and after the rekey.
        guard let cap = capture else { return }
        let (rows, text) = try CaptureDecode.rows(dir: dir, capture: cap, charon: charon, filter: "isakmp.enc.data",
                                                  fields: ["isakmp.ispi", "isakmp.exchangetype", "isakmp.enc.decrypted"])
        let newI = String(newSPIs.prefix(16))
        XCTAssertTrue(rows.contains { $0.first == newI }, "no protected message of the new SA \(newI) in the capture:\n\(text.prefix(2000))")
        XCTAssertEqual(rows.filter { $0.count < 3 || $0[2].isEmpty }.map { $0.joined(separator: "|") }, [], "undecrypted SK payloads")
    }
}

/// A UDP relay on 198.51.100.3 (ports 500 and 4500) in front of the ePDG: it holds back
/// what the ePDG sends to strongSwan by the seconds written in `delayfile`, so that the two
/// sides' rekey requests cross on the wire.
enum DelayRelay {
    static let address = "198.51.100.3"
    static let script = """
    import socket, sys, threading, select
    listen, target, delayfile = sys.argv[1], sys.argv[2], sys.argv[3]
    def delay():
        try: return float(open(delayfile).read().strip() or 0)
        except Exception: return 0.0
    pairs = []
    for port in (500, 4500):
        down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind((listen, port))
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.bind((listen, 0))
        pairs.append((down, up, port, [None]))
    print('relaying', flush=True)
    while True:
        ready, _, _ = select.select([s for p in pairs for s in p[:2]], [], [])
        for down, up, port, client in pairs:
            if down in ready:
                data, addr = down.recvfrom(65535); client[0] = addr
                up.sendto(data, (target, port))
            if up in ready:
                data, _ = up.recvfrom(65535)
                if client[0] is None: continue
                d = delay()
                if d > 0: threading.Timer(d, down.sendto, (data, client[0])).start()
                else: down.sendto(data, client[0])
    """
}

extension StrongSwanInitiatorTests {
    /// RFC 7296 §2.8.2 against strongSwan: the ePDG starts its rekey (ike_duration 20 s) and
    /// strongSwan starts one while the ePDG's request is held 1.5 s by the relay, so each side
    /// gets the other's request while its own is open. Both answer; the new SA holding the
    /// lowest nonce is deleted by its creator, the winner deletes the old SA, and both sides
    /// agree: one IKE SA, the same SPIs, the Child SA kept, traffic flows. Whoever lost, the
    /// Delete of the redundant SA is answered and the capture decrypts with the ePDG's keys.
    func testSimultaneousIKERekeyWithStrongSwan() throws {
        try bringUp(testID: "StrongSwanInitiatorTests/testSimultaneousIKERekeyWithStrongSwan", ueName: "ue.swan.test", trustCA: true,
                    capture: true, epdgDPD: 300, espDuration: 300, swanDPD: 0, ikeDuration: 20, swanRemote: DelayRelay.address)
        guard let net, let charon else { return }
        let delayFile = dir + "/relay-delay"
        try "0".write(toFile: delayFile, atomically: true, encoding: .utf8)
        try DelayRelay.script.write(toFile: dir + "/relay.py", atomically: true, encoding: .utf8)
        Shell.run(NetnsPair.exec(net.a, ["ip", "addr", "add", DelayRelay.address + "/24", "dev", net.vethA]))
        let relay = try Shell.spawn(NetnsPair.exec(net.a, ["python3", dir + "/relay.py", DelayRelay.address, NetnsPair.addressA, delayFile]),
                                    logPath: dir + "/relay.out")
        defer { relay.terminate() }
        XCTAssertTrue(Shell.waitUntil(5) { Shell.read(self.dir + "/relay.out").contains("relaying") }, Shell.read(dir + "/relay.out"))

        let spiPattern = #"IKEv2, ([0-9a-f]{16}_i\*? [0-9a-f]{16}_r\*?)"#
        guard let sas = initiateIMS() else { return }
        guard let vip4 = Self.firstMatch(#"(198\.18\.0\.\d+)/32"#, in: sas) else { return XCTFail(sas) }
        let before = Self.firstMatch(spiPattern, in: sas)
        let childBefore = Self.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: sas)

        try "1.5".write(toFile: delayFile, atomically: true, encoding: .utf8)
        XCTAssertTrue(Shell.waitUntil(30) { Shell.read(self.dir + "/vowifi.log").contains("of ike_duration 20 s: rekeying it") },
                      "the ePDG did not start its rekey:\n\(Shell.read(dir + "/vowifi.log").suffix(3000))")
        let rk = charon.swanctl("--rekey", ["--ike", "epdg"])
        XCTAssertEqual(rk.status, 0, rk.output)

        var after = ""
        XCTAssertTrue(Shell.waitUntil(20) {
            after = charon.swanctl("--list-sas").output
            let spis = Self.firstMatch(spiPattern, in: after)
            return spis != nil && spis != before && after.components(separatedBy: "ESTABLISHED").count == 2 && after.contains("INSTALLED")
                && Shell.read(self.dir + "/status").contains("ikeSAs=1 childSAs=1")
        }, "no single rekeyed IKE SA:\n\(after)\n\(Shell.read(dir + "/status"))\n\(charon.log.suffix(4000))\n\(Shell.read(dir + "/vowifi.log").suffix(4000))")
        let vlog = Shell.read(dir + "/vowifi.log")
        XCTAssertTrue(vlog.contains("simultaneous IKE SA rekey: answered the peer's"), "the ePDG saw no collision:\n\(vlog.suffix(4000))")
        XCTAssertTrue(charon.log.contains("collision"), "strongSwan saw no collision:\n\(charon.log.suffix(4000))")
        let epdgWon = vlog.contains("IKE SA rekey collision won")
        XCTAssertNotEqual(epdgWon, vlog.contains("IKE SA rekey collision lost"), "the ePDG neither won nor lost:\n\(vlog.suffix(3000))")
        XCTAssertEqual(charon.log.contains("collision won"), !epdgWon, "both sides must agree on the winner:\n\(charon.log.suffix(3000))")
        // The winner started the surviving SA, so it is its initiator.
        let spis = try XCTUnwrap(Self.firstMatch(spiPattern, in: after))
        XCTAssertEqual(spis.hasSuffix("_r*"), epdgWon, "strongSwan's role in the surviving SA: \(spis)")
        XCTAssertEqual(Self.firstMatch(#"INSTALLED[^\n]*\n[^\n]*\n\s+in\s+([0-9a-f]{8})"#, in: after), childBefore, after)
        try "0".write(toFile: delayFile, atomically: true, encoding: .utf8)
        ping(from: net.b, to: Self.pcscf4)
        ping(from: net.a, to: vip4)
        for bad in ["giving up after", "INVALID_SYNTAX", "NO_PROPOSAL_CHOSEN", "AUTHENTICATION_FAILED"] {
            XCTAssertFalse(charon.log.contains(bad), "charon log has '\(bad)':\n\(charon.log.suffix(4000))")
        }
        // The loser's Delete of its redundant SA is a request like any other: strongSwan answers
        // the ePDG's, the ePDG answers strongSwan's (both in the ePDG's log).
        let redundant = Self.firstMatch(#"(?:deleting the redundant IKE SA|the peer deletes its redundant) ([0-9a-f]+)/"#, in: vlog)
        let answered = epdgWon ? "IKE SA \(redundant ?? "?") deleted: deleted by peer" : "the peer answered the Delete of the redundant IKE SA"
        XCTAssertTrue(Shell.waitUntil(10) { Shell.read(self.dir + "/vowifi.log").contains(answered) },
                      "no answered Delete of the redundant SA \(redundant ?? "?"):\n\(Shell.read(dir + "/vowifi.log").suffix(4000))")

        // The capture decrypts with the ePDG's key table: every SK payload, the redundant SA's Delete included.
        guard let cap = capture else { return }
        let (rows, text) = try CaptureDecode.rows(dir: dir, capture: cap, charon: charon, filter: "isakmp.enc.data",
                                                  fields: ["isakmp.ispi", "isakmp.exchangetype", "isakmp.enc.decrypted"])
        let redundantI = try XCTUnwrap(redundant, vlog.suffix(3000).description)
        let padded = String(repeating: "0", count: max(0, 16 - redundantI.count)) + redundantI
        XCTAssertTrue(rows.contains { $0.count >= 2 && $0[0] == padded && $0[1] == "37" }, "no INFORMATIONAL of the redundant SA \(padded) captured:\n\(text.prefix(3000))")
        XCTAssertEqual(rows.filter { $0.count < 3 || $0[2].isEmpty }.map { $0.joined(separator: "|") }, [], "undecrypted SK payloads")
    }
}
