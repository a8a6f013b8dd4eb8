import XCTest
import Crypto
import Foundation
import Wire
@testable import IKEv2

/// RFC 7296 §2.8.2 with losses: the loser of a simultaneous IKE SA rekey deletes the redundant
/// SA it made with a request like any other (§2.1: retransmitted with back-off until answered,
/// or given up), for both roles. The redundant SA is reachable by its SPIs while it lives, its
/// keys are announced (`ikeSARedundant`) for the key log, and the surviving SA never suffers.
final class IKERekeyCollisionDeleteTests: XCTestCase {
    enum Side { case epdg, phone }
    /// Which message of the redundant SA's Delete exchange is lost (once).
    enum Lost { case request, response }

    struct Collision {
        let h: AttachHarness
        /// The redundant SA as its creator (the loser) announced it.
        let redundant: IKESAInfo
        /// The lost datagram, and when it was sent.
        let lost: [UInt8]
        let lostAt: Double
    }

    /// Both sides start an IKE SA rekey at once (IKESARekeyTests) and every message is
    /// delivered but the first `lost` one of the exchange on the redundant SA. Which side loses
    /// is up to the random nonces, so fresh attaches are tried until `loser` lost (each try is
    /// a coin toss: 64 of them all going the other way would take 2^-64 luck).
    /// ike_duration 1000 s and no ESP lifetime: no other exchange starts within the 126 s of
    /// retransmissions.
    static func collide(loser: Side, lost: Lost) throws -> Collision {
        for _ in 0..<64 {
            let h = try AttachHarness.attached(ikeLifetime: 1000, espLifetime: 0)
            let old = [h.ue.spiI, h.ue.spiR]
            h.now += 900
            h.route(h.epdg.poll(now: h.now), fromUE: false)
            h.route(h.ue.rekeyIKESA(now: h.now), fromUE: true)
            var dropped: (bytes: [UInt8], at: Double)?
            h.run(start: false) { bytes, _ in
                // Only the redundant SA's Delete exchange is INFORMATIONAL on SPIs other than the old SA's.
                guard dropped == nil, let m = try? IKEMessage.peekHeader(bytes), m.exchangeType == .INFORMATIONAL,
                      [m.spiI, m.spiR] != old, m.isResponse == (lost == .response) else { return false }
                dropped = (bytes, h.now)
                return true
            }
            let epdgLost = AttachHarness.logs(h.epdgActions).contains { $0.contains("IKE SA rekey collision lost") }
            XCTAssertNotEqual(epdgLost, AttachHarness.logs(h.ueActions).contains { $0.contains("IKE SA rekey collision lost") })
            guard (epdgLost ? Side.epdg : .phone) == loser else { continue }
            let info = try XCTUnwrap(redundant(loser == .epdg ? h.epdgActions : h.ueActions), "the loser announced no redundant SA")
            let d = try XCTUnwrap(dropped, "nothing of the redundant SA's Delete exchange went over the wire")
            return Collision(h: h, redundant: info, lost: d.bytes, lostAt: d.at)
        }
        throw NeverLost(side: loser)
    }

    struct NeverLost: Error { var side: Side }

    static func redundant(_ actions: [IKEAction]) -> IKESAInfo? {
        actions.lazy.compactMap { if case let .ikeSARedundant(i) = $0 { i } else { nil } }.first
    }

    /// Opens a message of the redundant SA with the announced keys, as a capture with its key row would.
    func open(_ bytes: [UInt8], _ info: IKESAInfo, receiverIsInitiator: Bool) throws -> (IKEHeader, [Payload]) {
        let m = try IKEMessage(parsing: bytes)
        return (m.header, try SKProtection(suite: info.suite, keys: info.keys, isInitiator: receiverIsInitiator).unprotect(raw: bytes, message: m))
    }

