import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// The ePDG rekeys the IKE SA itself (RFC 7296 §1.3.2, §2.18) and the phone answers; the
/// phone's own rekey crossing the ePDG's (§2.8.2); refusals of the ePDG's request.
final class IKESARekeyTests: XCTestCase {
    /// ike_duration 100 s: the rekey is due at 90 s, before DPD (300 s) and the Child rekey (270 s).
    func attached(ikeLifetime: Int = 100) throws -> AttachHarness { try AttachHarness.attached(ikeLifetime: ikeLifetime) }

    /// Opens a message of the old/new SA as the receiving side would.
    func open(_ bytes: [UInt8], keys: IKEKeys, suite: IKESuite, receiverIsInitiator: Bool) throws -> (IKEHeader, [Payload]) {
        let m = try IKEMessage(parsing: bytes)
        let p = try SKProtection(suite: suite, keys: keys, isInitiator: receiverIsInitiator).unprotect(raw: bytes, message: m)
        return (m.header, p)
    }

    func testEPDGRekeysIKESAAtNinetyPercentAndThePhoneFollows() throws {
        let h = try attached()
        let old = try XCTUnwrap(h.epdg.allSAs.first)
        let (oldI, oldR) = (old.spiI, old.spiR)
        let oldKeys = try XCTUnwrap(h.ue.keys), suite = try XCTUnwrap(h.ue.suite)
        let child = try XCTUnwrap(old.children.first)
        let establishedAt = try XCTUnwrap(old.establishedAt)
        XCTAssertEqual(try XCTUnwrap(h.epdg.nextWakeup), establishedAt + 90, accuracy: 0.001, "rekey at 90% of ike_duration 100 s")

        h.now = establishedAt + 90
        let started = h.epdg.poll(now: h.now)
        XCTAssertTrue(AttachHarness.logs(started).contains { $0.contains("of ike_duration 100 s: rekeying") }, "\(AttachHarness.logs(started))")
        // The request, as the phone reads it with the old keys: CREATE_CHILD_SA {SA(IKE, SPI), Ni, KEi}, no TS, no REKEY_SA.
        let request = try XCTUnwrap(AttachHarness.sends(started).first)
        let (rh, rp) = try open(request, keys: oldKeys, suite: suite, receiverIsInitiator: true)
        XCTAssertEqual(rh.exchangeType, .CREATE_CHILD_SA)
        XCTAssertFalse(rh.isInitiator, "on the old SA the ePDG is still the original responder")
        XCTAssertFalse(rh.isResponse)
        XCTAssertEqual([rh.spiI, rh.spiR], [oldI, oldR])
        let offer = try XCTUnwrap(rp.sa?.proposals.first)
        XCTAssertEqual(offer.protocolID, .IKE)
        XCTAssertEqual(offer.spi.count, 8)
        XCTAssertEqual(Set(offer.transforms), Set(suite.transforms))
        XCTAssertEqual(rp.nonce?.count, 32)
        XCTAssertEqual(rp.ke?.dhGroup, suite.dhGroup.rawValue)
        XCTAssertNil(rp.tsi); XCTAssertNil(rp.notify(.REKEY_SA))
        let epdgNewSPI = offer.spi.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }

