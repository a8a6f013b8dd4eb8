import XCTest
@testable import Wire

final class ByteReaderWriterTests: XCTestCase {
    func testReadsBigEndianIntegers() throws {
        var r = ByteReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12])
        XCTAssertEqual(try r.u8(), 0x01)
        XCTAssertEqual(try r.u16(), 0x0203)
        XCTAssertEqual(try r.u32(), 0x0405_0607)
        XCTAssertEqual(try r.u64(), 0x0809_0a0b_0c0d_0e0f)
        XCTAssertEqual(r.remaining, 3)
        XCTAssertEqual(try r.u24(), 0x101112)
        XCTAssertTrue(r.isAtEnd)
    }

    func testTruncatedReadNamesFieldAndOffset() {
        var r = ByteReader([0xaa, 0xbb, 0xcc])
        XCTAssertNoThrow(try r.u16("first"))
        XCTAssertThrowsError(try r.u32("Notify SPI")) { e in
            XCTAssertEqual(e as? WireError, .truncated(what: "Notify SPI", offset: 2, needed: 4, available: 1))
            XCTAssertEqual("\(e)", "truncated Notify SPI at offset 2: needed 4 bytes, 1 left")
        }
        // A failed read does not move the cursor.
        XCTAssertEqual(r.offset, 2)
        XCTAssertThrowsError(try r.bytes(-1, "negative"))
        XCTAssertThrowsError(try r.u64())
    }

    func testSubReaderKeepsAbsoluteOffsetsAndLimits() throws {
        var r = ByteReader([1, 2, 3, 4, 5, 6])
        _ = try r.u8()
        var sub = try r.subReader(3, "payload")
        XCTAssertEqual(r.offset, 4)
        XCTAssertEqual(try sub.u16(), 0x0203)
        XCTAssertThrowsError(try sub.u16("x")) { e in
            XCTAssertEqual(e as? WireError, .truncated(what: "x", offset: 3, needed: 2, available: 1))
        }
        XCTAssertEqual(sub.rest(), [4])
        XCTAssertThrowsError(try r.subReader(3, "too long"))
        XCTAssertEqual(try r.peek(1), 6)
        XCTAssertThrowsError(try r.peek(2))
    }

    func testWriterBackpatchesLength() {
        var w = ByteWriter()
        w.u8(0xff)
        let m = w.beginLength(width: 2)
        w.u32(0xdead_beef)
        w.u64(1)
        w.endLength(m)
        XCTAssertEqual(w.bytes, [0xff, 0x00, 0x0e, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 1])
        // Region starting earlier than the placeholder (a generic payload header), counted in words.
        var w2 = ByteWriter()
        let start = w2.count
        w2.u8(1); w2.u8(0)
        let m2 = w2.beginLength(width: 1, regionStart: start)
        w2.u8(9); w2.zeros(4)
        w2.endLength(m2, divisor: 4)
        XCTAssertEqual(w2.bytes, [1, 0, 2, 9, 0, 0, 0, 0])
        w2.u24(0x010203)
        w2.patch(at: 0, with: [7, 7])
        XCTAssertEqual(w2.bytes, [7, 7, 2, 9, 0, 0, 0, 0, 1, 2, 3])
    }
}
