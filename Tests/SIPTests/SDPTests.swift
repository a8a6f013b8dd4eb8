import XCTest
@testable import SIP

final class SDPTests: XCTestCase {
    func testParseIMSOfferAndRoundTrip() throws {
        let sdp = try SDPSession(parsing: Array(TM.amrwbSDP.utf8))
        XCTAssertEqual(sdp.media.count, 1)
        let m = sdp.media[0]
        XCTAssertEqual(m.port, 31000)
        XCTAssertEqual(m.formats, ["116", "107", "118", "96", "111", "110"])
        XCTAssertEqual(m.rtpmap("116")?.encoding, "AMR-WB")
        XCTAssertEqual(m.rtpmap("116")?.clockRate, 16000)
        XCTAssertEqual(m.rtpmap("116")?.channels, 1)
        XCTAssertEqual(m.fmtp("107"), "octet-align=1;mode-change-capability=2;max-red=0")
        XCTAssertEqual(m.rtcpPort, 31001)
        XCTAssertEqual(sdp.connectionAddress(for: m), "2001:db8:3000:1::2")
        let pre = SDPPreconditions(m)
        XCTAssertEqual(pre.currentLocal, "none")
        XCTAssertEqual(pre.desiredLocal?.strength, "mandatory")
        XCTAssertEqual(pre.desiredRemote?.strength, "optional")
        XCTAssertEqual(sdp.serialized(), Array(TM.amrwbSDP.utf8))
    }

    func testAnswerPicksFirstSupportedCodecAndMatchingTelephoneEvent() throws {
        let offer = try SDPSession(parsing: Array([
            "v=0", "o=- 1 1 IN IP4 198.51.100.7", "s=-", "c=IN IP4 198.51.100.7", "t=0 0",
            "m=audio 4000 RTP/AVP 9 8 0 101", "a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
            "m=video 4002 RTP/AVP 96", "a=rtpmap:96 H264/90000", "",
        ].joined(separator: "\r\n").utf8))
        let a = try SDPAnswerer().answer(offer: offer, localAddress: "198.51.100.1", localPort: 10002, sessionID: 7, version: 1)
        XCTAssertEqual(a.payloadType, "8")
        XCTAssertEqual(a.encoding, "PCMA")
        XCTAssertEqual(a.remoteAddress, "198.51.100.7")
        XCTAssertEqual(a.remoteRTCPPort, 4001)
        XCTAssertEqual(String(decoding: a.sdp.serialized(), as: UTF8.self), [
            "v=0", "o=- 7 1 IN IP4 198.51.100.1", "s=-", "c=IN IP4 198.51.100.1", "t=0 0",
            "m=audio 10002 RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv",
            "m=video 0 RTP/AVP 96", "",
        ].joined(separator: "\r\n"))
        let onlyG722 = try SDPSession(parsing: Array("v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9\r\n".utf8))
        XCTAssertThrowsError(try SDPAnswerer().answer(offer: onlyG722, localAddress: "198.51.100.1", localPort: 1, sessionID: 1, version: 1))
    }

    /// An EVS-first offer (as current VoWiFi phones send) is answered with EVS, its fmtp and the
    /// 16 kHz telephone-event; an offer listing AMR-WB before EVS keeps the phone's order.
    func testAnswerTakesEVSWhenOfferedFirst() throws {
        func offer(_ pts: String) throws -> SDPSession {
            try SDPSession(parsing: Array([
                "v=0", "o=- 1 1 IN IP6 2001:db8:3000:1::2", "s=-", "c=IN IP6 2001:db8:3000:1::2", "t=0 0",
                "m=audio 31000 RTP/AVP \(pts)", "a=rtpmap:127 EVS/16000", "a=fmtp:127 br=5.9-24.4;bw=nb-swb;max-red=0",
                "a=rtpmap:116 AMR-WB/16000/1", "a=rtpmap:100 telephone-event/16000", "a=fmtp:100 0-15", "a=ptime:20", "",
            ].joined(separator: "\r\n").utf8))
        }
        let a = try SDPAnswerer().answer(offer: try offer("127 116 100"), localAddress: "2001:db8:3000:1::1", localPort: 30000, sessionID: 1, version: 1)
        XCTAssertEqual(a.encoding, "EVS")
        let media = try XCTUnwrap(a.sdp.media.first)
        XCTAssertEqual(media.formats, ["127", "100"])
        XCTAssertEqual(media.fmtp("127"), "br=5.9-24.4;bw=nb-swb;max-red=0")
        let b = try SDPAnswerer().answer(offer: try offer("116 127 100"), localAddress: "2001:db8:3000:1::1", localPort: 30000, sessionID: 1, version: 1)
        XCTAssertEqual(b.encoding, "AMR-WB")
    }

    func testMalformedSDPIsATypedError() {
        for bad in ["", "x", "o=- 1 1 IN IP4 a\r\n", "v=0\r\no=- 1 1 IN IP4 a\r\nm=audio / RTP/AVP 0\r\n", "v=0\r\no=x\r\nm=audio 70000 RTP/AVP 0\r\n", "v=0\r\nnot a line\r\n"] {
            XCTAssertThrowsError(try SDPSession(parsing: Array(bad.utf8)), bad) { XCTAssertTrue($0 is SDPError) }
        }
    }

    func testBenchRuns() throws {
        let r = try SIPBench.parseSerialize(iterations: 200) { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        XCTAssertEqual(r.messages, 200)
        XCTAssertEqual(r.checksum, 200 * (SIPBench.typicalInvite.count + "z9hG4bK3773218089".count))
        XCTAssertGreaterThan(r.messagesPerSecond, 0)
        print(r)
    }
}