        h.route(started, fromUE: false)
        h.run(start: false)
        // §2.18/§3.1: the ePDG started the rekey, so it is the new SA's initiator: SPIi is its SPI.
        XCTAssertEqual(h.ue.spiI, epdgNewSPI)
        XCTAssertFalse(h.ue.isInitiator, "the phone is the new SA's responder")
        XCTAssertNotEqual(h.ue.spiR, oldI)
        XCTAssertEqual(h.epdg.count, 1, "the old SA is gone once its Delete was answered")
        XCTAssertNil(h.epdg.sa(spiR: oldR))
        let new = try XCTUnwrap(h.epdg.sa(spiR: epdgNewSPI), "filed under our SPI, which is now SPIi")
        XCTAssertTrue(new.isInitiator)
        XCTAssertEqual(new.localSPI, new.spiI)
        XCTAssertEqual(new.spiR, h.ue.spiR)
        XCTAssertEqual(new.keys, h.ue.keys)
        XCTAssertNotEqual(new.keys, oldKeys)
        XCTAssertEqual(new.children.map(\.inboundSPI), [child.inboundSPI], "the Child SA moved, unchanged")
        XCTAssertEqual(new.children.first?.ikeSPIi, epdgNewSPI)
        XCTAssertEqual(new.imsi, AttachHarness.imsi)
        XCTAssertEqual(h.pool.releases, 0, "the inner address stays")
        XCTAssertFalse((h.epdgActions + h.ueActions).contains { if case .deleteChildSA = $0 { true } else { false } })
        XCTAssertTrue(h.epdgActions.contains { if case let .ikeSARekeyed(i, r, info) = $0 { i == oldI && r == oldR && info.isInitiator } else { false } })
        XCTAssertTrue(h.ueActions.contains { if case let .ikeSARekeyed(i, _, info) = $0 { i == oldI && !info.isInitiator } else { false } })
        XCTAssertFalse(h.ueActions.contains { if case .ikeSADeleted = $0 { true } else { false } }, "the phone's session goes on")
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains { $0.contains("deleted by the peer after the rekey") })
        XCTAssertTrue(h.ue.retired.isEmpty)
        XCTAssertTrue(h.epdgActions.contains { if case let .ikeSADeleted(i, _, reason) = $0 { i == oldI && reason.contains("rekeyed") } else { false } })

        // DPD from the ePDG on the new SA: I flag set, message ID 0, sealed with SK_ei.
        h.ueActions = []; h.epdgActions = []
        let dpd = new.checkLiveness(now: h.now)
        let dpdBytes = try XCTUnwrap(AttachHarness.sends(dpd).first)
        let (dh, dp) = try open(dpdBytes, keys: try XCTUnwrap(new.keys), suite: suite, receiverIsInitiator: false)
        XCTAssertTrue(dh.isInitiator)
        XCTAssertEqual(dh.messageID, 0)
        XCTAssertEqual([dh.spiI, dh.spiR], [new.spiI, new.spiR])
        XCTAssertTrue(dp.isEmpty)
        h.route(dpd, fromUE: false)
        h.run(start: false)
        XCTAssertNil(new.pending, "the phone answered the DPD on the new SA")
        XCTAssertEqual(AttachHarness.sends(h.ueActions).count, 1)

        // A Child SA rekey from the phone over the new SA, then the phone's Delete of it.
        h.ueActions = []; h.epdgActions = []
        h.route(h.ue.rekeyChildSA(now: h.now), fromUE: true)
        h.run(start: false)
        let nw = try XCTUnwrap(AttachHarness.children(h.epdgActions).first, "\(AttachHarness.logs(h.epdgActions + h.ueActions))")
        let ue = try XCTUnwrap(AttachHarness.children(h.ueActions).first)
        XCTAssertEqual(nw.inboundEncryptionKey, ue.outboundEncryptionKey)
        XCTAssertEqual(nw.ikeSPIi, epdgNewSPI)
        XCTAssertEqual(new.children.count, 1)
        h.route(h.ue.delete(now: h.now), fromUE: true)
        h.run(start: false)
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.releases, 1)
    }

    func testMOBIKEAndTrafficLivenessAfterTheEPDGsRekey() throws {
        var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [IPAddress("198.51.100.1")!])])
        policy.ikeLifetime = 100
        let h = try AttachHarness(policy: policy)
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        cfg.authNotifies = [NotifyPayload(.INITIAL_CONTACT), NotifyPayload(.MOBIKE_SUPPORTED), NotifyPayload(.EAP_ONLY_AUTHENTICATION)]
        try h.makeUE(cfg)
        h.run()
        h.now += 90
        h.route(h.epdg.poll(now: h.now), fromUE: false)
        h.run(start: false)
        let sa = try XCTUnwrap(h.epdg.sa(spiR: h.ue.spiI))
        XCTAssertTrue(sa.isInitiator)
        XCTAssertTrue(sa.mobikeNegotiated, "MOBIKE carries over to the new SA")
        // The phone (now the SA's responder) moves: UPDATE_SA_ADDRESSES with a clear I flag.
        let newUE = IKEEndpoint(IPAddress(v4: 203, 0, 113, 99), 4500)
        let bytes = try XCTUnwrap(AttachHarness.sends(h.ue.updateAddresses(newLocal: newUE, now: h.now)).first)
        XCTAssertFalse(try IKEMessage(parsing: bytes).header.isInitiator)
        let resp = h.epdg.handle(datagram: bytes, from: newUE, to: h.epdgEnd, now: h.now + 1)
        XCTAssertTrue(resp.contains { if case let .peerAddressChanged(i, _, remote, _) = $0 { i == sa.spiI && remote == newUE } else { false } }, "\(resp)")
        XCTAssertEqual(sa.remote, newUE)
        // ESP seen on the SA (by our SPI, now SPIi) postpones DPD.
        let quiet = sa.lastActivity
        h.epdg.noteTraffic(spiR: sa.localSPI, now: quiet + 250)
        XCTAssertEqual(sa.lastActivity, quiet + 250)
    }

    func testRekeyedTwiceAlternatingRoles() throws {
        // ePDG rekeys (it becomes initiator), then the phone rekeys (it is initiator again).
        let h = try attached()
        h.now += 90
        h.route(h.epdg.poll(now: h.now), fromUE: false)
        h.run(start: false)
        XCTAssertFalse(h.ue.isInitiator)
        h.route(h.ue.rekeyIKESA(now: h.now), fromUE: true)
        h.run(start: false)
        XCTAssertTrue(h.ue.isInitiator)
        XCTAssertEqual(h.epdg.count, 1)
        let sa = try XCTUnwrap(h.epdg.sa(spiR: h.ue.spiR))
        XCTAssertFalse(sa.isInitiator)
        XCTAssertEqual(sa.keys, h.ue.keys)
        XCTAssertEqual(sa.children.count, 1)
        // And the ePDG's lifetime restarted with the new SA: its next rekey is 90 s after this one.
        XCTAssertEqual(try XCTUnwrap(h.epdg.nextWakeup), try XCTUnwrap(sa.establishedAt) + 90, accuracy: 0.001)
    }

    /// Answers the ePDG's pending rekey request (sent on the old SA) with `notify`, as the phone would.
    func refuse(_ h: AttachHarness, request: [UInt8], with notify: NotifyPayload) throws -> [IKEAction] {
        let keys = try XCTUnwrap(h.ue.keys), suite = try XCTUnwrap(h.ue.suite)
        let rq = try IKEMessage(parsing: request).header
        let header = IKEHeader(spiI: rq.spiI, spiR: rq.spiR, exchangeType: .CREATE_CHILD_SA, isInitiator: true, isResponse: true, messageID: rq.messageID)
        let bytes = try SKProtection(suite: suite, keys: keys, isInitiator: true).protect(header: header, payloads: [.notify(notify)])
        return h.epdg.handle(datagram: bytes, from: h.ueEnd, to: h.epdgEnd, now: h.now)
    }

    func testRefusalsOfTheEPDGsRekey() throws {
        // TEMPORARY_FAILURE: asked again after a pause (5% of ike_duration, at least 1 s).
        var h = try attached()
        h.now += 90
        var req = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        var out = try refuse(h, request: req, with: NotifyPayload(.TEMPORARY_FAILURE))
        XCTAssertTrue(AttachHarness.logs(out).contains { $0.contains("TEMPORARY_FAILURE, retrying in 5 s") }, "\(AttachHarness.logs(out))")
        XCTAssertEqual(try XCTUnwrap(h.epdg.nextWakeup), h.now + 5, accuracy: 0.001)
        h.now += 5
        let again = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        XCTAssertEqual(try IKEMessage(parsing: again).header.exchangeType, .CREATE_CHILD_SA)
        XCTAssertEqual(h.epdg.count, 1)

        // INVALID_KE_PAYLOAD naming ecp256: the same request with a KE of group 19.
        h = try attached()
        h.now += 90
        req = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        out = try refuse(h, request: req, with: NotifyPayload(.INVALID_KE_PAYLOAD, data: [0, 19]))
        let retry = try XCTUnwrap(AttachHarness.sends(out).first, "\(AttachHarness.logs(out))")
        let (_, rp) = try open(retry, keys: try XCTUnwrap(h.ue.keys), suite: try XCTUnwrap(h.ue.suite), receiverIsInitiator: true)
        XCTAssertEqual(rp.ke?.dhGroup, 19)
        XCTAssertTrue(try XCTUnwrap(rp.sa?.proposals.first).transforms(.DH).map(\.id) == [19])

        // NO_PROPOSAL_CHOSEN: a log line, the IKE SA deleted (the phone re-attaches), its address released.
        h = try attached()
        h.now += 90
        req = try XCTUnwrap(AttachHarness.sends(h.epdg.poll(now: h.now)).first)
        out = try refuse(h, request: req, with: NotifyPayload(.NO_PROPOSAL_CHOSEN))
        XCTAssertTrue(AttachHarness.logs(out).contains { $0.contains("IKE SA rekey refused with NO_PROPOSAL_CHOSEN: deleting the IKE SA") })
        let del = try XCTUnwrap(AttachHarness.sends(out).first)
        let (_, dp) = try open(del, keys: try XCTUnwrap(h.ue.keys), suite: try XCTUnwrap(h.ue.suite), receiverIsInitiator: true)
        XCTAssertEqual(dp.deletes.first?.protocolID, .IKE)
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertEqual(h.pool.releases, 1)
    }

    func testNoAnswerToTheRekeyEndsTheSAAtIKEDuration() throws {
        // The phone never answers: retransmissions, then the SA ends (no rekey, no hang).
        let h = try attached(ikeLifetime: 20)
        h.now += 18
        XCTAssertFalse(AttachHarness.sends(h.epdg.poll(now: h.now)).isEmpty)
        var sent = 0
        for _ in 0..<200 where h.epdg.count > 0 {
            h.now = max(h.now + 0.5, h.epdg.nextWakeup ?? h.now)
            let a = h.epdg.poll(now: h.now)
            sent += AttachHarness.sends(a).count
            h.epdgActions += a
        }
        XCTAssertEqual(h.epdg.count, 0)
        XCTAssertGreaterThan(sent, 0, "the request was retransmitted or a Delete sent")
        XCTAssertEqual(h.pool.releases, 1)
    }

    func testSimultaneousRekeyLowestNonceLosesOnBothSides() throws {
        var outcomes: Set<Bool> = []
        for _ in 0..<16 {
            let h = try attached()
            let child = try XCTUnwrap(h.epdg.allSAs.first?.children.first)
            h.now += 90
            // Both requests are on the wire before either arrives.
            h.route(h.epdg.poll(now: h.now), fromUE: false)
            h.route(h.ue.rekeyIKESA(now: h.now), fromUE: true)
            h.run(start: false)
            let logs = AttachHarness.logs(h.epdgActions + h.ueActions)
            XCTAssertEqual(logs.filter { $0.contains("simultaneous IKE SA rekey") }.count, 2, "\(logs)")
            let epdgWon = AttachHarness.logs(h.epdgActions).contains { $0.contains("collision won") }
            let ueWon = AttachHarness.logs(h.ueActions).contains { $0.contains("collision won") }
            XCTAssertNotEqual(epdgWon, ueWon, "exactly one side wins: \(logs)")
            XCTAssertEqual(AttachHarness.logs(h.epdgActions).contains { $0.contains("collision lost") }, ueWon)
            outcomes.insert(epdgWon)
            // One IKE SA is left on the ePDG, the phone's current one, with the session.
            XCTAssertEqual(h.epdg.count, 1, "\(logs)")
            let sa = try XCTUnwrap(h.epdg.sa(spiI: h.ue.spiI, spiR: h.ue.spiR))
            XCTAssertEqual(sa.keys, h.ue.keys)
            XCTAssertEqual(sa.isInitiator, epdgWon, "the winner's SA has the winner as initiator")
            XCTAssertEqual(sa.children.map(\.inboundSPI), [child.inboundSPI])
            XCTAssertTrue(h.ue.retired.isEmpty, "the phone saw the Deletes of the old and the redundant SA")
            XCTAssertEqual(h.pool.releases, 0)
            XCTAssertEqual(h.ue.state, .established)
            // It works: DPD from the ePDG answered.
            h.route(sa.checkLiveness(now: h.now), fromUE: false)
            h.run(start: false)
            XCTAssertNil(sa.pending)
        }
        XCTAssertEqual(outcomes, [true, false], "16 runs saw both winners")
    }

    func testCollisionSeenOnlyByTheEPDG() throws {
        // The phone's rekey completes before the ePDG's request reaches it: the phone answers
        // that request on the old SA with TEMPORARY_FAILURE; the ePDG keeps the phone's SA.
        let h = try attached()
        h.now += 90
        let epdgRequest = h.epdg.poll(now: h.now)
        h.route(h.ue.rekeyIKESA(now: h.now), fromUE: true)
        let toEPDG = h.packetsToEPDG; h.packetsToEPDG = []
        for m in toEPDG { h.route(h.epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: false) }
        // The ePDG's answer reaches the phone, which switches and sends the Delete of the old SA (held back).
        let toUE = h.packetsToUE; h.packetsToUE = []
        for m in toUE { h.route(h.ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: true) }
        let heldDelete = h.packetsToEPDG; h.packetsToEPDG = []
        XCTAssertTrue(h.ue.isInitiator)
        // Now the ePDG's request arrives on the (retired) old SA.
        h.route(epdgRequest, fromUE: false)
        let late = h.packetsToUE; h.packetsToUE = []
        for m in late { h.route(h.ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: h.now), fromUE: true) }
        XCTAssertTrue(AttachHarness.logs(h.ueActions).contains { $0.contains("TEMPORARY_FAILURE") })
        h.packetsToEPDG += heldDelete
        h.toEPDG = [[0]]
        h.run(start: false)
        XCTAssertTrue(AttachHarness.logs(h.epdgActions).contains { $0.contains("after the peer's own rekey: keeping the peer's") }, "\(AttachHarness.logs(h.epdgActions))")
        XCTAssertEqual(h.epdg.count, 1)
        let sa = try XCTUnwrap(h.epdg.sa(spiI: h.ue.spiI, spiR: h.ue.spiR))
        XCTAssertEqual(sa.keys, h.ue.keys)
        XCTAssertEqual(sa.children.count, 1)
        XCTAssertEqual(h.pool.releases, 0)
    }
}
