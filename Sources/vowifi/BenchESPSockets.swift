import Crypto
import ESP
import Foundation
import Glibc
import Runtime
import Synchronization

/// `vowifi bench esp --sockets`: ESP-in-UDP decapsulation through real sockets. A sender
/// thread seals packets (fresh sequence numbers) and sends them over loopback; an event
/// loop receives them (recvmmsg batches of 32, or one recvfrom per datagram), opens them
/// in the ESP data plane and counts the inner packets delivered. Reports delivered
/// packets/s on the receiving core.
enum BenchESPSockets {
    struct Result { var batch: Int; var size: Int; var delivered: Double; var sent: Double }

    static func run(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?, size: Int, batch: Int, seconds: Double) throws -> Result {
        let ek = SecureRandom.bytes(encryption.keyMaterialLength), ik = SecureRandom.bytes(integrity?.keyLength ?? 0)
        let group = try EventLoopGroup(loopCount: 1, name: "bench-esp")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let delivered = Atomic<Int>(0)
        let port: UInt16 = try loop.submit {
            var plane = ESPDataPlane()
            let t = try ESPTransform(encryption: encryption, encryptionKey: ek, integrity: integrity, integrityKey: ik)
            plane.sad.addInbound(ESPSecurityAssociation(spi: 0x2000, direction: .inbound, transform: t, esn: true, replayWindow: 4096))
            var opts = UDPSocket.Options()
            opts.batchSize = batch
            opts.receiveBufferSize = 8 << 20
            let s = try UDPSocket.bind(try SocketAddress(host: "127.0.0.1", port: 0), on: loop, options: opts) { _, bytes, _ in
                for r in plane.receive(udpPayload: Array(bytes)) {
                    if case .deliver = r { delivered.add(1, ordering: .relaxed) }
                }
            }
            return s.localAddress.port
        }
        // Sender: its own thread and socket; seals with fresh sequence numbers.
        let stop = Atomic<Bool>(false)
        let sentCount = Atomic<Int>(0)
        let sender = Thread {
            guard let t = try? ESPTransform(encryption: encryption, encryptionKey: ek, integrity: integrity, integrityKey: ik) else { return }
            let sa = ESPSecurityAssociation(spi: 0x2000, direction: .outbound, transform: t, esn: true)
            var inner = [UInt8](repeating: 0x5A, count: max(20, size)); inner[0] = 0x45
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET); a.sin_addr.s_addr = inet_addr("127.0.0.1"); a.sin_port = port.bigEndian
            var n = 0
            while !stop.load(ordering: .relaxed) {
                guard case let .success(p) = inner.withUnsafeBytes({ ESPPacket.seal($0, nextHeader: 4, sa: sa) }) else { break }
                _ = p.withUnsafeBytes { b in
                    withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                }
                n += 1
                if n & 1023 == 0 { sentCount.store(n, ordering: .relaxed) }
            }
            sentCount.store(n, ordering: .relaxed)
        }
        sender.start()
        Thread.sleep(forTimeInterval: 0.3)      // warm up
        let d0 = delivered.load(ordering: .relaxed), s0 = sentCount.load(ordering: .relaxed)
        let t0 = Date()
        Thread.sleep(forTimeInterval: seconds)
        let d1 = delivered.load(ordering: .relaxed), s1 = sentCount.load(ordering: .relaxed)
        let dt = Date().timeIntervalSince(t0)
        stop.store(true, ordering: .relaxed)
        while !sender.isFinished { usleep(1000) }
        return Result(batch: batch, size: size, delivered: Double(d1 - d0) / dt, sent: Double(s1 - s0) / dt)
    }
}
