import XCTest
@testable import SIP

/// RFC 4028 header values: Session-Expires (also compact `x`) with refresher, Min-SE, and the
/// §10 times derived from an interval.
final class SIPSessionExpiresTests: XCTestCase {
    func testParseAndSerialize() throws {
        XCTAssertEqual(SIPSessionExpires(parsing: "1800;refresher=uac"), SIPSessionExpires(interval: 1800, refresher: .uac))
        XCTAssertEqual(SIPSessionExpires(parsing: " 90 ; Refresher = UAS ;x=y"), SIPSessionExpires(interval: 90, refresher: .uas))
        XCTAssertEqual(SIPSessionExpires(parsing: "600"), SIPSessionExpires(interval: 600))
        XCTAssertNil(SIPSessionExpires(parsing: ""))
        XCTAssertNil(SIPSessionExpires(parsing: "abc;refresher=uac"))
        XCTAssertNil(SIPSessionExpires(parsing: "99999999999"))
        XCTAssertEqual(SIPSessionExpires(interval: 90, refresher: .uac).description, "90;refresher=uac")
        XCTAssertEqual(SIPSessionExpires(interval: 1800).description, "1800")
        let m = try SIPMessage(parsing: Array("UPDATE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 UPDATE\r\nx: 120;refresher=uas\r\nMin-SE: 90;p=1\r\nContent-Length: 0\r\n\r\n".utf8))
        XCTAssertEqual(SIPSessionExpires(m), SIPSessionExpires(interval: 120, refresher: .uas), "compact form x")
        XCTAssertEqual(SIPSessionExpires.minSE(m), 90)
    }

    func testSection10Times() {
        XCTAssertEqual(SIPSessionExpires(interval: 90).refreshAfter, 45)
        XCTAssertEqual(SIPSessionExpires(interval: 90).byeAfter, 60, "90 - min(32, 30)")
        XCTAssertEqual(SIPSessionExpires(interval: 1800).byeAfter, 1768, "1800 - min(32, 600)")
        XCTAssertEqual(SIPSessionExpires(interval: 3).byeAfter, 2)
    }
}