    /// A message of the redundant SA as its responder (the collision's winner) would send it.
    func asResponder(_ info: IKESAInfo, response: Bool, _ payloads: [Payload]) throws -> [UInt8] {
        try SKProtection(suite: info.suite, keys: info.keys, isInitiator: false).protect(
            header: IKEHeader(spiI: info.spiI, spiR: info.spiR, exchangeType: .INFORMATIONAL, isInitiator: false, isResponse: response, messageID: 0),
            payloads: payloads)
    }

    static func name(_ i: IKESAInfo) -> String { "\(Hex.spi(i.spiI))/\(Hex.spi(i.spiR))" }

    /// The surviving SA carries the session on both sides and works (DPD answered).
    func assertSurvivorIntact(_ h: AttachHarness, file: StaticString = #filePath, line: UInt = #line) throws {
        let sa = try XCTUnwrap(h.epdg.sa(spiI: h.ue.spiI, spiR: h.ue.spiR), file: file, line: line)
        XCTAssertEqual(sa.keys, h.ue.keys, file: file, line: line)
        XCTAssertEqual(sa.children.count, 1, file: file, line: line)
        XCTAssertEqual(h.epdg.sas(imsi: AttachHarness.imsi).map(\.localSPI), [sa.localSPI], file: file, line: line)
        XCTAssertEqual(h.ue.state, .established, file: file, line: line)
        XCTAssertFalse(h.ue.isDead, file: file, line: line)
        XCTAssertEqual(h.pool.releases, 0, file: file, line: line)
        XCTAssertFalse((h.epdgActions + h.ueActions).contains { if case .deleteChildSA = $0 { true } else { false } }, file: file, line: line)
        XCTAssertFalse(h.ueActions.contains { if case .ikeSADeleted = $0 { true } else { false } }, "the phone's session goes on", file: file, line: line)
        h.route(sa.checkLiveness(now: h.now), fromUE: false)
        h.run(start: false)
        XCTAssertNil(sa.pending, "DPD on the surviving SA unanswered", file: file, line: line)
    }

    // MARK: The ePDG loses

