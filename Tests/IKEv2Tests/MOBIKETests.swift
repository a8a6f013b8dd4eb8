import Wire
import XCTest
@testable import IKEv2

/// MOBIKE (RFC 4555): negotiated in IKE_AUTH; UPDATE_SA_ADDRESSES from the phone's new
/// address moves the IKE SA and tells the host to send the ESP there; without MOBIKE the
/// update is refused as an unknown request would be, and a NAT rebinding still moves it.
final class MOBIKETests: XCTestCase {
    func attach(mobike: Bool, epdgMobike: Bool = true) throws -> AttachHarness {
        var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [IPAddress("198.51.100.1")!])])
        policy.mobike = epdgMobike
        let h = try AttachHarness(policy: policy)
        var cfg = IKEInitiatorConfig(imsi: AttachHarness.imsi, mcc: "001", mnc: "01")
        if mobike { cfg.authNotifies = [NotifyPayload(.INITIAL_CONTACT), NotifyPayload(.MOBIKE_SUPPORTED), NotifyPayload(.EAP_ONLY_AUTHENTICATION)] }
        try h.makeUE(cfg)
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        return h
    }

    func testUpdateSAAddressesMovesTheSAAndItsESP() throws {
        let h = try attach(mobike: true)
        XCTAssertTrue(h.ue.mobikeNegotiated)
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        XCTAssertTrue(sa.mobikeNegotiated)
        let newUE = IKEEndpoint(IPAddress(v4: 203, 0, 113, 99), 4500)
        let req = h.ue.updateAddresses(newLocal: newUE, now: h.now)
        let bytes = try XCTUnwrap(AttachHarness.sends(req).first)
        h.epdgActions = []
        let resp = h.epdg.handle(datagram: bytes, from: newUE, to: h.epdgEnd, now: h.now + 1)
        XCTAssertTrue(resp.contains { if case let .peerAddressChanged(_, _, remote, _) = $0 { remote == newUE } else { false } }, "\(resp)")
        // The answer goes to the new address and carries NAT detection and the COOKIE2 echo.
        guard case let .send(answer, _, to)? = resp.first(where: { if case .send = $0 { true } else { false } }) else { return XCTFail("no answer") }
        XCTAssertEqual(to, newUE)
        _ = h.ue.handle(datagram: answer, from: h.epdgEnd, to: newUE, now: h.now + 1)
        XCTAssertEqual(h.ue.state, .established)
        XCTAssertEqual(sa.remote, newUE)
    }

    func testNoMOBIKEWhenTheEPDGTurnsItOff() throws {
        let h = try attach(mobike: true, epdgMobike: false)
        XCTAssertFalse(h.ue.mobikeNegotiated)
        XCTAssertTrue(h.ue.updateAddresses(newLocal: IKEEndpoint(IPAddress(v4: 203, 0, 113, 99), 4500), now: h.now).isEmpty)
    }

    /// A NAT rebinding (same SA, new source port) proven by a protected message also moves
    /// the ESP (RFC 7296 §2.23), MOBIKE or not.
    func testNATRebindingMovesTheSA() throws {
        let h = try attach(mobike: false)
        let rebound = IKEEndpoint(h.ueEnd.address, 40999)
        let dpd = h.ue.checkLiveness(now: h.now)
        let bytes = try XCTUnwrap(AttachHarness.sends(dpd).first)
        let resp = h.epdg.handle(datagram: bytes, from: rebound, to: h.epdgEnd, now: h.now + 1)
        XCTAssertTrue(resp.contains { if case let .peerAddressChanged(_, _, remote, _) = $0 { remote == rebound } else { false } }, "\(resp)")
    }
}

/// ESP traffic counts as liveness: no DPD while the phone's packets arrive (RFC 7296 §2.4).
final class DPDTrafficTests: XCTestCase {
    func testNoDPDWhileESPFlowsThenDPDWhenQuiet() throws {
        var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", pcscfAddresses: [IPAddress("198.51.100.1")!])])
        policy.dpdInterval = 10
        policy.espLifetime = 0
        let h = try AttachHarness(policy: policy)
        try h.makeUE()
        h.run()
        let sa = try XCTUnwrap(h.epdg.allSAs.first)
        let t0 = h.now
        func dpdSent(_ a: [IKEAction]) -> Bool { !AttachHarness.sends(a).isEmpty }
        h.epdg.noteTraffic(spiR: sa.spiR, now: t0 + 8)
        XCTAssertFalse(dpdSent(h.epdg.poll(now: t0 + 11)), "DPD although ESP arrived 3 s ago")
        XCTAssertTrue(dpdSent(h.epdg.poll(now: t0 + 19)), "no DPD after 11 s of silence")
    }
}
