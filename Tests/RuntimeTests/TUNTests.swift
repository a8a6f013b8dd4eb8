import XCTest
import Foundation
import Glibc
@testable import Runtime

/// The TUN test runs in a network namespace it creates, in a child process (this same test
/// binary, re-run with VOWIFI_TUN_CHILD=1 under `ip netns exec`), so it never touches the
/// host's interfaces.
final class TUNTests: XCTestCase {
    func testTUNDeviceInNetworkNamespace() throws {
        if NamespaceChild.isChild("VOWIFI_TUN_CHILD") {
            try childBody()
            return
        }
        try NamespaceChild.run(test: "RuntimeTests.TUNTests/testTUNDeviceInNetworkNamespace", environmentFlag: "VOWIFI_TUN_CHILD", namespacePrefix: "vowifi-rt-test")
    }

    /// In the namespace: kernel → TUN (a UDP datagram routed into the device is read as an
    /// IPv4 packet) and TUN → kernel (a packet written to the device reaches a socket).
    private func childBody() throws {
        let group = try EventLoopGroup(loopCount: 1, name: "rt-tun")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let packets = Collector<[UInt8]>()
        let dev = try loop.submit { () -> TUNDevice in
            try TUNDevice.open(name: "vwtun%d", on: loop) { _, p in packets.append(Array(p)) }
        }
        let name = dev.name
        XCTAssertTrue(name.hasPrefix("vwtun"))
        try TUNDevice.configure(name: name, addresses: ["198.18.0.1/24"], routes: ["198.51.100.0/24"], mtu: 1400)
        XCTAssertTrue(try IPRoute2.run(["link", "show", name]).contains("mtu 1400"))

        // Kernel → TUN.
        let sender = try BlockingUDP(family: AF_INET, bindTo: SocketAddress(host: "198.18.0.1", port: 40000))
        sender.send(Array("to-tun".utf8), to: try SocketAddress(host: "198.51.100.9", port: 5060))
        XCTAssertTrue(waitUntil { packets.values.contains { $0.count >= 28 && $0[9] == 17 } })
        let p = packets.values.first { $0.count >= 28 && $0[9] == 17 }!
        XCTAssertEqual(p[0] >> 4, 4)
        XCTAssertEqual(Array(p[12..<16]), [198, 18, 0, 1])
        XCTAssertEqual(Array(p[16..<20]), [198, 51, 100, 9])
        XCTAssertEqual(UInt16(p[22]) << 8 | UInt16(p[23]), 5060)
        XCTAssertEqual(Array(p[28...]), Array("to-tun".utf8))

        // TUN → kernel: a UDP packet from 198.51.100.9:5060 to the sender's socket.
        let payload = Array("from-tun".utf8)
        var ip: [UInt8] = [0x45, 0, 0, UInt8(28 + payload.count), 0, 1, 0x40, 0, 64, 17, 0, 0,
                           198, 51, 100, 9, 198, 18, 0, 1]
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        ip[10] = UInt8(~sum >> 8 & 0xFF); ip[11] = UInt8(~sum & 0xFF)
        let udp: [UInt8] = [0x13, 0xC4, 0x9C, 0x40, 0, UInt8(8 + payload.count), 0, 0]  // 5060 → 40000, no checksum
        let packet = ip + udp + payload
        XCTAssertTrue(try loop.submit { dev.write(packet) })
        let reply = sender.receive()
        XCTAssertEqual(reply.map { String(decoding: $0.0, as: UTF8.self) }, "from-tun")
        XCTAssertEqual(reply?.1.description, "198.51.100.9:5060")

        // Multi-queue: one queue per loop of the same device.
        let group2 = try EventLoopGroup(loopCount: 2, name: "rt-tunmq")
        defer { group2.shutdown() }
        let names = try group2.onEveryLoop { loop in
            try TUNDevice.open(name: "vwmq0", multiQueue: true, on: loop) { _, _ in }.name
        }
        XCTAssertEqual(names, ["vwmq0", "vwmq0"])
        // Without multi-queue a second open of a busy device is refused (EBUSY).
        XCTAssertThrowsError(try loop.submit { try TUNDevice.open(name: name, on: loop) { _, _ in }.name }) {
            guard case .system(let call, _, let e)? = $0 as? RuntimeError else { return XCTFail("\($0)") }
            XCTAssertEqual(call, "ioctl(TUNSETIFF)")
            XCTAssertEqual(e, EBUSY)
        }
    }
}
