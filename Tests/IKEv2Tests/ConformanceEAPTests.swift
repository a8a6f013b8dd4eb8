import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// EAP inside IKE_AUTH from phones that are not ours: Nak, AKA-Client-Error, EAP Length
/// disagreeing with the payload (RFC 3748 §4.1, §5.3.1; RFC 4187 §6.3.1).
final class ConformanceEAPTests: XCTestCase {
    typealias H = AttachHarness

    /// IKE_SA_INIT and the phone's own first IKE_AUTH; returns the phone's EAP-Response to the
    /// challenge (not delivered) and the EAP identifier of the challenge.
    func toChallengeResponse(_ h: H) throws -> (header: IKEHeader, payloads: [Payload], bytes: [UInt8], eapID: UInt8) {
        try h.makeUE()
        let reply = try h.firstAuth { _ in }
        let id = try XCTUnwrap(H.eap(reply)).identifier
        let r = try h.nextRequestOfPhone()
        return (r.header, r.payloads, r.bytes, id)
    }

    func assertEAPFailure(_ replies: [[Payload]], eapID: UInt8, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(replies.count, 1, file: file, line: line)
        let p = replies.first ?? []
        XCTAssertEqual(H.eap(p), EAPPacket(code: .failure, identifier: eapID), file: file, line: line)
        XCTAssertTrue(p.has(.AUTHENTICATION_FAILED), "\(p)", file: file, line: line)
    }

    /// RFC 3748 §5.3.1: a Nak answers the AKA challenge; the ePDG offers nothing else, so
    /// EAP-Failure with AUTHENTICATION_FAILED and a log line naming the wanted types.
    func testEAPNakEndsWithFailure() throws {
        let h = try H()
        let c = try toChallengeResponse(h)
        let nak = EAPPacket(code: .response, identifier: c.eapID, type: EAPType.nak, typeData: [EAPType.akaPrime, 18]).serialize()
        var p = c.payloads
        p.replace(.EAP, with: [.eap(nak)])
        assertEAPFailure(try h.sendProtected(c.header, p), eapID: c.eapID)
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("EAP-Response/Nak: phone wants EAP types [50, 18]") }, "\(H.logs(h.epdgActions))")
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.hss.resyncs, 0)
    }

    /// RFC 4187 §6.3.1: AKA-Client-Error ends the authentication with EAP-Failure.
    func testAKAClientError() throws {
        let h = try H()
        let c = try toChallengeResponse(h)
        let err = EAPAKAMessage(subtype: .clientError, attributes: [.AT_CLIENT_ERROR_CODE(0)]).packet(code: .response, identifier: c.eapID, method: EAPType.aka)
        var p = c.payloads
        p.replace(.EAP, with: [.eap(err)])
        assertEAPFailure(try h.sendProtected(c.header, p), eapID: c.eapID)
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("AKA-Client-Error code 0") })
    }

    /// RFC 3748 §4.1: an EAP Length beyond the octets received: the packet is discarded with a
    /// log line and the IKE request is not answered, so the phone's retransmission is processed.
    /// Octets beyond the Length are padding and ignored; the attach completes.
    func testEAPLengthDisagreeingWithPayload() throws {
        let h = try H()
        let c = try toChallengeResponse(h)
        var eap = try XCTUnwrap(c.payloads.eap)
        let len = eap.count
        var long = eap
        long[3] &+= 8
        var p = c.payloads
        p.replace(.EAP, with: [.eap(long)])
        XCTAssertEqual(try h.sendProtected(c.header, p), [])
        XCTAssertTrue(H.logs(h.epdgActions).contains("EAP Length \(len + 8) but the EAP payload has \(len) octets: EAP packet discarded"),
                      "\(H.logs(h.epdgActions))")
        XCTAssertEqual(h.epdg.count, 1, "the SA is unharmed")
        eap += [0, 0, 0, 0]
        p.replace(.EAP, with: [.eap(eap)])
        let ok = try h.sendProtected(c.header, p)
        XCTAssertEqual(H.eap(ok.first ?? [])?.code, .success, "\(H.logs(h.epdgActions))")
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established, "\(H.logs(h.epdgActions))")
    }

    /// RFC 3748 §4.1: a Response whose Identifier does not match the outstanding Request is
    /// silently discarded (no EAP-Failure); the right one then completes the attach.
    func testEAPIdentifierMismatchIsDiscarded() throws {
        let h = try H()
        let c = try toChallengeResponse(h)
        var wrong = try XCTUnwrap(c.payloads.eap)
        wrong[1] = c.eapID &+ 1
        var p = c.payloads
        p.replace(.EAP, with: [.eap(wrong)])
        XCTAssertEqual(try h.sendProtected(c.header, p), [])
        XCTAssertTrue(H.logs(h.epdgActions).contains("EAP identifier \(c.eapID &+ 1), expected \(c.eapID): EAP packet discarded"))
        XCTAssertEqual(H.eap(try h.deliverProtected(c.bytes).first ?? [])?.code, .success)
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established)
    }
}
