import Foundation
import Glibc
import SIP
import TestSupport
import XCTest

/// RFC 3261 §18.1.1 with real sockets: two phones registered over UDP on 127.0.0.1; the
/// caller's INVITE is over 1300 bytes (a padded SDP, as real phones send), so the IMS relays it
/// to the callee over a TCP connection to the callee's contact address and port, with a TCP
/// Via; with nothing listening on TCP there, the reset makes the IMS retry over UDP.
final class LargeRequestTCPTests: XCTestCase {
    var ims: LoopbackIMS!

    override func setUpWithError() throws { ims = try LoopbackIMS(extraUsers: [SIPpInteropTests.user2]) }
    override func tearDown() { ims?.stop() }

    func phones(calleeListensOnTCP: Bool) throws -> (caller: LoopbackSIPPhone, callee: LoopbackSIPPhone) {
        let callee = try LoopbackSIPPhone(user: "user2", listenTCP: calleeListensOnTCP)
        XCTAssertTrue(try callee.register(password: "secret2", imsPort: ims.port), ims.log.suffix(3000).description)
        let caller = try LoopbackSIPPhone(user: "user1", listenTCP: false)
        XCTAssertTrue(try caller.register(password: "secret", imsPort: ims.port), ims.log.suffix(3000).description)
        return (caller, callee)
    }

    func testLargeInviteReachesTheCalleeOverTCPOnItsContactPort() throws {
        let (caller, callee) = try phones(calleeListensOnTCP: true)
        let inv = try caller.largeInvite(to: "sip:user2@\(LoopbackIMS.domain)", callID: "big-\(caller.port)")
        XCTAssertGreaterThan(inv.serialized().count, 1300)
        try caller.send(inv, toPort: ims.port)

        let conn = try XCTUnwrap(callee.acceptTCP(timeout: 5), "no TCP connection to the callee's port\n\(ims.log.suffix(3000))")
        defer { close(conn) }
        let got = try XCTUnwrap(SIPStreamSocket.readMessage(conn, timeout: 5), "no INVITE on the connection")
        XCTAssertEqual(got.method, "INVITE")
        XCTAssertEqual(got.requestURI?.description, "sip:user2@\(callee.hostPort)")
        let vias = try got.vias()
        XCTAssertEqual(vias.count, 2)
        XCTAssertEqual(vias[0].transport, "TCP", "§18.1.1: the top Via says TCP")
        XCTAssertEqual(vias[0].sentBy, "127.0.0.1:\(ims.port)")
        XCTAssertTrue(vias[0].branch?.hasPrefix("z9hG4bK") ?? false)
        XCTAssertEqual(vias[1].transport, "UDP")
        XCTAssertEqual(vias[1].sentBy, caller.hostPort)
        XCTAssertEqual(got.body, inv.body)
        XCTAssertNil(callee.receiveUDP(timeout: 0.3), "nothing over UDP")

        // The callee answers on that connection (§18.2.2); the caller gets it over UDP.
        var ok = SIPMessage.testResponse(to: got, 200, toTag: "callee")
        for rr in got.headerLines("Record-Route") { ok.addHeader("Record-Route", rr) }
        ok.addHeader("Contact", "<sip:user2@\(callee.hostPort)>")
        SIPStreamSocket.write(ok, to: conn)
        let back = try XCTUnwrap(caller.receiveUDP(timeout: 5) { $0.statusCode == 200 }, ims.log.suffix(3000).description)
        XCTAssertEqual(try back.cseq().method, "INVITE")
        XCTAssertEqual(try back.vias().count, 1)
        XCTAssertTrue(ims.events.contains { $0.contains("largeRequestOverTCP") && $0.contains("INVITE") }, "\(ims.events)")
    }

    func testNothingListeningOnTCPRetriesOverUDP() throws {
        let (caller, callee) = try phones(calleeListensOnTCP: false)
        let inv = try caller.largeInvite(to: "sip:user2@\(LoopbackIMS.domain)", callID: "rst-\(caller.port)")
        try caller.send(inv, toPort: ims.port)
        let got = try XCTUnwrap(callee.receiveUDP(timeout: 5) { $0.method == "INVITE" }, ims.log.suffix(3000).description)
        XCTAssertEqual(try got.topVia().transport, "UDP", "the retry says UDP again")
        XCTAssertEqual(try got.topVia().sentBy, "127.0.0.1:\(ims.port)")
        XCTAssertEqual(got.body, inv.body)
        let log = ims.log
        XCTAssertTrue(log.contains("Connection refused") && log.contains("retried over UDP (RFC 3261 §18.1.1)"), String(log.suffix(3000)))
    }

    /// A callee whose TCP port never answers (accept queue full, SYNs dropped): after the
    /// connect timeout the relayed INVITE is a transport error, and the caller gets a 500
    /// (RFC 3261 §16.9 and §16.7) with a Warning saying why.
    func testSilentTCPPeerGivesTheCaller500AfterTheConnectTimeout() throws {
        let callee = try LoopbackSIPPhone(user: "user2", listenTCP: true, tcpBacklog: 0)
        XCTAssertTrue(try callee.register(password: "secret2", imsPort: ims.port))
        let caller = try LoopbackSIPPhone(user: "user1", listenTCP: false)
        XCTAssertTrue(try caller.register(password: "secret", imsPort: ims.port))
        let fillers = try callee.fillAcceptQueue()
        defer { fillers.forEach { close($0) } }
        let inv = try caller.largeInvite(to: "sip:user2@\(LoopbackIMS.domain)", callID: "mute-\(caller.port)")
        try caller.send(inv, toPort: ims.port)
        let r = try XCTUnwrap(caller.receiveUDP(timeout: 15) { ($0.statusCode ?? 0) >= 300 }, String(ims.log.suffix(3000)))
        XCTAssertEqual(r.statusCode, 500)
        XCTAssertTrue(r.header("Warning")?.contains("timed out") ?? false, r.header("Warning") ?? "no Warning")
        XCTAssertNil(callee.receiveUDP(timeout: 0.2), "no UDP retry: only a reset allows one")
        XCTAssertTrue(ims.log.contains("500 to the caller"), String(ims.log.suffix(3000)))
        XCTAssertTrue(ims.dialogs.isEmpty, "\(ims.dialogs)")
    }
}
