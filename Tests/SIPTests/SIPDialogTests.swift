import XCTest
@testable import SIP

final class SIPDialogTests: XCTestCase {
    func testUACAndUASDialogsBuildMatchingRequests() throws {
        var ids = SIPIdentifiers(prefix: "ue1-")
        let branch = ids.branch()
        XCTAssertEqual(branch, "z9hG4bKue1-1")
        let invite = try SIPMessage(parsing: TM.msg([
            "INVITE tel:0600000002 SIP/2.0",
            "Via: SIP/2.0/UDP [2001:db8::2]:5060;branch=\(branch)",
            "Max-Forwards: 70",
            "From: <sip:alice@ims.example>;tag=a1",
            "To: <tel:0600000002>",
            "Call-ID: d1@2001:db8::2",
            "CSeq: 10 INVITE",
            "Contact: <sip:alice@[2001:db8::2]:5060>",
            "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>",
            "Content-Length: 0",
        ]))
        var ok = SIPMessage.response(200)
        for h in ["Via", "From", "Call-ID", "CSeq"] { ok.addHeader(h, invite.header(h)!) }
        ok.addHeader("To", "<tel:0600000002>;tag=b1")
        ok.addHeader("Contact", "<sip:bob@[2001:db8::3]:5062>")
        ok.addHeader("Record-Route", "<sip:p1.example;lr>, <sip:p2.example;lr>")

        var uac = try SIPDialog(uac: invite, response: ok)
        XCTAssertEqual(uac.routeSet, ["<sip:p2.example;lr>", "<sip:p1.example;lr>"])
        XCTAssertTrue(uac.matches(ok))
        let ack = uac.request("ACK", via: SIPVia(transport: "UDP", host: "[2001:db8::2]", port: 5060, branch: ids.branch()), sequence: 10)
        XCTAssertEqual(ack.requestURI?.description, "sip:bob@[2001:db8::3]:5062")
        XCTAssertEqual(try ack.cseq(), SIPCSeq(sequence: 10, method: "ACK"))
        XCTAssertEqual(ack.headerLines("Route"), ["<sip:p2.example;lr>", "<sip:p1.example;lr>"])
        let bye = uac.request("BYE", via: SIPVia(transport: "UDP", host: "[2001:db8::2]", port: 5060, branch: ids.branch()))
        XCTAssertEqual(try bye.cseq(), SIPCSeq(sequence: 11, method: "BYE"))
        XCTAssertEqual(try bye.from().tag, "a1")
        XCTAssertEqual(try bye.to().tag, "b1")
        XCTAssertNoThrow(try SIPMessage(parsing: bye.serialized()))

        // The callee's view of the same INVITE: its BYE goes to Alice's Contact via p1 then p2.
        var uas = try SIPDialog(uas: invite, localTag: "b1")
        XCTAssertEqual(uas.routeSet, ["<sip:p1.example;lr>", "<sip:p2.example;lr>"])
        XCTAssertTrue(uas.matches(bye))
        XCTAssertTrue(uas.acceptRemote(bye))
        XCTAssertFalse(uas.acceptRemote(bye), "a repeated CSeq is out of order")
        let byeBack = uas.request("BYE", via: SIPVia(transport: "UDP", host: "[2001:db8::3]", port: 5062, branch: "z9hG4bKx"))
        XCTAssertEqual(byeBack.requestURI?.description, "sip:alice@[2001:db8::2]:5060")
        XCTAssertEqual(try byeBack.cseq().sequence, 1)
        XCTAssertTrue(uac.matches(byeBack))

        var noTag = ok
        noTag.setHeader("To", "<tel:0600000002>")
        XCTAssertThrowsError(try SIPDialog(uac: invite, response: noTag))
    }
}
