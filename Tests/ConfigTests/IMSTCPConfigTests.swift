import XCTest
@testable import Config

/// ims.cfg `tcp_keepalive`, `tcp_keepcount`, `tcp_idle_timeout`, and `sip_addr` entries with
/// their own ports and media ranges (one entry per address).
final class IMSTCPConfigTests: XCTestCase {
    private func ims(_ text: String) throws -> IMSConfig {
        try IMSConfig.decode(ConfigDocument.parse(text: text, file: "ims.cfg"), path: "ims.cfg").config
    }

    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do { _ = try ims(text); XCTFail("expected an error", file: file, line: line) } catch let e as ConfigError { return e } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    func testTCPKeysDefaultsAndValues() throws {
        let d = try ims(#"sip_addr: "192.0.2.1""#)
        XCTAssertEqual([d.tcpKeepalive, d.tcpKeepcount, d.tcpIdleTimeout], [900, 2, 1800])
        let c = try ims(#"sip_addr: "192.0.2.1", tcp_keepalive: 30, tcp_keepcount: 5, tcp_idle_timeout: 0"#)
        XCTAssertEqual([c.tcpKeepalive, c.tcpKeepcount, c.tcpIdleTimeout], [30, 5, 0])
    }

    func testTCPKeyRangesWithFileLine() {
        let e = error("sip_addr: \"192.0.2.1\",\ntcp_keepcount: 0,\n")
        XCTAssertEqual(e?.kind, .range)
        XCTAssertEqual(e?.location?.line, 2)
        XCTAssertTrue(e?.description.hasPrefix("ims.cfg:2:") ?? false, e?.description ?? "")
        XCTAssertEqual(error(#"sip_addr: "192.0.2.1", tcp_keepalive: 40000"#)?.kind, .range)
        XCTAssertEqual(error(#"sip_addr: "192.0.2.1", tcp_keepalive: -1"#)?.kind, .range)
        XCTAssertEqual(error(#"sip_addr: "192.0.2.1", tcp_idle_timeout: 864001"#)?.kind, .range)
        XCTAssertEqual(error(#"sip_addr: "192.0.2.1", tcp_keepcount: "two""#)?.kind, .type)
    }

    /// Each entry keeps its own media range.
    func testSIPAddrMediaRangesPerEntry() throws {
        let c = try ims(#"""
        sip_addr: [ { addr: "198.51.100.1", port_min: 30000, port_max: 30100 },
                    { addr: "198.51.100.2:5060", port_min: 40000, port_max: 40100 } ]
        """#)
        XCTAssertEqual(c.sipAddr.map(\.portMin), [30000, 40000])
        XCTAssertEqual(c.sipAddr.map(\.portMax), [30100, 40100])
    }

    /// Each entry has its own SIP port; one address twice (even with two ports) is an error at
    /// the second entry, naming the first and where it is.
    func testSIPAddrOwnPortsAndOneEntryPerAddress() throws {
        let c = try ims(#"sip_addr: ["198.51.100.1", "198.51.100.2:5070", { addr: "[2001:db8::1]:5080" }]"#)
        XCTAssertEqual(c.sipAddr.map(\.addr.port), [5060, 5070, 5080])
        XCTAssertEqual(c.sipAddr.map(\.bindAddr.port), [5060, 5070, 5080], "bound on its own port")
        let e = error("sip_addr: [\n  { addr: \"198.51.100.1:5060\" },\n  \"198.51.100.1:5070\",\n]\n")
        XCTAssertEqual(e?.kind, .invalidValue)
        XCTAssertEqual(e?.location?.line, 3)
        XCTAssertEqual(e?.message, "sip_addr[1]: address 198.51.100.1 is already sip_addr[0] (ims.cfg:2:3): one sip_addr entry per address")
        XCTAssertNotNil(error(#"sip_addr: ["2001:db8::1", "[2001:DB8:0::1]:5062"]"#), "the same IPv6 address spelled otherwise")
    }
}
