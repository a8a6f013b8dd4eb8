import Foundation
import IMS
import XCTest
@testable import Runtime

/// The IMS sharded over two event loops, driven by SIPp and a plain UDP socket on 127.0.0.1:
/// echo calls whose Call-IDs land on each shard (RTP echoed by that shard's media sockets),
/// and a reg-event subscription on one shard notified of a registration made on the other.
final class ShardingInteropTests: XCTestCase {
    var ims: LoopbackIMS!

    override func setUpWithError() throws {
        try SIPpRun.requireSIPp()
        ims = try LoopbackIMS(loops: 2)
    }

    override func tearDown() { ims?.stop() }

    func assertPassed(_ r: SIPpRun, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 0, "\(what)\n\(r.summary)\n--- core log:\n\(ims.log.suffix(4000))", file: file, line: line)
    }

    /// A Call-ID the cluster dispatches to `shard`.
    func callID(onShard shard: Int, _ tag: String) throws -> String {
        let group = try ims.cluster.group
        for n in 0..<1000 {
            let cid = "\(tag)-\(n)@127.0.0.1"
            if group.shard(for: IMSCluster.callIDKey(cid)) == shard { return cid }
        }
        throw XCTSkip("no Call-ID for shard \(shard)")
    }

    func testCallIDKeyFindsEverySpellingAndMatchesTheStringKey() {
        let k = IMSCluster.callIDKey("abc@h")
        for head in ["Call-ID: abc@h", "call-id:abc@h  ", "CALL-ID\t:\t abc@h", "i: abc@h"] {
            let m = Array("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-Info: <x>\r\nIf-Match: y\r\n\(head)\r\nCSeq: 1 OPTIONS\r\n\r\n".utf8)
            XCTAssertEqual(m.withUnsafeBytes { IMSCluster.callIDKey($0) }, k, head)
        }
        let none = Array("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nCall-ID: in-the-body\r\n".utf8)
        XCTAssertEqual(none.withUnsafeBytes { IMSCluster.callIDKey($0) }, 0, "only the header section counts")
        XCTAssertNotEqual(IMSCluster.callIDKey("abc@h2"), k)
    }

    /// An MD5 REGISTER and a call to the echo number with one Call-ID per shard: each dialog
    /// lives on its shard, which binds the media port and echoes RTP byte for byte.
    func testEchoCallsOnEachShardEchoRTP() throws {
        let cluster = try ims.cluster
        for shard in 0..<2 {
            let cid = try callID(onShard: shard, "echo")
            let rtp = try RTPSocket()
            let sipp = try SIPpRun.start("md5_call.xml", port: ims.port, keys: ["domain": LoopbackIMS.domain, "user": "user1", "callee": "tel:666"],
                                         extra: ["-au", "user1", "-ap", "secret", "-d", "2000", "-cid_str", cid])
            var found: (shard: Int, port: UInt16)? = nil
            let until = Date().addingTimeInterval(15)
            while found == nil, Date() < until, sipp.process.isRunning {
                let perShard = try cluster.onEveryShard { $0.core.dialogs.filter { $0.callID == cid && $0.state == .start } }
                if let i = perShard.firstIndex(where: { !$0.isEmpty }), let m = perShard[i][0].media { found = (i, m.localRTPPort) }
                else { usleep(20_000) }
            }
            guard let (owner, port) = found else {
                XCTFail("no confirmed echo dialog \(cid)\n\(sipp.wait(timeout: 5).summary)\n\(ims.log.suffix(3000))")
                continue
            }
            XCTAssertEqual(owner, shard, "the dialog lives on the shard of its Call-ID")
            var echoed = 0
            for seq in UInt16(1)...10 {
                let p = RTPSocket.packet(seq: seq)
                rtp.send(p, port: port)
                if let (back, from) = rtp.receive(timeout: 1), back == p, from == port { echoed += 1 }
            }
            XCTAssertEqual(echoed, 10, "RTP echoed on shard \(shard)")
            assertPassed(sipp.wait(timeout: 20), "MD5 echo call on shard \(shard)")
        }
        XCTAssertTrue(ims.dialogs.isEmpty, "\(ims.dialogs)")
        // Registrations are shared: user1 registered twice (once per shard), one binding.
        XCTAssertEqual(ims.registeredIMPIs, ["user1"])
    }

    /// One TCP connection (SIPp `-t t1`) carrying REGISTERs whose Call-IDs hash to both
    /// shards: each message is framed on loop 0, handled on its Call-ID's shard, and the
    /// answer goes back over the same connection.
    func testOneTCPConnectionServesCallsOfBothShards() throws {
        let group = try ims.cluster.group
        // SIPp numbers its calls from 1 into -cid_str's %u.
        let shards = (1...20).map { group.shard(for: IMSCluster.callIDKey("tcpshard-\($0)@127.0.0.1")) }
        guard let n = (1...20).first(where: { Set(shards.prefix($0)).count == 2 }) else { throw XCTSkip("all Call-IDs on one shard") }
        let r = try SIPpRun.run("register_md5.xml", port: ims.port, transport: "t1", keys: ["domain": LoopbackIMS.domain, "user": "user1"],
                                extra: ["-au", "user1", "-ap", "secret", "-cid_str", "tcpshard-%u@127.0.0.1", "-m", String(n)])
        assertPassed(r, "\(n) REGISTERs over one TCP connection")
        let perShard = try ims.cluster.onEveryShard { $0.events.filter { if case .registered(let i, _, _) = $0 { i == "user1" } else { false } }.count }
        for s in 0..<2 {
            XCTAssertEqual(perShard[s], shards.prefix(n).filter { $0 == s }.count, "registrations handled on shard \(s)")
        }
        XCTAssertEqual(ims.registeredIMPIs, ["user1"])
    }

    func testShardsGetDisjointMediaPortSlices() {
        var c = IMSConfig(domain: "d", sipAddresses: ["127.0.0.1"])
        c.mediaPortMin = 20000; c.mediaPortMax = 24000
        let a = IMSCluster.shardConfig(c, shard: 0, of: 2), b = IMSCluster.shardConfig(c, shard: 1, of: 2)
        XCTAssertEqual([a.mediaPortMin, a.mediaPortMax, b.mediaPortMin, b.mediaPortMax], [20000, 22000, 22000, 24000])
        XCTAssertEqual(IMSCluster.shardConfig(c, shard: 0, of: 1).mediaPortMax, 24000)
    }

    /// A watcher SUBSCRIBEs to user1's reg event with a Call-ID of shard 0; user1 then
    /// registers (SIPp) with a Call-ID of shard 1: shard 0 must NOTIFY the watcher.
    func testRegistrationOnOneShardNotifiesASubscriptionOnTheOther() throws {
        let watcher = try RTPSocket()
        let subCID = try callID(onShard: 0, "sub"), regCID = try callID(onShard: 1, "reg")
        let sub = [
            "SUBSCRIBE sip:user1@\(LoopbackIMS.domain) SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:\(watcher.port);branch=z9hG4bKwatch1;rport",
            "Max-Forwards: 70",
            "From: <sip:watcher@\(LoopbackIMS.domain)>;tag=w1",
            "To: <sip:user1@\(LoopbackIMS.domain)>",
            "Call-ID: \(subCID)", "CSeq: 1 SUBSCRIBE", "Event: reg", "Expires: 600",
            "Contact: <sip:watcher@127.0.0.1:\(watcher.port)>", "Content-Length: 0", "", "",
        ].joined(separator: "\r\n")
        watcher.send(Array(sub.utf8), port: ims.port)
        func next(_ what: String) -> String? {
            let until = Date().addingTimeInterval(5)
            while Date() < until {
                guard let (b, _) = watcher.receive(timeout: 1) else { continue }
                let t = String(decoding: b, as: UTF8.self)
                if t.hasPrefix(what) { return t }
            }
            return nil
        }
        let first = try XCTUnwrap(next("NOTIFY"), "the SUBSCRIBE's own NOTIFY\n\(ims.log.suffix(3000))")
        XCTAssertTrue(first.contains("version=\"0\"") && first.contains("state=\"terminated\""), first)
        let reg = try SIPpRun.run("register_md5.xml", port: ims.port, keys: ["domain": LoopbackIMS.domain, "user": "user1"],
                                  extra: ["-au", "user1", "-ap", "secret", "-cid_str", regCID])
        assertPassed(reg, "user1 REGISTER on shard 1")
        let second = try XCTUnwrap(next("NOTIFY"), "the registration on shard 1 must be NOTIFYed by shard 0\n\(ims.log.suffix(3000))")
        XCTAssertTrue(second.contains("version=\"1\"") && second.contains("state=\"active\"") && second.contains("sip:user1@127.0.0.1"), second)
        XCTAssertTrue(second.contains("Call-ID: \(subCID)"), second)
    }
}
