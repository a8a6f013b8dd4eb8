import Config
import IMS
import SIP
import TestSupport
import XCTest
@testable import Runtime

/// ims.cfg → the IMS core's settings: each `sip_addr`'s media range, the TCP keys, and the
/// per-shard slices of every range.
final class IMSConfigMappingTests: XCTestCase {
    func testSIPAddrRangesAndTCPKeysAreMappedAndSlicedPerShard() throws {
        let mme = try MMEConfig.load(path: Vectors.repoRoot.appendingPathComponent("config/mme-ims.cfg").path).config
        let text = """
        sip_addr: [ { addr: "198.51.100.1", port_min: 20000, port_max: 24000 },
                    { addr: "[2001:db8::1]", port_min: 30000, port_max: 30400 },
                    "198.51.100.2:5070" ],
        tcp_keepalive: 60, tcp_keepcount: 4, tcp_idle_timeout: 120,
        """
        let ims = try Config.IMSConfig.decode(ConfigDocument.parse(text: text, file: "ims.cfg"), path: "ims.cfg").config
        let c = IMSConfigMapping.make(ims, mme: mme)
        XCTAssertEqual(c.sipAddresses, ["198.51.100.1", "2001:db8::1", "198.51.100.2"])
        XCTAssertEqual(c.mediaPortRanges, ["198.51.100.1": 20000...24000, "2001:db8::1": 30000...30400, "198.51.100.2": 10000...20000])
        XCTAssertEqual(c.mediaPortRange(for: "2001:db8::1"), 30000...30400)
        XCTAssertEqual(c.sipPorts, ["198.51.100.1": 5060, "2001:db8::1": 5060, "198.51.100.2": 5070])
        XCTAssertEqual(c.sipPort, 5060)
        XCTAssertEqual(c.localHostPort(for: SIPPeer(address: "198.51.100.9", port: 5060, transport: .udp)), "198.51.100.1:5060")
        var second = c
        second.sipAddresses = ["198.51.100.2", "2001:db8::1"]
        XCTAssertEqual(second.localHostPort(for: SIPPeer(address: "198.51.100.9", port: 5060, transport: .udp)), "198.51.100.2:5070")
        XCTAssertEqual([c.mediaPortMin, c.mediaPortMax], [20000, 24000], "the first entry's range is the default")
        XCTAssertEqual([c.tcpKeepalive, c.tcpKeepcount], [60, 4])
        XCTAssertEqual(c.tcpIdleTimeout, 120)

        // Two shards: each gets its own half of every range, none overlapping.
        let a = IMSCluster.shardConfig(c, shard: 0, of: 2), b = IMSCluster.shardConfig(c, shard: 1, of: 2)
        XCTAssertEqual(a.mediaPortRange(for: "198.51.100.1"), 20000...22000)
        XCTAssertEqual(b.mediaPortRange(for: "198.51.100.1"), 22000...24000)
        XCTAssertEqual(a.mediaPortRange(for: "2001:db8::1"), 30000...30200)
        XCTAssertEqual(b.mediaPortRange(for: "2001:db8::1"), 30200...30400)
        XCTAssertEqual(IMSCluster.shardConfig(c, shard: 0, of: 1).mediaPortRanges, c.mediaPortRanges)
    }
}
