import XCTest
import Glibc
@testable import Runtime

final class UDPTests: XCTestCase {
    private func echo(host: String, clientFamily: Int32, options: UDPSocket.Options, bindHost: String? = nil) throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-udp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let local = try loop.submit { () -> SocketAddress in
            let s = try UDPSocket.bind(SocketAddress(host: bindHost ?? host, port: 0), on: loop, options: options) { sock, bytes, peer in
                var reply = [UInt8]("echo:".utf8)
                reply.append(contentsOf: bytes)
                sock.send(reply, to: peer)
            }
            return s.localAddress
        }
        let client = try BlockingUDP(family: clientFamily)
        let target = try SocketAddress(host: host, port: local.port)
        for i in 0..<50 { client.send(Array("ping \(i)".utf8), to: target) }
        var replies = Set<String>()
        for _ in 0..<50 {
            guard let (bytes, from) = client.receive() else { break }
            XCTAssertEqual(from, target, "reply from the wrong address")
            replies.insert(String(decoding: bytes, as: UTF8.self))
        }
        XCTAssertEqual(replies, Set((0..<50).map { "echo:ping \($0)" }))
    }

    func testEchoIPv4Batched() throws {
        try echo(host: "127.0.0.1", clientFamily: AF_INET, options: .init(batchSize: 32))
    }

    func testEchoIPv4Unbatched() throws {
        try echo(host: "127.0.0.1", clientFamily: AF_INET, options: .init(batchSize: 1))
    }

    func testEchoIPv6Loopback() throws {
        try echo(host: "::1", clientFamily: AF_INET6, options: .init(batchSize: 16, v6Only: true))
    }

    func testDualStackSocketServesIPv4PeersAsPlainIPv4() throws {
        try echo(host: "127.0.0.1", clientFamily: AF_INET, options: .init(v6Only: false), bindHost: "::")
    }

    func testTruncatedDatagramIsDroppedAndCounted() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-udp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let got = Collector<Int>()
        let local = try loop.submit { () -> SocketAddress in
            try UDPSocket.bind(SocketAddress(host: "127.0.0.1", port: 0), on: loop, options: .init(maxDatagramSize: 100)) { _, b, _ in
                got.append(b.count)
            }.localAddress
        }
        let client = try BlockingUDP(family: AF_INET)
        client.send([UInt8](repeating: 1, count: 101), to: local)
        client.send([UInt8](repeating: 1, count: 100), to: local)
        XCTAssertTrue(waitUntil { got.count == 1 })
        usleep(20_000)
        XCTAssertEqual(got.values, [100])
    }

    func testBindSamePortTwiceNamesTheAddress() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-udp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let result = try loop.submit { () -> (SocketAddress, RuntimeError?) in
            let first = try UDPSocket.bind(SocketAddress(host: "127.0.0.1", port: 0), on: loop) { _, _, _ in }
            do throws(RuntimeError) {
                _ = try UDPSocket.bind(first.localAddress, on: loop) { _, _, _ in }
                return (first.localAddress, nil)
            } catch {
                return (first.localAddress, error)
            }
        }
        let (address, error) = result
        XCTAssertEqual(error, .addressInUse(transport: "UDP", address: "127.0.0.1:\(address.port)"))
        XCTAssertTrue(error!.description.hasPrefix("cannot bind UDP 127.0.0.1:\(address.port): address already in use"), error!.description)
    }

    func testReusePortLetsOneSocketPerLoopShareTheAddress() throws {
        let group = try EventLoopGroup(loopCount: 2, name: "rt-udp")
        defer { group.shutdown() }
        let first = try group.loops[0].submit { () -> SocketAddress in
            try UDPSocket.bind(SocketAddress(host: "127.0.0.1", port: 0), on: group.loops[0], options: .init(reusePort: true)) { _, _, _ in }.localAddress
        }
        let second = try group.loops[1].submit { () -> SocketAddress in
            try UDPSocket.bind(first, on: group.loops[1], options: .init(reusePort: true)) { _, _, _ in }.localAddress
        }
        XCTAssertEqual(first, second)
    }

    func testAddressNotOnThisHost() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-udp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let error = try loop.submit { () -> RuntimeError? in
            do throws(RuntimeError) { _ = try UDPSocket.bind(SocketAddress(host: "203.0.113.77", port: 4500), on: loop) { _, _, _ in }; return nil } catch { return error }
        }
        XCTAssertEqual(error, .addressNotAvailable(transport: "UDP", address: "203.0.113.77:4500"))
        XCTAssertEqual(error?.description, "cannot bind UDP 203.0.113.77:4500: the address is not available on this host (no interface has it; check the configured IP)")
    }

    func testPrivilegedPortMessage() throws {
        // As root the kernel allows port 500, so the mapping from EACCES is tested directly.
        let a = try SocketAddress(host: "127.0.0.1", port: 500)
        let e = RuntimeError.bind(transport: "UDP", address: a, errno: EACCES)
        XCTAssertEqual(e.description, "binding UDP 127.0.0.1:500 needs root or CAP_NET_BIND_SERVICE; configure a port >= 1024 to run unprivileged")
        let high = RuntimeError.bind(transport: "TCP", address: a.withPort(5060), errno: EACCES)
        XCTAssertEqual(high, .permissionDenied(transport: "TCP", address: "127.0.0.1:5060"))
        let v6 = RuntimeError.bind(transport: "UDP", address: try SocketAddress(host: "2001:db8::1", port: 4500), errno: EADDRINUSE)
        XCTAssertEqual(v6.description, "cannot bind UDP [2001:db8::1]:4500: address already in use (another process or socket has it; stop it or configure another port)")
        XCTAssertEqual(RuntimeError.tunNeedsNetAdmin(device: "epdg0").description, "creating TUN device epdg0 needs root or CAP_NET_ADMIN")
    }

    /// recvmmsg/sendmmsg take an array of C `struct mmsghdr`; the Swift mirror must match.
    func testMMsgHdrMatchesTheCLayout() {
        XCTAssertEqual(MemoryLayout<MMsgHdr>.offset(of: \MMsgHdr.msg_len), MemoryLayout<msghdr>.size)
        #if arch(x86_64) || arch(arm64)
        XCTAssertEqual(MemoryLayout<msghdr>.size, 56)
        XCTAssertEqual(MemoryLayout<MMsgHdr>.stride, 64)
        #endif
    }

    func testSocketAddressParsing() throws {
        XCTAssertEqual(try SocketAddress(parsing: "[2001:db8::5]:500").description, "[2001:db8::5]:500")
        XCTAssertEqual(try SocketAddress(parsing: "198.51.100.7:4500").port, 4500)
        XCTAssertEqual(try SocketAddress(host: "198.51.100.7", port: 1).addressBytes, [198, 51, 100, 7])
        XCTAssertThrowsError(try SocketAddress(host: "epdg.example", port: 500)) {
            XCTAssertEqual($0 as? RuntimeError, .invalidAddress("epdg.example"))
        }
        XCTAssertThrowsError(try SocketAddress(parsing: "2001:db8::1:500"))
        XCTAssertEqual(try SocketAddress(host: "127.0.0.1", port: 9).mappedToV6.host, "::ffff:127.0.0.1")
        XCTAssertEqual(try SocketAddress(host: "127.0.0.1", port: 9).mappedToV6.unmapped, try SocketAddress(host: "127.0.0.1", port: 9))
    }
}

