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
            let sock = try LoopbackUDP()
            let ueEnd = IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), sock.port)
            var cfg = IKEInitiatorConfig(imsi: "001010000000001", mcc: "001", mnc: "01")
            cfg.natTraversalPort = natt.port
            cfg.forceUDPEncapsulation = true
            let usim = try USIM(algorithm: .milenage(try Milenage(k: [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc"),
                                                                   opc: [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf"))),
                                lastSQN: try SQN(seq: UInt64(n) * 0, ind: 0))
            let ue = IKEInitiator(config: cfg, usim: usim, local: ueEnd, remote: IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), ike.port), now: 0)
            var child: ChildSADescription?
            func perform(_ actions: [IKEAction]) {
                for a in actions {
                    switch a {
                    case let .send(bytes, _, to): sock.send(to.port == natt.port ? [0, 0, 0, 0] + bytes : bytes, port: to.port)
                    case let .installChildSA(d): child = d
                    default: break
                    }
                }
            }
            perform(ue.start(now: 0))
            let deadline = Date().addingTimeInterval(10)
            while child == nil, Date() < deadline {
                guard let (d, from) = sock.receive(timeout: 0.5) else { continue }
                let msg = from == natt.port ? Array(d.dropFirst(4)) : d
                perform(ue.handle(datagram: msg, from: IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), from), to: ueEnd, now: 1))
            }
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
