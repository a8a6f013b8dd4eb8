import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// RFC 7296 §2.5, §3.1, §3.2, §3.10.1, §2.3, §2.21: what a standards-following phone other than
/// ours may send in headers, payload flags, notifies and message IDs.
final class ConformanceHeaderTests: XCTestCase {
    typealias H = AttachHarness
    static let goodSA = H.rawSA([H.rawProposal(1, [(1, 12, H.keyLength(128)), (2, 5, []), (3, 12, []), (4, 14, [])], last: true)])

    /// Flag byte of the `index`-th payload of an unprotected message.
    func setPayloadFlags(_ m: inout [UInt8], index: Int, _ bits: UInt8) {
        var off = 28
        for _ in 0..<index { off += Int(m[off + 2]) << 8 | Int(m[off + 3]) }
        m[off + 1] |= bits
    }

    /// §2.5: a higher minor version, the V flag, reserved header flags and reserved payload bits
    /// (and the critical bit of a known payload) are all ignored; we answer as 2.0.
    func testHigherMinorVersionAndReservedBitsAreIgnored() throws {
        let h = try H()
        var m = try h.initRequest(sa: Self.goodSA, group: .modp2048, minor: 7)
        m[19] |= 0x10 | 0x80 | 0x40 | 0x07
        setPayloadFlags(&m, index: 0, 0x7f)
        setPayloadFlags(&m, index: 1, 0x80)
        let r = try h.initReply(m)
        XCTAssertNotNil(r.payloads.sa, "\(r.payloads)")
        XCTAssertEqual(r.header.majorVersion, 2)
        XCTAssertEqual(r.header.minorVersion, 0)
        XCTAssertEqual(h.epdg.count, 1)
    }

    /// Log lines name the IKE SA by its SPIi with all 16 digits, as the header, Wireshark and
    /// the phone print it. Against the SWu-IKEv2 emulator, SPIi 03d33cfb7c67b57d was logged as
    /// 3d33cfb7c67b57d, so one SA in sixteen could not be found in a capture by its log lines.
    func testLogLinesCarryEvery16DigitsOfTheSPI() throws {
        let h = try H()
        _ = try h.initReply(h.initRequest(spiI: 0x0c14_67da_389e_9c5b, sa: Self.goodSA, group: .modp2048))
        let lines = h.epdgActions.compactMap { if case let .log(l) = $0 { l.description } else { nil } }
        XCTAssertFalse(lines.isEmpty)
        for l in lines { XCTAssertTrue(l.hasPrefix("[IKEV2] 0c1467da389e9c5b "), l) }
    }

    /// §2.5: major version 3 is dropped and answered with an unprotected INVALID_MAJOR_VERSION
    /// in a 2.0 header; nothing is kept.
    func testHigherMajorVersionGetsInvalidMajorVersion() throws {
        let h = try H()
        let m = try h.initRequest(sa: Self.goodSA, group: .modp2048, major: 3)
        let a = h.deliver(m)
        let out = H.sends(a)
        XCTAssertEqual(out.count, 1, "\(H.logs(a))")
        let r = try IKEMessage(parsing: XCTUnwrap(out.first))
        XCTAssertEqual(r.payloads, [.notify(NotifyPayload(.INVALID_MAJOR_VERSION))])
        XCTAssertEqual(r.header.majorVersion, 2)
        XCTAssertTrue(r.header.isResponse)
        XCTAssertEqual(r.header.spiI, 0x1122_3344_5566_7788)
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertTrue(H.logs(a).contains { $0.contains("IKE major version 3") })
    }

    /// §3.2: an unknown payload without the critical bit is skipped; with it, the whole
    /// IKE_SA_INIT gets UNSUPPORTED_CRITICAL_PAYLOAD naming the type, and no SA stays half-open.
    func testUnknownPayloadsInIKESAInit() throws {
        let h = try H()
        let skipped = try h.initReply(h.initRequest(spiI: 1, sa: Self.goodSA, group: .modp2048,
                                                    extra: [.unknown(type: PayloadType(rawValue: 200), critical: false, body: [1, 2, 3]), .vendorID([9, 9])]))
        XCTAssertNotNil(skipped.payloads.sa)
        XCTAssertEqual(h.epdg.count, 1)
        let refused = try h.initReply(h.initRequest(spiI: 2, sa: Self.goodSA, group: .modp2048,
                                                    extra: [.unknown(type: PayloadType(rawValue: 200), critical: true, body: [1])]))
        XCTAssertEqual(refused.payloads, [.notify(NotifyPayload(.UNSUPPORTED_CRITICAL_PAYLOAD, data: [200]))])
        XCTAssertEqual(h.epdg.count, 1, "the refused IKE_SA_INIT left no SA")
    }

