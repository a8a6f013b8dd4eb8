import AKA
import Crypto
import Foundation
import HSS
import XCTest
@testable import AAA

/// 802.1X on a wire: hostapd (driver=wired) as the authenticator in one network namespace
/// with our RADIUS server, wpa_supplicant (driver=wired, external USIM) as the station in
/// another, joined by a veth pair. Addresses from 198.51.100.0/24.
final class HostapdWiredTests: XCTestCase {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010000000001"
    static let secret = "wired-secret"

    let tag = "\(getpid() % 100000)"
    var apNS: String { "aaa-ap-\(tag)" }
    var staNS: String { "aaa-sta-\(tag)" }
    var apIf: String { "aap\(tag)" }
    var staIf: String { "asta\(tag)" }
    var dir = ""
    var processes: [Process] = []
    var udp: RADIUSUDPServer?
    let rec = Recorder()

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root for network namespaces") }
        for t in ["/usr/sbin/hostapd", "/usr/sbin/wpa_supplicant", "/usr/sbin/ip"] where !NetNS.toolExists(t) {
            throw XCTSkip("\(t) not installed")
        }
        dir = "/tmp/aaa-wired-\(tag)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanNamespaces()
        try NetNS.ip("netns add \(apNS)")
        try NetNS.ip("netns add \(staNS)")
        try NetNS.ip("link add \(apIf) netns \(apNS) type veth peer name \(staIf) netns \(staNS)")
        try NetNS.ip("-n \(apNS) link set lo up")
        try NetNS.ip("-n \(apNS) addr add 198.51.100.1/24 dev \(apIf)")
        try NetNS.ip("-n \(apNS) link set \(apIf) up")
        try NetNS.ip("-n \(staNS) addr add 198.51.100.2/24 dev \(staIf)")
        try NetNS.ip("-n \(staNS) link set \(staIf) up")
    }

    override func tearDown() {
        for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() }
        processes = []
        udp?.stop()
        udp = nil
        cleanNamespaces()
        if ProcessInfo.processInfo.environment["AAA_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    func cleanNamespaces() {
        NetNS.sh(["ip", "netns", "del", apNS])
        NetNS.sh(["ip", "netns", "del", staNS])
    }

    func launch(_ ns: String, _ args: [String], log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let out = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", ns] + args
        p.standardOutput = out
        p.standardError = out
        try p.run()
        processes.append(p)
        return p
    }

    func waitFor(_ what: String, timeout: Double, _ cond: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !cond() {
            guard Date() < deadline else { throw NetNS.Failure("timed out waiting for \(what)") }
            usleep(50_000)
        }
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func runWired(method: String, identity: String, simK: [UInt8] = k) throws -> (authorized: Bool, sim: SIMResponder, status: String) {
        let hss = try HSS(subscribers: [Subscriber(imsi: Self.imsi, algorithm: .milenage, k: Self.k, opc: Self.opc)])
        let rec = rec
        // The RADIUS socket is created inside the AP namespace, then served from our thread.
        let server = try NetNS.inNamespace(apNS) {
            try RADIUSUDPServer(bindAddress: "198.51.100.1", port: 0, clients: ["198.51.100.1": Self.secret], hss: hss,
                                log: { l, s in rec.log(l, s) }, onEvent: { _, e in rec.record(e) })
        }
        udp = server
        try server.start()

        let hostapdConf = """
            interface=\(apIf)
            driver=wired
            ieee8021x=1
            eapol_version=2
            eap_reauth_period=0
            use_pae_group_addr=1
            ctrl_interface=\(dir)/hostapd
            own_ip_addr=198.51.100.1
            nas_identifier=ap-wired-test
            auth_server_addr=198.51.100.1
            auth_server_port=\(server.port)
            auth_server_shared_secret=\(Self.secret)
            logger_stdout=-1
            logger_stdout_level=0

            """
        try hostapdConf.write(toFile: "\(dir)/hostapd.conf", atomically: true, encoding: .utf8)
        _ = try launch(apNS, ["/usr/sbin/hostapd", "-d", "\(dir)/hostapd.conf"], log: "\(dir)/hostapd.log")
        try waitFor("hostapd control socket", timeout: 10) { FileManager.default.fileExists(atPath: "\(dir)/hostapd/\(apIf)") }

        let wpasConf = """
            ctrl_interface=\(dir)/wpas
            external_sim=1
            ap_scan=0
            network={
              key_mgmt=IEEE8021X
              eap=\(method)
              identity="\(identity)"
              eapol_flags=0
              disabled=1
            }

            """
        try wpasConf.write(toFile: "\(dir)/wpas.conf", atomically: true, encoding: .utf8)
        _ = try launch(staNS, ["/usr/sbin/wpa_supplicant", "-D", "wired", "-i", staIf, "-c", "\(dir)/wpas.conf", "-d"],
                       log: "\(dir)/wpas.log")
        let ctrl = try WPACtrlClient(path: "\(dir)/wpas/\(staIf)", localPath: "\(dir)/wpas-client")
        XCTAssertEqual(try ctrl.request("ATTACH"), "OK\n")
        var sim = SIMResponder(usim: try USIM(algorithm: .milenage(try Milenage(k: simK, opc: Self.opc))))
        XCTAssertEqual(try ctrl.request("ENABLE_NETWORK 0"), "OK\n")
        var status = ""
        let deadline = Date().addingTimeInterval(15)
        var done = false
        while Date() < deadline && !done {
            if let m = ctrl.receive(timeout: 0.1) {
                if let rsp = sim.answer(m) { ctrl.send(rsp) }
                if m.contains("CTRL-EVENT-EAP-SUCCESS") || m.contains("CTRL-EVENT-EAP-FAILURE") { done = true }
            }
        }
        // Let the PAE state machines settle, then read the supplicant's status.
        let settle = Date().addingTimeInterval(3)
        repeat {
            status = (try? ctrl.request("STATUS")) ?? ""
            if status.contains("suppPortStatus=Authorized") || !done { break }
            usleep(100_000)
        } while Date() < settle
        let authorized = status.contains("suppPortStatus=Authorized")
        return (authorized, sim, status)
    }

    func testEAPAKAAuthorizesTheWiredPort() throws {
        let identity = "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org"
        let r = try runWired(method: "AKA", identity: identity)
        let hostapdLog = read("\(dir)/hostapd.log")
        XCTAssertTrue(r.authorized, "station not authorized; status:\n\(r.status)\nwpa_supplicant log tail:\n\(read("\(dir)/wpas.log").suffix(3000))")
        XCTAssertTrue(r.status.contains("Supplicant PAE state=AUTHENTICATED"), r.status)
        XCTAssertTrue(r.status.contains("EAP state=SUCCESS"), r.status)
        XCTAssertEqual(r.sim.outcomes, ["auth"])
        XCTAssertTrue(hostapdLog.contains("IEEE 802.1X: authorizing port"), "hostapd log tail:\n\(hostapdLog.suffix(3000))")
        XCTAssertEqual(rec.accepted.count, 1)
        XCTAssertEqual(rec.accepted.first?.imsi, Self.imsi)
    }

    func testEAPAKAPrimeAuthorizesTheWiredPort() throws {
        let identity = "6\(Self.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"
        let r = try runWired(method: "AKA'", identity: identity)
        XCTAssertTrue(r.authorized, "station not authorized; status:\n\(r.status)")
        XCTAssertTrue(read("\(dir)/hostapd.log").contains("IEEE 802.1X: authorizing port"))
        XCTAssertEqual(rec.accepted.first?.method, .akaPrime)
    }

    func testWrongKLeavesThePortUnauthorized() throws {
        var wrong = Self.k
        wrong[3] ^= 0x10
        let r = try runWired(method: "AKA", identity: "0\(Self.imsi)@wlan.mnc001.mcc001.3gppnetwork.org", simK: wrong)
        XCTAssertFalse(r.authorized)
        XCTAssertEqual(r.sim.outcomes, ["mac-failure"])
        XCTAssertTrue(rec.accepted.isEmpty)
        XCTAssertFalse(read("\(dir)/hostapd.log").contains("IEEE 802.1X: authorizing port"))
        XCTAssertTrue(rec.rejected(containing: "Authentication-Reject"), "events: \(rec.allEvents)")
    }
}
