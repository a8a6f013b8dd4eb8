import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// What `vowifi bench ike` counts on: one responder completes back-to-back attaches from
/// different subscribers with MODP-2048 and ECP-256, each in exactly 4 request/response
/// pairs and ending in a Child SA on both sides, and every response carries the initiator's
/// SPI first (the UDP benchmark demultiplexes its initiators by it).
final class IKEBenchTests: XCTestCase {
    static func imsi(_ i: Int) -> String { "00101000000\(1000 + i)" }

    func testBackToBackAttachesWithBothGroups() throws {
        for group in [DHGroup.modp2048, .ecp256] {
            let h = try AttachHarness()
            let n = 6
            for i in 0..<n { try h.hss.add(imsi: Self.imsi(i), k: AttachHarness.k, opc: AttachHarness.opc, seq: 10) }
            for i in 0..<n {
                var cfg = IKEInitiatorConfig(imsi: Self.imsi(i), mcc: "001", mnc: "01")
                cfg.ikeSuites = [IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128,
                                          prf: .PRF_HMAC_SHA2_256, dhGroup: group)]
                h.ueActions = []
                h.epdgActions = []
                try h.makeUE(cfg)
                h.run()
                XCTAssertEqual(h.ue.state, .established, "\(group) attach \(i): \(AttachHarness.logs(h.ueActions + h.epdgActions))")
                XCTAssertEqual(h.ue.suite?.dhGroup, group)
                let requests = AttachHarness.sends(h.ueActions), responses = AttachHarness.sends(h.epdgActions)
                XCTAssertEqual(requests.count, 4, "INIT, AUTH(ids), AUTH(EAP), AUTH(AUTH)")
                XCTAssertEqual(responses.count, 4)
                let ke = try XCTUnwrap(IKEMessage(parsing: requests[0]).payloads.ke)
                XCTAssertEqual(ke.dhGroup, group.rawValue)
                XCTAssertEqual(ke.keyData.count, group.publicValueLength)
                let spiI = h.ue.spiI
                for r in responses {
                    XCTAssertEqual(r.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, spiI)
                }
                XCTAssertEqual(AttachHarness.children(h.epdgActions).count, 1)
                XCTAssertNotNil(h.ue.childSA)
                XCTAssertEqual(AttachHarness.children(h.epdgActions).first?.imsi, Self.imsi(i))
            }
            XCTAssertEqual(h.epdg.count, n, "\(group): every IKE SA is kept")
            XCTAssertEqual(h.hss.vectorsIssued, n)
            XCTAssertEqual(h.pool.inUse, n)
        }
    }
}
