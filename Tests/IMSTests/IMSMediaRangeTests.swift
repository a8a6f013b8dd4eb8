import XCTest
import AKA
import SIP
@testable import IMS

/// Each `sip_addr` has its own echo media range: a call takes its port (and its media
/// address) from the address it arrived on.
final class IMSMediaRangeTests: XCTestCase {
    let pcscfB = "2001:db8:3000:2::1"

    func makeCore() -> IMSCore {
        let (_, subs) = makeIMS()
        var c = IMSConfig(domain: domain, sipAddresses: [pcscf6, pcscfB], mediaPortMin: 30000, mediaPortMax: 30100,
                          precondition: .off, timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
        c.mediaPortRanges = [pcscf6: 30000...30100, pcscfB: 40000...40010]
        return IMSCore(config: c, subscribers: subs)
    }

    func echoMedia(_ ims: IMSCore, _ ue: TestUE, callID: String, to local: String?) throws -> IMSMediaSession {
        let acts = ims.receive(datagram: request(ue, "INVITE", uri: "tel:666", callID: callID, cseq: 1, branch: "z9hG4bK\(callID)",
                                                 extra: ["Supported: timer"], sdp: offerSDP(ue, local: "sendrecv")),
                               from: ue.peer, to: local, now: 1)
        let media = acts.compactMap { if case .openMedia(let m) = $0 { return m }; return nil }
        XCTAssertEqual(sent(acts).last?.0.statusCode, 200)
        let m = try XCTUnwrap(media.first)
        // The answer names the same address and port.
        let answer = String(decoding: try XCTUnwrap(sent(acts).last).0.body, as: UTF8.self)
        XCTAssertTrue(answer.contains("m=audio \(m.localRTPPort) "), answer)
        XCTAssertTrue(answer.contains("c=IN IP6 \(m.localAddress)"), answer)
        return m
    }

    func testEchoMediaFromTheRangeOfTheAddressTheCallArrivedOn() throws {
        let ims = makeCore()
        let ue = TestUE(imsi: "001010000000001", address: "2001:db8:3000:1::2", usim: try USIM(algorithm: milenage()))
        try registerUE(ims, ue)
        let a1 = try echoMedia(ims, ue, callID: "a1", to: pcscf6)
        let b1 = try echoMedia(ims, ue, callID: "b1", to: pcscfB)
        let b2 = try echoMedia(ims, ue, callID: "b2", to: pcscfB)
        let a2 = try echoMedia(ims, ue, callID: "a2", to: pcscf6)
        XCTAssertEqual([a1.localRTPPort, a2.localRTPPort], [30000, 30002])
        XCTAssertEqual([b1.localRTPPort, b2.localRTPPort], [40000, 40002])
        XCTAssertEqual([a1.localAddress, b1.localAddress], [pcscf6, pcscfB])
        // Not said (or of the other family): the first address of the peer's family, its range.
        let x = try echoMedia(ims, ue, callID: "x", to: nil)
        XCTAssertEqual(x.localAddress, pcscf6)
        XCTAssertEqual(x.localRTPPort, 30004)
        let v4 = try echoMedia(ims, ue, callID: "v4", to: "198.51.100.1")
        XCTAssertEqual(v4.localAddress, pcscf6)
    }

    /// The small range B (40000...40010, 5 RTP/RTCP pairs) runs out on its own: 503, while
    /// range A still serves.
    func testARangeRunsOutAlone() throws {
        let ims = makeCore()
        let ue = TestUE(imsi: "001010000000001", address: "2001:db8:3000:1::2", usim: try USIM(algorithm: milenage()))
        try registerUE(ims, ue)
        var ports: [UInt16] = []
        for i in 0..<5 { ports.append(try echoMedia(ims, ue, callID: "b\(i)", to: pcscfB).localRTPPort) }
        XCTAssertEqual(ports, [40000, 40002, 40004, 40006, 40008])
        let full = sent(ims.receive(datagram: request(ue, "INVITE", uri: "tel:666", callID: "b5", cseq: 1, branch: "z9hG4bKb5",
                                                      extra: ["Supported: timer"], sdp: offerSDP(ue, local: "sendrecv")),
                                    from: ue.peer, to: pcscfB, now: 1))
        XCTAssertEqual(full.last?.0.statusCode, 503)
        XCTAssertEqual(try echoMedia(ims, ue, callID: "a0", to: pcscf6).localRTPPort, 30000)
    }
}
