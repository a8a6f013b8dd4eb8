import XCTest
@testable import UESim

final class RTPStreamTests: XCTestCase {
    func testHeaderBytesAndProgression() throws {
        var s = RTPSender(ssrc: 0x1122_3344, payloadType: 97, initialSequence: 0xFFFE, initialTimestamp: 0xFFFF_FF00)
        XCTAssertEqual(s.samplesPerPacket, 320)
        let p0 = s.nextPacket().serialized()
        XCTAssertEqual(Array(p0.prefix(12)), [0x80, 0x80 | 97, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0x00, 0x11, 0x22, 0x33, 0x44])
        XCTAssertEqual(p0.count, 12 + 33)
        XCTAssertEqual(Array(p0[12..<18]), [0, 0, 0, 0, 0xFF, 0xFE])
        let p1 = try RTPPacket(parsing: s.nextPacket().serialized())
        XCTAssertFalse(p1.marker)
        XCTAssertEqual(p1.sequenceNumber, 0xFFFF)
        XCTAssertEqual(p1.timestamp, 0xFFFF_FF00 &+ 320)
        let p2 = try RTPPacket(parsing: s.nextPacket().serialized())
        XCTAssertEqual(p2.sequenceNumber, 0)                 // wraps
        XCTAssertEqual(p2.timestamp, 0xFFFF_FF00 &+ 640)     // wraps
        XCTAssertEqual(p2.payloadType, 97)
        XCTAssertEqual(RTPSender.patternHeader(p2.payload)?.index, 2)
        XCTAssertEqual(RTPSender.patternHeader(p2.payload)?.sequenceNumber, 0)
    }

    func testParseErrors() {
        XCTAssertThrowsError(try RTPPacket(parsing: [0x80, 0, 0])) { XCTAssertEqual($0 as? RTPError, .truncated(3)) }
        XCTAssertThrowsError(try RTPPacket(parsing: [UInt8](repeating: 0x40, count: 12))) { XCTAssertEqual($0 as? RTPError, .badVersion(1)) }
        var padded = RTPPacket(payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: [1, 2, 3]).serialized()
        padded[0] |= 0x20; padded += [0, 0, 3]
        XCTAssertEqual(try RTPPacket(parsing: padded).payload, [1, 2, 3])
        padded[padded.count - 1] = 200
        XCTAssertThrowsError(try RTPPacket(parsing: padded)) { XCTAssertEqual($0 as? RTPError, .badPadding(200)) }
    }

    /// 1 s at 20 ms = 50 packets; the echo loses one, corrupts one, duplicates one, and rewrites SSRC/sequence.
    func testEchoCheckingDetectsLossMismatchAndMeasuresRTT() throws {
        var st = RTPStream(sender: RTPSender(ssrc: 7, payloadType: 97), duration: 1.0)
        XCTAssertEqual(st.packetCount, 50)
        var t = 0.0
        var wire: [(Double, [UInt8])] = st.start(now: t).map { (t, $0) }
        while let d = st.nextDeadline { t = d; wire += st.tick(now: t).map { (t, $0) } }
        XCTAssertEqual(wire.count, 50)
        XCTAssertTrue(st.finishedSending)
        XCTAssertEqual(wire[49].0, 0.98, accuracy: 1e-9)
        let ts = try wire.map { try RTPPacket(parsing: $0.1).timestamp }
        XCTAssertEqual(ts[49] - ts[0], 49 * 320)

        for (i, (at, bytes)) in wire.enumerated() {
            if i == 10 { continue }                                  // lost
            var echo = try RTPPacket(parsing: bytes)
            echo.ssrc = 999; echo.sequenceNumber &+= 1000            // the echo's own header
            if i == 20 { echo.payload[10] ^= 0xFF }                  // corrupted
            let rtt = 0.030 + Double(i % 5) * 0.002
            let v = st.receive(echo.serialized(), now: at + rtt)
            if i == 20 { XCTAssertEqual(v, .payloadMismatch(index: 20)) } else if case let .ok(index, got) = v {
                XCTAssertEqual(index, UInt32(i)); XCTAssertEqual(got, rtt, accuracy: 1e-9)
            } else { XCTFail("\(v)") }
            if i == 30 { XCTAssertEqual(st.receive(echo.serialized(), now: at + rtt + 0.001), .duplicate(index: 30)) }
        }
        XCTAssertEqual(st.receive([1, 2, 3], now: 2), .malformed(.truncated(3)))
        let r = st.report(now: 3)
        XCTAssertEqual(r.sent, 50)
        XCTAssertEqual(r.received, 48)
        XCTAssertEqual(r.lost, 2)          // #10 never came back, #20 came back corrupt
        XCTAssertEqual(r.mismatched, 1)
        XCTAssertEqual(r.duplicates, 1)
        XCTAssertEqual(r.malformed, 1)
        XCTAssertEqual(r.rttP50 ?? 0, 0.034, accuracy: 1e-9)
        XCTAssertEqual(r.rttMax ?? 0, 0.038, accuracy: 1e-9)
        XCTAssertFalse(r.passed)
        // Packets sent within the grace period are in flight, not lost.
        XCTAssertEqual(st.report(now: 0.75, grace: 0.5).lost, 1)   // #10 settled, #20 (sent 0.4) still in flight
    }

    func testCleanEchoPasses() throws {
        var st = RTPStream(sender: RTPSender(ssrc: 1, payloadType: 100), duration: 0.1)
        var t = 0.0
        for b in st.start(now: 0) { st.receive(b, now: 0.01) }
        while let d = st.nextDeadline { t = d; for b in st.tick(now: t) { st.receive(b, now: t + 0.01) } }
        let r = st.report(now: 1)
        XCTAssertTrue(r.passed)
        XCTAssertEqual(r.sent, 5)
        XCTAssertEqual(r.outOfOrder, 0)
    }
}
