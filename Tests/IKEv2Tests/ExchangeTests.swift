import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

final class ExchangeTests: XCTestCase {
    func testNATTraversalMovesTo4500AndEncapsulates() throws {
        let h = try AttachHarness()
        h.nat = true
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established, "\(AttachHarness.logs(h.ueActions + h.epdgActions))")
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
        let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        XCTAssertTrue(nw.udpEncapsulation)
        XCTAssertTrue(ue.udpEncapsulation)
        XCTAssertEqual(nw.remote, IKEEndpoint(IPAddress(v4: 198, 51, 100, 77), 40001), "ePDG follows the NAT mapping of port 4500")
        XCTAssertEqual(nw.local.port, 4500)
        XCTAssertEqual(ue.remote.port, 4500)
        XCTAssertEqual(ue.local.port, 4500)
        // Every IKE_AUTH went over 4500.
        let sends = h.ueActions.compactMap { if case let .send(_, from, to) = $0 { (from.port, to.port) } else { nil } }
        XCTAssertEqual(sends.first?.1, 500)
        XCTAssertTrue(sends.dropFirst().allSatisfy { $0 == (4500, 4500) })
    }

    func testChildSARekeyWithAndWithoutPFS() throws {
        for pfs in [nil, DHGroup.ecp256] {
            let h = try AttachHarness()
            try h.makeUE()
            h.run()
            XCTAssertEqual(h.ue.state, .established)
            let first = try XCTUnwrap(AttachHarness.children(h.epdgActions).first)
            h.ueActions = []; h.epdgActions = []
            h.route(h.ue.rekeyChildSA(now: h.now, pfsGroup: pfs), fromUE: true)
            h.run(start: false)
            let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first, "\(AttachHarness.logs(h.epdgActions))")
            let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
            XCTAssertEqual(nw.inboundSPI, ue.outboundSPI)
            XCTAssertEqual(nw.outboundSPI, ue.inboundSPI)
            XCTAssertEqual(nw.inboundEncryptionKey, ue.outboundEncryptionKey)
            XCTAssertEqual(nw.outboundIntegrityKey, ue.inboundIntegrityKey)
            XCTAssertNotEqual(nw.inboundEncryptionKey, first.inboundEncryptionKey)
            XCTAssertNotEqual(nw.inboundSPI, first.inboundSPI)
            XCTAssertEqual(nw.remoteTS, first.remoteTS)
            XCTAssertEqual(AttachHarness.logs(h.epdgActions).contains { $0.contains("with PFS") }, pfs != nil)
            // The phone deletes the old pair; the ePDG removes it and keeps the new one.
            h.route(h.ue.deleteRekeyedChildSA(now: h.now), fromUE: true)
            h.run(start: false)
            XCTAssertTrue(h.epdgActions.contains(.deleteChildSA(inboundSPI: first.inboundSPI, outboundSPI: first.outboundSPI)))
            let sa = try XCTUnwrap(h.epdg.allSAs.first)
            XCTAssertEqual(sa.children.map(\.inboundSPI), [nw.inboundSPI])
        }
    }

    func testInitiatorRetransmitsAndResponderAnswersFromCache() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        h.packetsToEPDG = [] // lost
        XCTAssertEqual(h.ue.wakeup, h.now + 2)
        h.route(h.ue.poll(now: h.now + 1), fromUE: true)
        XCTAssertTrue(h.packetsToEPDG.isEmpty, "not yet")
        h.route(h.ue.poll(now: h.now + 2), fromUE: true)
        XCTAssertEqual(h.packetsToEPDG.count, 1, "retransmitted")
        h.now += 2
        h.run(start: false)
        XCTAssertEqual(h.ue.state, .established)
    }

    func testInitiatorGivesUpWhenNobodyAnswers() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        var t = h.now
        for _ in 0..<10 {
            guard let w = h.ue.wakeup else { break }
            t = w
            _ = h.ue.poll(now: t)
        }
        XCTAssertEqual(h.ue.state, .failed(reason: "peer not responding", notify: nil))
        XCTAssertEqual(t - h.now, 2 + 4 + 8 + 16 + 32 + 64, accuracy: 0.001)
    }

    func testUnsupportedCriticalPayloadInIKEAuth() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.route(h.ue.start(now: h.now), fromUE: true)
        h.run(start: false) // runs to completion; now inject a crafted INFORMATIONAL with a critical unknown payload
        XCTAssertEqual(h.ue.state, .established)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let ueSA = h.ue!
        // Build a request from the phone's side with the phone's keys.
        let header = IKEHeader(spiI: sa.spiI, spiR: sa.spiR, exchangeType: .INFORMATIONAL, isInitiator: true, isResponse: false,
                               messageID: ueSA.nextRequestID)
        let wire = try XCTUnwrap(ueSA.protection).protect(header: header, payloads: [.unknown(type: PayloadType(rawValue: 99), critical: true, body: [1])])
        let out = AttachHarness.sends(h.epdg.handle(datagram: wire, from: h.ueEnd, to: h.epdgEnd, now: h.now))
        XCTAssertEqual(out.count, 1)
        let m = try IKEMessage(parsing: out[0])
        let inner = try XCTUnwrap(ueSA.protection).unprotect(raw: out[0], message: m)
        XCTAssertEqual(inner, [.notify(NotifyPayload(.UNSUPPORTED_CRITICAL_PAYLOAD, data: [99]))])
    }

    /// Mutated copies of every message of a real attach must never crash the ePDG.
    func testResponderSurvivesMutatedMessages() throws {
        let h = try AttachHarness()
        try h.makeUE()
        h.run()
        let msgs = AttachHarness.sends(h.ueActions)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<1500 {
            var m = msgs[i % msgs.count]
            let n = Int.random(in: 1...4, using: &rng)
            for _ in 0..<n { m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            if i % 7 == 0 { m = Array(m.prefix(Int.random(in: 0..<m.count, using: &rng))) }
            _ = h.epdg.handle(datagram: m, from: h.ueEnd, to: h.epdgEnd, now: h.now)
        }
        // Random garbage too.
        for _ in 0..<500 {
            let g = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = h.epdg.handle(datagram: g, from: h.ueEnd, to: h.epdgEnd, now: h.now)
        }
        XCTAssertLessThanOrEqual(h.epdg.count, 200)
    }
}
