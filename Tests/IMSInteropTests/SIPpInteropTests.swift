import Foundation
import XCTest

/// Debian's SIPp against the IMS of the assembled core on 127.0.0.1: IMS AKA and MD5
/// registration over UDP and TCP, wrong credentials, calls to the echo number with RTP
/// echoed byte for byte, and a call between two registered SIPp phones.
final class SIPpInteropTests: XCTestCase {
    var ims: LoopbackIMS!

    /// A second MD5 user for calls between phones (only in the test's ue_db).
    static let user2 = #"{ impi: "user2", pwd: "secret2", authent_type: "MD5", impu: ["user2", "tel:0600001002"] }"#

    override func setUpWithError() throws {
        try SIPpRun.requireSIPp()
        ims = try LoopbackIMS(extraUsers: [Self.user2])
    }

    override func tearDown() { ims?.stop() }

    func assertPassed(_ r: SIPpRun, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 0, "\(what)\n\(r.summary)\n--- core log:\n\(ims.log.suffix(4000))", file: file, line: line)
    }

    // MARK: IMS AKA

    /// SIPp 3.6.1 handles RES as a C string: when RES (8 bytes, fresh per RAND) holds a 0x00
    /// byte (about 3 % of challenges) its digest is wrong and gets our 403. The 401's RAND is new
    /// on every run, so such a run is repeated (twice at most); a real fault fails every time.
    static func sippRESQuirk(_ r: SIPpRun) -> Bool { r.status != 0 && r.messages.contains("SIP/2.0 403") }

    func registerAKA(transport: String) throws {
        var r = try SIPpRun.run("register_aka.xml", port: ims.port, transport: transport, keys: SIM8.keys())
        for _ in 0..<2 where Self.sippRESQuirk(r) {
            r = try SIPpRun.run("register_aka.xml", port: ims.port, transport: transport, keys: SIM8.keys())
        }
        assertPassed(r, "IMS AKA REGISTER over \(transport)")
        XCTAssertTrue(r.messages.contains("algorithm=AKAv1-MD5"), r.messages)
        XCTAssertTrue(r.messages.contains("SIP/2.0 200"), r.messages)
        XCTAssertEqual(ims.registeredIMPIs, [SIM8.impi])
    }

    func testAKARegisterOverUDP() throws { try registerAKA(transport: "u1") }

    func testAKARegisterOverTCP() throws { try registerAKA(transport: "t1") }

    /// SIPp holding another K rejects the network's AUTN (MAC check) and never answers: no binding.
    func testAKAWithWrongKRejectsAUTNAndStaysUnregistered() throws {
        let r = try SIPpRun.run("register_aka_wrong_k.xml", port: ims.port, keys: SIM8.keys(), timeout: 20)
        XCTAssertNotEqual(r.status, 0, r.summary)
        XCTAssertTrue((r.errors + r.output).contains("MAC"), r.summary)
        XCTAssertEqual(ims.registeredIMPIs, [])
    }

    /// A response computed without the right K (here a forged RES) gets 403.
    func testAKAWrongRESGets403() throws {
        let r = try SIPpRun.run("register_aka_bad_res.xml", port: ims.port, keys: SIM8.keys())
        assertPassed(r, "wrong RES must get 403")
        XCTAssertEqual(ims.registeredIMPIs, [])
        XCTAssertTrue(ims.events.contains { $0.contains("authenticationFailed") && $0.contains(SIM8.impi) }, "\(ims.events)")
    }

    // MARK: MD5

    func testMD5RegisterOverUDPAndTCP() throws {
        for t in ["u1", "t1"] {
            let r = try SIPpRun.run("register_md5.xml", port: ims.port, transport: t, keys: ["domain": LoopbackIMS.domain, "user": "user1"],
                                    extra: ["-au", "user1", "-ap", "secret"])
            assertPassed(r, "MD5 REGISTER over \(t)")
            XCTAssertTrue(r.messages.contains("algorithm=MD5"), r.messages)
        }
        XCTAssertEqual(ims.registeredIMPIs, ["user1"])
    }

    func testMD5WrongPasswordGets403() throws {
        let r = try SIPpRun.run("register_md5_403.xml", port: ims.port, keys: ["domain": LoopbackIMS.domain, "user": "user1"],
                                extra: ["-au", "user1", "-ap", "not-the-secret"])
        assertPassed(r, "wrong MD5 password must get 403")
        XCTAssertEqual(ims.registeredIMPIs, [])
    }

    // MARK: echo calls

    /// REGISTER (IMS AKA), INVITE to the echo number with an SDP offer naming the test's RTP
    /// socket, then RTP from that socket must come back unchanged from the IMS's echo port.
    func echoCall(transport: String, callee: String) throws {
        for attempt in 1...3 {
            if try echoCallAttempt(transport: transport, callee: callee, lastAttempt: attempt == 3) { return }
        }
    }

    /// false when SIPp's RES quirk (see `sippRESQuirk`) spoilt the registration: try again.
    func echoCallAttempt(transport: String, callee: String, lastAttempt: Bool) throws -> Bool {
        let rtp = try RTPSocket()
        var keys = SIM8.keys()
        keys["rtp_ip"] = "127.0.0.1"; keys["rtp_port"] = String(rtp.port); keys["callee"] = callee
        let sipp = try SIPpRun.start("aka_echo_call.xml", port: ims.port, transport: transport, keys: keys, extra: ["-d", "3000"])
        // Wait for the confirmed echo dialog and its media port.
        var echoPort: UInt16? = nil
        let until = Date().addingTimeInterval(15)
        while echoPort == nil, Date() < until, sipp.process.isRunning {
            if let d = ims.dialogs.first(where: { $0.kind == .echo && $0.state == .start }), let m = d.media { echoPort = m.localRTPPort }
            else { usleep(20_000) }
        }
        guard let port = echoPort else {
            let r = sipp.wait(timeout: 5)
            if Self.sippRESQuirk(r) && !lastAttempt { return false }
            XCTFail("no confirmed echo dialog\n\(r.summary)\n\(ims.log.suffix(4000))")
            return true
        }
        XCTAssertGreaterThanOrEqual(port, ims.mediaPortMin)
        var echoed = 0
        for seq in UInt16(1)...20 {
            let p = RTPSocket.packet(seq: seq)
            rtp.send(p, port: port)
            if let (back, from) = rtp.receive(timeout: 1) {
                XCTAssertEqual(from, port)
                XCTAssertEqual(back, p, "RTP \(seq) must come back unchanged")
                echoed += 1
            }
        }
        XCTAssertEqual(echoed, 20)
        let r = sipp.wait(timeout: 20)
        assertPassed(r, "echo call over \(transport)")
        XCTAssertTrue(r.messages.contains("SIP/2.0 180"), r.messages)
        XCTAssertTrue(r.messages.contains("c=IN IP4 127.0.0.1"), "the answer names the loopback media address\n\(r.messages)")
        XCTAssertTrue(r.messages.contains("Contact: <sip:127.0.0.1:\(ims.port)"), r.messages)
        XCTAssertFalse(r.messages.contains("192.168.4.1"), r.messages)
        XCTAssertTrue(ims.dialogs.isEmpty, "BYE ends the echo dialog: \(ims.dialogs)")
        return true
    }

    func testEchoCallOverUDPEchoesRTP() throws {
        try echoCall(transport: "u1", callee: "sip:666@\(LoopbackIMS.domain);user=phone")
    }

    func testEchoCallOverTCPEchoesRTP() throws {
        try echoCall(transport: "t1", callee: "tel:666")
    }

    /// config/ims.cfg lists the P-CSCF addresses before 127.0.0.1: a SIPp on this host must
    /// still be answered from 127.0.0.1 (Via, Contact, SDP) and get its RTP echoed there.
    func testEchoCallWhenLoopbackIsNotTheFirstSIPAddress() throws {
        ims.stop()
        ims = try LoopbackIMS(pcscfFirst: true)
        try echoCall(transport: "u1", callee: "tel:+666")
    }

    // MARK: phone to phone

    /// user2 registers from port LP, then a SIPp UAS on LP answers; user1 registers and calls
    /// sip:user2@domain through the IMS: 180, 200, ACK, BYE, all routed by the proxy.
    func testCallBetweenTwoRegisteredSIPpPhones() throws {
        let lp = try LoopbackIMS.freePort()
        let reg = try SIPpRun.run("register_md5.xml", port: ims.port, localPort: lp, keys: ["domain": LoopbackIMS.domain, "user": "user2"],
                                  extra: ["-au", "user2", "-ap", "secret2"])
        assertPassed(reg, "user2 REGISTER")
        let uas = try SIPpRun.start("uas_answer.xml", port: ims.port, localPort: lp, keys: ["user": "user2"])
        usleep(300_000)
        let uac = try SIPpRun.run("md5_call.xml", port: ims.port,
                                  keys: ["domain": LoopbackIMS.domain, "user": "user1", "callee": "sip:user2@\(LoopbackIMS.domain)"],
                                  extra: ["-au", "user1", "-ap", "secret", "-d", "500"])
        let callee = uas.wait(timeout: 10)
        assertPassed(uac, "caller")
        assertPassed(callee, "callee")
        XCTAssertTrue(uac.messages.contains("SIP/2.0 180 Ringing"), uac.messages)
        XCTAssertTrue(callee.messages.contains("INVITE sip:user2@127.0.0.1:\(lp)"), "retargeted to the contact\n\(callee.messages)")
        XCTAssertTrue(callee.messages.contains("Record-Route: <sip:127.0.0.1:\(ims.port);lr>"), callee.messages)
        XCTAssertTrue(callee.messages.contains("BYE sip:"), callee.messages)
        let events = ims.events
        XCTAssertTrue(events.contains { $0.contains("callStarted") && $0.contains("proxy") }, "\(events)")
        XCTAssertTrue(events.contains { $0.contains("callEnded") && $0.contains("BYE") }, "\(events)")
        XCTAssertEqual(Set(ims.registeredIMPIs), ["user1", "user2"])
    }
}