final class UDPDispatcherTests: XCTestCase {
    /// One reader; the first payload byte is the key; each datagram is answered from the
    /// loop that owns its key, and per-loop state lives in a LoopLocal.
    func testDispatchingReaderSendsEachKeyToItsLoop() throws {
        let group = try EventLoopGroup(loopCount: 3, name: "rt-disp")
        defer { group.shutdown() }
        let counts = LoopLocal<Int>(group: group)
        let d = try UDPDispatcher.start(SocketAddress(host: "127.0.0.1", port: 0), group: group,
                                        key: { bytes, _ in UInt64(bytes[0]) }) { loop, send, bytes, peer in
            counts[loop] = (counts[loop] ?? 0) + 1
            send.send([bytes[0], UInt8(loop.index), loop.inEventLoop ? 1 : 0], to: peer)
        }
        let client = try BlockingUDP(family: AF_INET)
        for k in 0..<60 { client.send([UInt8(k), 0xAA], to: d.localAddress) }
        var seen = 0
        for _ in 0..<60 {
            guard let (r, _) = client.receive() else { break }
            XCTAssertEqual(Int(r[1]), group.shard(for: UInt64(r[0])), "key \(r[0]) answered by the wrong loop")
            XCTAssertEqual(r[2], 1)
            seen += 1
        }
        XCTAssertEqual(seen, 60)
        let perLoop = try group.onEveryLoop { loop in counts[loop] ?? 0 }
        XCTAssertEqual(perLoop.reduce(0, +), 60)
        XCTAssertTrue(perLoop.allSatisfy { $0 > 0 }, "\(perLoop)")
        d.close()
    }
}