    func testEPDGRetransmitsTheLostDeleteOfItsRedundantSA() throws {
        let c = try Self.collide(loser: .epdg, lost: .request)
        let h = c.h, red = c.redundant
        // The lost Delete: INFORMATIONAL request #0 with the I flag (the ePDG made that SA), D(IKE),
        // readable with the announced keys; the phone, which won, announced the same SA and keys.
        XCTAssertTrue(red.isInitiator)
        let (dh, dp) = try open(c.lost, red, receiverIsInitiator: false)
        XCTAssertEqual([dh.spiI, dh.spiR], [red.spiI, red.spiR])
        XCTAssertTrue(dh.isInitiator); XCTAssertFalse(dh.isResponse); XCTAssertEqual(dh.messageID, 0)
        XCTAssertEqual(dp.deletes.map(\.protocolID), [.IKE])
        let seen = try XCTUnwrap(Self.redundant(h.ueActions))
        XCTAssertEqual([seen.spiI, seen.spiR], [red.spiI, red.spiR])
        XCTAssertEqual(seen.keys, red.keys)
        XCTAssertFalse(seen.isInitiator)

        // Until answered the redundant SA lives on the ePDG next to the surviving one, filed by its SPIs.
        XCTAssertEqual(h.epdg.count, 2)
        let redundant = try XCTUnwrap(h.epdg.sa(spiI: red.spiI, spiR: red.spiR))
        let surviving = try XCTUnwrap(h.epdg.sa(spiI: h.ue.spiI, spiR: h.ue.spiR))
        XCTAssertFalse(redundant === surviving)
        XCTAssertTrue(redundant.children.isEmpty)
        XCTAssertEqual(h.ue.retired.map(\.spiI), [red.spiI], "the phone keeps the redundant SA for its Delete")
        // A request on the redundant SPIs reaches that SA, which answers with its own keys; the surviving SA sees nothing.
        let expected = surviving.expectedPeerRequestID
        let dpd = h.epdg.handle(datagram: try asResponder(red, response: false, []), from: h.ueEnd, to: h.epdgEnd, now: h.now)
        let (ah, ap) = try open(try XCTUnwrap(AttachHarness.sends(dpd).first, "\(dpd)"), red, receiverIsInitiator: false)
        XCTAssertTrue(ah.isResponse); XCTAssertEqual([ah.spiI, ah.spiR], [red.spiI, red.spiR]); XCTAssertTrue(ap.isEmpty)
        XCTAssertEqual(surviving.expectedPeerRequestID, expected)
        XCTAssertNotNil(redundant.pending, "a DPD does not end our Delete")

        // 2 s later the same Delete again; the phone answers it and forgets the SA, and so does the ePDG.
        h.now = try XCTUnwrap(redundant.wakeup)
        XCTAssertEqual(h.now - c.lostAt, 2, accuracy: 0.05)
        let again = h.epdg.poll(now: h.now)
        XCTAssertEqual(AttachHarness.sends(again), [c.lost], "retransmitted unchanged")
        h.route(again, fromUE: false)
        h.run(start: false)
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains("redundant IKE SA \(Self.name(red)) deleted by the peer after the rekey"), "\(AttachHarness.logs(h.ueActions))")
        XCTAssertTrue(h.ue.retired.isEmpty)
        XCTAssertTrue(h.epdgActions.contains { if case let .ikeSADeleted(i, r, why) = $0 { [i, r] == [red.spiI, red.spiR] && why.contains("the peer answered the Delete of the redundant IKE SA") } else { false } })
        XCTAssertEqual(h.epdg.count, 1)
        XCTAssertNil(h.epdg.sa(spiI: red.spiI, spiR: red.spiR))
        try assertSurvivorIntact(h)
    }

    func testEPDGGivesUpOnlyTheRedundantSAWhenItsDeleteStaysUnanswered() throws {
        // The phone's answer is lost; it already forgot the SA, so the retransmissions (at 2, 6,
        // 14, 30, 62 s: back-off from 2 s) go unanswered and the ePDG gives up at 126 s.
        let c = try Self.collide(loser: .epdg, lost: .response)
        let h = c.h, red = c.redundant
        XCTAssertTrue(h.ue.retired.isEmpty, "the phone answered the Delete")
        let redundant = try XCTUnwrap(h.epdg.sa(spiI: red.spiI, spiR: red.spiR))
        let sentAt = try XCTUnwrap(redundant.pending).sentAt
        var retransmitted: [Double] = []
        h.ueActions = []
        for _ in 0..<10 {
            guard let w = redundant.wakeup else { break }
            h.now = w
            let a = h.epdg.poll(now: h.now)
            if !AttachHarness.sends(a).isEmpty { retransmitted.append(h.now - sentAt) }
            h.route(a, fromUE: false)
            h.run(start: false)
        }
        XCTAssertEqual(retransmitted, [2, 6, 14, 30, 62])
        XCTAssertEqual(AttachHarness.sends(h.ueActions), [], "the phone does not answer for an SA it deleted")
        XCTAssertTrue(redundant.isDead)
        XCTAssertEqual(h.now - sentAt, 126, accuracy: 0.001)
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains("no answer to INFORMATIONAL #0 after 5 retransmissions"))
        XCTAssertTrue(h.epdgActions.contains { if case let .ikeSADeleted(i, _, why) = $0 { i == red.spiI && why.contains("no answer to the Delete of the redundant IKE SA") } else { false } })
        XCTAssertEqual(h.epdg.count, 1)
        try assertSurvivorIntact(h)
    }

    func testPhonesOwnDeleteOfTheEPDGsRedundantSAArrivesFirst() throws {
        // The phone deletes the SA itself before the ePDG's (lost) Delete is retransmitted.
        let c = try Self.collide(loser: .epdg, lost: .request)
        let h = c.h, red = c.redundant
        let redundant = try XCTUnwrap(h.epdg.sa(spiI: red.spiI, spiR: red.spiR))
        let answer = h.epdg.handle(datagram: try asResponder(red, response: false, [.delete(DeletePayload(protocolID: .IKE))]),
                                   from: h.ueEnd, to: h.epdgEnd, now: h.now)
        let (ah, ap) = try open(try XCTUnwrap(AttachHarness.sends(answer).first), red, receiverIsInitiator: false)
        XCTAssertTrue(ah.isResponse); XCTAssertTrue(ap.isEmpty)
        XCTAssertTrue(redundant.isDead)
        XCTAssertEqual(h.epdg.count, 1)
        // Nothing more is sent on it; the phone's answer to the crossing Delete finds no SA and harms nothing.
        h.now = c.lostAt + 130
        XCTAssertEqual(AttachHarness.sends(h.epdg.poll(now: h.now)), [])
        let late = h.epdg.handle(datagram: try asResponder(red, response: true, []), from: h.ueEnd, to: h.epdgEnd, now: h.now)
        XCTAssertEqual(AttachHarness.sends(late), [])
        try assertSurvivorIntact(h)
    }

    // MARK: The phone loses

    func testPhoneRetransmitsTheLostDeleteOfItsRedundantSA() throws {
        let c = try Self.collide(loser: .phone, lost: .request)
        let h = c.h, red = c.redundant
        XCTAssertTrue(red.isInitiator)
        let (dh, dp) = try open(c.lost, red, receiverIsInitiator: false)
        XCTAssertEqual([dh.spiI, dh.spiR], [red.spiI, red.spiR])
        XCTAssertTrue(dh.isInitiator); XCTAssertEqual(dh.messageID, 0)
        XCTAssertEqual(dp.deletes.map(\.protocolID), [.IKE])
        // The phone keeps it as a retired SA with the Delete pending; the ePDG (the winner) still has its side of it.
        XCTAssertEqual(h.ue.retired.map(\.spiI), [red.spiI])
        XCTAssertEqual(h.ue.retired.first?.redundant, true)
        XCTAssertNotNil(h.epdg.sa(spiI: red.spiI, spiR: red.spiR))
        XCTAssertEqual(h.epdg.count, 2)

        h.now = try XCTUnwrap(h.ue.wakeup)
        XCTAssertEqual(h.now - c.lostAt, 2, accuracy: 0.05)
        let again = h.ue.poll(now: h.now)
        XCTAssertEqual(AttachHarness.sends(again), [c.lost], "retransmitted unchanged")
        h.route(again, fromUE: true)
        h.run(start: false)
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains("redundant IKE SA \(Self.name(red)): the peer answered our INFORMATIONAL #0; forgotten"),
                      "\(AttachHarness.logs(h.ueActions))")
        XCTAssertTrue(h.ue.retired.isEmpty)
        XCTAssertNil(h.ue.wakeup)
        XCTAssertEqual(h.epdg.count, 1)
        try assertSurvivorIntact(h)
    }

    func testPhoneGivesUpOnlyTheRedundantSAWhenItsDeleteStaysUnanswered() throws {
        // The ePDG's answer is lost and the ePDG forgot the SA: each retransmission gets an
        // unprotected INVALID_IKE_SPI, which proves nothing and is dropped; the phone gives up at 126 s.
        let c = try Self.collide(loser: .phone, lost: .response)
        let h = c.h, red = c.redundant
        XCTAssertNil(h.epdg.sa(spiI: red.spiI, spiR: red.spiR), "the ePDG answered the Delete")
        let sentAt = try XCTUnwrap(h.ue.retired.first?.pending).sentAt
        var retransmitted: [Double] = []
        for _ in 0..<10 {
            guard let w = h.ue.wakeup else { break }
            h.now = w
            let a = h.ue.poll(now: h.now)
            if !AttachHarness.sends(a).isEmpty { retransmitted.append(h.now - sentAt) }
            h.route(a, fromUE: true)
            h.run(start: false)
        }
        XCTAssertEqual(retransmitted, [2, 6, 14, 30, 62])
        XCTAssertEqual(h.now - sentAt, 126, accuracy: 0.001)
        XCTAssertTrue(h.ue.retired.isEmpty)
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains("redundant IKE SA \(Self.name(red)): no answer to our INFORMATIONAL #0; forgotten, the current IKE SA is kept"),
                      "\(AttachHarness.logs(h.ueActions))")
        XCTAssertEqual(h.epdg.count, 1)
        try assertSurvivorIntact(h)
    }

    func testEPDGsOwnDeleteOfThePhonesRedundantSAArrivesFirst() throws {
        // The phone's Delete is lost and a Delete of the SA from the ePDG's side arrives (a peer
        // that deletes the redundant SA itself): the phone answers, forgets it, stops retransmitting.
        let c = try Self.collide(loser: .phone, lost: .request)
        let h = c.h, red = c.redundant
        let answer = h.ue.handle(datagram: try asResponder(red, response: false, [.delete(DeletePayload(protocolID: .IKE))]),
                                 from: h.epdgEnd, to: h.ueEnd, now: h.now)
        h.ueActions += answer
        let (ah, ap) = try open(try XCTUnwrap(AttachHarness.sends(answer).first, "\(answer)"), red, receiverIsInitiator: false)
        XCTAssertTrue(ah.isResponse); XCTAssertEqual([ah.spiI, ah.spiR], [red.spiI, red.spiR]); XCTAssertTrue(ap.isEmpty)
        XCTAssertTrue(AttachHarness.logs(answer).contains("redundant IKE SA \(Self.name(red)) deleted by the peer after the rekey"), "\(AttachHarness.logs(answer))")
        XCTAssertTrue(h.ue.retired.isEmpty)
        XCTAssertNil(h.ue.wakeup, "no retransmission of our Delete is left")
        try assertSurvivorIntact(h)
    }
}

