import XCTest
@testable import ESP

final class AntiReplayWindowTests: XCTestCase {
    func testInOrderAndReplay() {
        var w = AntiReplayWindow(size: 1024)
        for s: UInt32 in 1...100 {
            XCTAssertEqual(w.check(low: s, esn: false), .ok(UInt64(s)))
            w.accept(UInt64(s))
        }
        XCTAssertEqual(w.check(low: 50, esn: false), .replayed)
        XCTAssertEqual(w.check(low: 0, esn: false), .tooOld)
    }

    func testOutOfOrderInsideWindowAndTooOld() {
        var w = AntiReplayWindow(size: 1024)
        w.accept(2000)
        XCTAssertEqual(w.check(low: 1500, esn: false), .ok(1500))
        w.accept(1500)
        XCTAssertEqual(w.check(low: 1500, esn: false), .replayed)
        XCTAssertEqual(w.check(low: 977, esn: false), .ok(977))      // 2000-977 = 1023 < 1024
        XCTAssertEqual(w.check(low: 976, esn: false), .tooOld)        // 1024 behind
        // A big jump clears the bitmap: an old bit must not alias a new number.
        w.accept(2000 + 1024)
        XCTAssertEqual(w.check(low: 2000 + 1024 - 1, esn: false), .ok(3023))
        XCTAssertEqual(w.check(low: 3024, esn: false), .replayed)
    }

    func testBitsReusedAfterSlideAreCleared() {
        var w = AntiReplayWindow(size: 64)
        w.accept(10)
        w.accept(74)   // same bit position as 10, one window later
        XCTAssertEqual(w.check(low: 73, esn: false), .ok(73))
        XCTAssertEqual(w.check(low: 74, esn: false), .replayed)
    }

    /// RFC 4303 Appendix A: after the low 32 bits wrap, the high half is inferred.
    func testExtendedSequenceNumberWrap() {
        var w = AntiReplayWindow(size: 1024)
        w.accept(0xFFFF_FFF0)
        XCTAssertEqual(w.check(low: 5, esn: true), .ok(0x1_0000_0005))
        w.accept(0x1_0000_0005)
        // A late packet from before the wrap is still inside the window.
        XCTAssertEqual(w.check(low: 0xFFFF_FFF8, esn: true), .ok(0xFFFF_FFF8))
        XCTAssertEqual(w.check(low: 0xFFFF_FFF0, esn: true), .replayed)
        XCTAssertEqual(w.check(low: 5, esn: true), .replayed)
    }
}

final class UDPEncapsulationTests: XCTestCase {
    func testClassify() {
        XCTAssertEqual(UDPEncapsulation.classify([0xFF]), .keepalive)
        XCTAssertEqual(UDPEncapsulation.classify([0, 0, 0, 0, 0x11, 0x22]), .ike(offset: 4))
        XCTAssertEqual(UDPEncapsulation.classify([0, 0, 0x43, 0x21, 0, 0, 0, 1]), .esp(spi: 0x4321))
        if case .malformed = UDPEncapsulation.classify([0, 0, 0x43, 0x21, 0]) {} else { XCTFail("short ESP accepted") }
        if case .malformed = UDPEncapsulation.classify([1, 2]) {} else { XCTFail("2 bytes accepted") }
        if case .malformed = UDPEncapsulation.classify([0, 0, 0, 0]) {} else { XCTFail("bare marker accepted") }
    }

    func testAddressRange() {
        let r = AddressRange(start: [198, 51, 100, 10], end: [198, 51, 100, 20])
        XCTAssertTrue(([198, 51, 100, 15] as [UInt8]).withUnsafeBytes { r.contains($0, offset: 0) })
        XCTAssertFalse(([198, 51, 100, 21] as [UInt8]).withUnsafeBytes { r.contains($0, offset: 0) })
        XCTAssertFalse(([198, 51, 100, 9] as [UInt8]).withUnsafeBytes { r.contains($0, offset: 0) })
        XCTAssertEqual(r.description, "198.51.100.10-198.51.100.20")
    }
}