    /// §3.10.1: unknown status types (≥ 16384) and unknown error types in a request are ignored
    /// (and logged), in IKE_SA_INIT as in INFORMATIONAL.
    func testUnknownNotifyTypesInRequestsAreIgnored() throws {
        let h = try H()
        let r = try h.initReply(h.initRequest(sa: Self.goodSA, group: .modp2048,
                                              extra: [.notify(NotifyPayload(NotifyType(40_000), data: [1])), .notify(NotifyPayload(NotifyType(8_000)))]))
        XCTAssertNotNil(r.payloads.sa)
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("ignoring unrecognised notify types 40000 (status), 8000 (error)") })

        let e = try H()
        try e.makeUE()
        e.run()
        XCTAssertEqual(e.ue.state, .established)
        let replies = try e.sendProtected(e.phoneHeader(.INFORMATIONAL, id: e.ue.nextRequestID),
                                          [.notify(NotifyPayload(NotifyType(8_000), data: [7])), .notify(NotifyPayload(NotifyType(45_000)))])
        XCTAssertEqual(replies, [[]], "an empty INFORMATIONAL response, no error")
        XCTAssertTrue(H.logs(e.epdgActions).contains { $0.contains("ignoring unrecognised notify types 8000 (error), 45000 (status)") },
                      "\(H.logs(e.epdgActions))")
        XCTAssertTrue(try XCTUnwrap(e.epdg.allSAs.first).isEstablished)
    }

    /// §2.21, §3.10.1: a request whose ICV verifies but whose payloads are malformed gets
    /// INVALID_SYNTAX in a protected response; the established SA goes on.
    func testMalformedProtectedRequestGetsInvalidSyntax() throws {
        let h = try H()
        try h.makeUE()
        h.run()
        let id = h.ue.nextRequestID
        // A Notify payload of one octet cannot be parsed.
        let replies = try h.sendProtected(h.phoneHeader(.INFORMATIONAL, id: id), [.unknown(type: .N, critical: false, body: [1])])
        XCTAssertEqual(replies, [[.notify(NotifyPayload(.INVALID_SYNTAX))]], "\(H.logs(h.epdgActions))")
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("malformed after a valid ICV: INVALID_SYNTAX") })
        let dpd = try h.sendProtected(h.phoneHeader(.INFORMATIONAL, id: id + 1), [])
        XCTAssertEqual(dpd, [[]], "the SA answers the next request")
    }

    /// §2.21.1/§3.14: a wrong ICV is dropped silently and spends no message ID; the SA keeps working.
    func testWrongICVIsDroppedSilently() throws {
        let h = try H()
        try h.makeUE()
        h.run()
        let id = h.ue.nextRequestID
        var wire = try XCTUnwrap(h.ue.protection).protect(header: h.phoneHeader(.INFORMATIONAL, id: id), payloads: [])
        wire[wire.count - 1] ^= 0x01
        XCTAssertEqual(try h.deliverProtected(wire), [])
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("dropping INFORMATIONAL #\(id)") }, "\(H.logs(h.epdgActions))")
        XCTAssertEqual(try h.sendProtected(h.phoneHeader(.INFORMATIONAL, id: id), []), [[]])
        XCTAssertEqual(h.epdg.count, 1)
    }

    /// §2.3: window size 1: a request beyond the next expected message ID is dropped; a
    /// response to a request we never sent is dropped; neither harms the SA.
    func testMessageIDAheadAndUnsolicitedResponseAreDropped() throws {
        let h = try H()
        try h.makeUE()
        h.run()
        let id = h.ue.nextRequestID
        XCTAssertEqual(try h.sendProtected(h.phoneHeader(.INFORMATIONAL, id: id + 1), []), [])
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("dropping INFORMATIONAL request #\(id + 1), expected #\(id)") })
        XCTAssertEqual(try h.sendProtected(h.phoneHeader(.INFORMATIONAL, id: 7, response: true), []), [])
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("dropping unexpected response #7") })
        XCTAssertEqual(try h.sendProtected(h.phoneHeader(.INFORMATIONAL, id: id), []), [[]])
        XCTAssertTrue(try XCTUnwrap(h.epdg.allSAs.first).isEstablished)
    }
}
