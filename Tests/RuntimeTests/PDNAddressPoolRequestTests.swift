import XCTest
import Config
import IKEv2
import Wire
@testable import Runtime

/// A phone's requested INTERNAL_IP4_ADDRESS (RFC 7296 §3.15.1) is given when free in the pool.
final class PDNAddressPoolRequestTests: XCTestCase {
    func testRequestedIPv4AddressWhenFreeElseNext() throws {
        var pdn = PDNConfig(accessPointName: "ims")
        pdn.firstIPAddr = ConfigIPAddress("198.51.100.10")
        pdn.lastIPAddr = ConfigIPAddress("198.51.100.20")
        let pool = PDNAddressPool(pdns: [pdn])
        let want = IPAddress("198.51.100.15")!
        let a = try pool.allocate(imsi: "1", apn: "ims", wantIPv4: true, wantIPv6: false, requestedIPv4: want)
        XCTAssertEqual(a.ipv4, want)
        let b = try pool.allocate(imsi: "2", apn: "ims", wantIPv4: true, wantIPv6: false, requestedIPv4: want)
        XCTAssertEqual(b.ipv4, IPAddress("198.51.100.10"), "taken: the next free one")
        let c = try pool.allocate(imsi: "3", apn: "ims", wantIPv4: true, wantIPv6: false, requestedIPv4: IPAddress("203.0.113.9"))
        XCTAssertEqual(c.ipv4, IPAddress("198.51.100.11"), "outside the pool: the next free one")
        pool.release(a, imsi: "1", apn: "ims")
        XCTAssertEqual(try pool.allocate(imsi: "4", apn: "ims", wantIPv4: true, wantIPv6: false, requestedIPv4: want).ipv4, want)
        XCTAssertEqual(pool.inUse, 3)
    }
}
