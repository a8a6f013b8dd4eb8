import AKA
import Foundation
import IKEv2
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// The ePDG sharded over 4 loops: attaches land on several shards (by their SPIs), each
/// shard owns its SAs, and every attach completes with its Child SA.
final class ShardingTests: XCTestCase {
    func testAttachesSpreadOverShards() throws {
        let dir = NSTemporaryDirectory() + "vowifi-shard-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = CoreOptions(mmeConfigPath: Vectors.repoRoot.appendingPathComponent("config/mme-ims.cfg").path,
                            imsConfigPath: Vectors.repoRoot.appendingPathComponent("config/ims.cfg").path, innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0; o.sipSocketAddresses = []
        o.sqnDatabase = dir + "/sqn.sqlite"; o.logFile = dir + "/core.log"; o.loops = 4
        let core = try VoWiFiCore(options: o)
        try core.start()
        defer { core.stop() }
        let cluster = try XCTUnwrap(core.cluster)
        XCTAssertEqual(cluster.shards.count, 4)
        let (ike, natt) = (cluster.ikeAddress, cluster.natTAddress)
        let attaches = 12
        var spis: [UInt64] = []
        for n in 0..<attaches {
            let attach = try LoopbackAttach.run(ikePort: ike.port, natTPort: natt.port, forceUDPEncapsulation: true)
            let (ue, child) = (attach.ue, attach.child)
            let c = try XCTUnwrap(child, "attach \(n) failed: \(ue.state)")
            spis.append(c.ikeSPIr)
            // Our SPIs (IKE SPIr and the inbound ESP SPI) hash to the shard holding the SA.
            XCTAssertEqual(cluster.group.shard(for: c.ikeSPIr), cluster.group.shard(for: UInt64(c.outboundSPI)))
        }
        var perShard: [Int] = []
        for (i, s) in cluster.shards.enumerated() {
            perShard.append(try cluster.group.loops[i].submit { s.responder.count })
        }
        // The attaches landed on several shards...
        XCTAssertGreaterThanOrEqual(Set(spis.map { cluster.group.shard(for: $0) }).count, 2, "all attaches on one shard")
        // ...and INITIAL_CONTACT (sent by every attach) is subscriber-wide: only the last SA
        // of the IMSI remains, whichever shard the older ones were on.
        usleep(100_000)
        perShard = []
        for (i, s) in cluster.shards.enumerated() { perShard.append(try cluster.group.loops[i].submit { s.responder.count }) }
        XCTAssertEqual(perShard.reduce(0, +), 1, "\(perShard)")
        let last = try XCTUnwrap(spis.last)
        XCTAssertEqual(perShard[cluster.group.shard(for: last)], 1)
        for (i, s) in cluster.shards.enumerated() {
            let owned = try cluster.group.loops[i].submit { s.responder.allSAs.map(\.spiR) }
            for spi in owned { XCTAssertEqual(cluster.group.shard(for: spi), i) }
        }
    }
}
