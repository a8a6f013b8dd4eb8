import XCTest
import AKA
import SIP
@testable import IMS

/// `usesConnection`: what keeps an idle SIP TCP connection open (a binding or a transaction
/// with its peer).
final class IMSConnectionUseTests: XCTestCase {
    func testBindingsAndTransactionsKeepAConnection() throws {
        let (ims, _) = makeIMS(precondition: .off)
        let phone = TestUE(imsi: "001010000000001", address: "2001:db8:3000:1::2", usim: try USIM(algorithm: milenage()), transport: .tcp)
        let stranger = SIPPeer(address: "2001:db8:3000:1::9", port: 40001, transport: .tcp)
        XCTAssertFalse(ims.usesConnection(to: phone.peer))
        try registerUE(ims, phone)
        XCTAssertTrue(ims.usesConnection(to: phone.peer), "the binding's flow")
        XCTAssertFalse(ims.usesConnection(to: stranger))
        // A phone registered over UDP: a TCP connection to its address and port (one we opened
        // for a large request) is not its flow.
        let udpPhone = TestUE(imsi: "001010000000002", address: "2001:db8:3000:1::4", usim: try USIM(algorithm: milenage()))
        try registerUE(ims, udpPhone)
        XCTAssertTrue(ims.usesConnection(to: udpPhone.peer))
        _ = ims.tick(now: 60)   // its REGISTER transactions (Timer J over UDP) are over
        XCTAssertTrue(ims.usesConnection(to: udpPhone.peer), "its binding")
        XCTAssertFalse(ims.usesConnection(to: SIPPeer(address: udpPhone.peer.address, port: udpPhone.peer.port, transport: .tcp)))

        // A caller that is not registered: only its transaction (a 403 over TCP ends at once,
        // Timer J = 0; an INVITE server transaction waits for the ACK of its non-2xx).
        let caller = TestUE(imsi: "001010000000002", address: "2001:db8:3000:1::3", transport: .tcp)
        _ = ims.receive(datagram: request(caller, "INVITE", uri: "tel:666", callID: "u1", cseq: 1, branch: "z9hG4bKu1",
                                          sdp: offerSDP(caller)), from: caller.peer, now: 61)
        XCTAssertTrue(ims.usesConnection(to: caller.peer), "the INVITE server transaction waits for its ACK")
        XCTAssertFalse(ims.usesConnection(to: SIPPeer(address: caller.peer.address, port: 5061, transport: .tcp)), "another port")
        _ = ims.tick(now: 100)
        XCTAssertFalse(ims.usesConnection(to: caller.peer), "transaction over")
    }
}