extension TsharkInteropTests {
    /// Wireshark decrypts the Delete of a redundant IKE SA, its retransmission and the answer
    /// with the row the ePDG's key log writes from `ikeSARedundant`.
    func testTsharkDecryptsTheDeleteOfARedundantIKESA() throws {
        guard Self.tshark != nil else { throw XCTSkip("tshark not installed") }
        let c = try IKERekeyCollisionDeleteTests.collide(loser: .epdg, lost: .request)
        let h = c.h, red = c.redundant
        let sa = try XCTUnwrap(h.epdg.sa(spiI: red.spiI, spiR: red.spiR))
        h.now = try XCTUnwrap(sa.wakeup)
        let again = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        let answer = try XCTUnwrap(AttachHarness.sends(h.ue.handle(datagram: again, from: h.epdgEnd, to: h.ueEnd, now: h.now)).first)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ikev2-redundant-\(UInt32.random(in: 0...UInt32.max)).pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(pcap([(c.lost, h.epdgEnd, h.ueEnd), (again, h.epdgEnd, h.ueEnd), (answer, h.ueEnd, h.epdgEnd)])).write(to: file)
        let row = WiresharkIKEv2Table.row(spii: red.spiI, spir: red.spiR, encryption: red.suite.encryption, skEi: red.keys.SK_ei, skEr: red.keys.SK_er,
                                          integrity: red.suite.integrity, skAi: red.keys.SK_ai, skAr: red.keys.SK_ar)
        let out = try run(["-n", "-r", file.path, "-o", "uat:ikev2_decryption_table:" + row, "-T", "fields", "-E", "separator=|",
                           "-e", "isakmp.exchangetype", "-e", "isakmp.flags", "-e", "isakmp.delete.protoid", "-e", "_ws.expert.message"])
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, out)
        guard lines.count == 3 else { return }
        XCTAssertTrue(lines[0].hasPrefix("37|0x08|1|"), out)     // INFORMATIONAL, Initiator, decrypted D(IKE)
        XCTAssertEqual(lines[1], lines[0], out)
        XCTAssertTrue(lines[2].hasPrefix("37|0x20||"), out)      // the answer: Response, nothing inside
        XCTAssertFalse(out.contains("incorrect") || out.lowercased().contains("malformed"), out)
    }
}
