import XCTest
@testable import SIP

/// Inputs the `sip` and `sdp` fuzz harnesses (Fuzz/Harnesses, docs/FUZZING.md) found, kept
/// so `make test` checks them without libFuzzer.
final class SIPFuzzRegressionTests: XCTestCase {
    /// sdp harness: a line ending in stray CRs before its CRLF lost one CR per parse/serialize
    /// cycle, so the offer the IMS forwarded was not the offer it had parsed.
    func testSDPLineWithStrayCRsSurvivesRoundTrip() throws {
        let text = "v=0\r\no=rue 3251 3251 IN IP6 2001:db8:3000:1::2\r\ns=-\r\nb=RR:1537" + String(repeating: "\r", count: 40)
            + "\r\nt=0 0\r\nm=audio 31000 RTP/AVP 96\r\na=rtpmap:96 AMR-WB/16000/1\r\r\n"
        let sdp = try SDPSession(parsing: Array(text.utf8))
        XCTAssertEqual(sdp.lines.first { $0.type == "b" }?.value, "RR:1537")
        XCTAssertEqual(sdp.media.first?.lines.first?.value, "rtpmap:96 AMR-WB/16000/1")
        let again = try SDPSession(parsing: sdp.serialized())
        XCTAssertEqual(again, sdp)
        XCTAssertEqual(again.serialized(), sdp.serialized())
    }
}

extension SIPFuzzRegressionTests {
    /// sdp harness: a CR inside a line ("RTP/AVP13\r " before the LF) became a line end once
    /// re-serialized; RFC 4566 text holds no CR, so such a line is refused, precisely.
    func testSDPLineWithBareCRInsideIsRefused() {
        let text = "v=0\r\no=mhandley-\r\nc= I 4INP192.0.2.4\r\nt=#0 0\r\nm=auido 49217 RTP/AVP \0\0\0\0\0\0\0\0video 3227 RTP/AVP13\r \na=rtpmap:31 LPC\r\n"
        XCTAssertThrowsError(try SDPSession(parsing: Array(text.utf8))) { e in
            guard case let .badLine(l)? = e as? SDPError else { return XCTFail("\(e)") }
            XCTAssertTrue(l.hasPrefix("bare CR in \"m=auido"), l)
        }
    }
}
