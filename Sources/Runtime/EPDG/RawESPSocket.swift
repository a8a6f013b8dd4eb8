import Glibc

/// Plain ESP (IP protocol 50, RFC 4303) for phones that do not encapsulate in UDP (no NAT
/// on the path and no forced NAT-T): a raw IPv4 socket on the ePDG's address. Needs root or
/// CAP_NET_RAW; without it the ePDG serves UDP-encapsulated ESP only. Loop-confined for
/// reading; `send` is a plain sendto(2), safe from any thread.
public final class RawESPSocket: LoopHandler, @unchecked Sendable {
    // @unchecked: reads happen on `loop`; the fd is only closed there.
    public let loop: EventLoop
    let fd: Int32
    public let localAddress: SocketAddress
    private var onPacket: ((UnsafeRawBufferPointer, SocketAddress) -> Void)?
    private var isClosed = false
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Opens and binds the socket on `loop` (loop thread). `onPacket` gets the ESP packet
    /// (IP header stripped) and the sender's address.
    public static func open(_ address: SocketAddress, on loop: EventLoop,
                            onPacket: @escaping (UnsafeRawBufferPointer, SocketAddress) -> Void) throws(RuntimeError) -> RawESPSocket {
        loop.assertInLoop()
        guard address.family == AF_INET else { throw .invalidAddress("plain ESP is served on IPv4 only (\(address))") }
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 50)
        guard fd >= 0 else {
            let e = errno
            if e == EPERM || e == EACCES { throw .permissionDenied(transport: "raw ESP (IP protocol 50)", address: "\(address.host)") }
            throw .system(call: "socket(SOCK_RAW, 50)", context: "plain ESP", errno: e)
        }
        let bindTo = address.withPort(0)
        let rc = bindTo.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard rc == 0 else { let e = errno; Glibc.close(fd); throw RuntimeError.bind(transport: "raw ESP", address: bindTo, errno: e) }
        let s = RawESPSocket(loop: loop, fd: fd, local: bindTo, onPacket: onPacket)
        do { try loop.register(fd: fd, events: Linux.EPOLLIN, handler: s) } catch { Glibc.close(fd); throw error }
        return s
    }

    private init(loop: EventLoop, fd: Int32, local: SocketAddress, onPacket: @escaping (UnsafeRawBufferPointer, SocketAddress) -> Void) {
        self.loop = loop; self.fd = fd; self.localAddress = local; self.onPacket = onPacket
    }

    /// Sends one ESP packet to `peer` (the kernel adds the IPv4 header).
    @discardableResult
    public func send(_ esp: [UInt8], to peer: SocketAddress) -> Bool {
        let dest = peer.withPort(0)
        return esp.withUnsafeBytes { b in dest.withSockAddr { sendto(fd, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, $1) } } >= 0
    }

    func handleEvents(_ events: UInt32) {
        var rounds = 0
        while !isClosed, rounds < 64 {
            rounds += 1
            var from = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) } }
            }
            if n <= 0 { break }
            // A raw IPv4 socket delivers the IP header too: skip it (IHL words).
            let ihl = Int(buffer[0] & 0x0F) * 4
            guard n > ihl + 8 else { continue }
            // Only packets addressed to us (a raw socket sees every ESP packet the host gets).
            let dst = Array(buffer[16..<20])
            guard dst == localAddress.addressBytes else { continue }
            let peer = SocketAddress.v4(from)
            buffer.withUnsafeBytes { b in onPacket?(UnsafeRawBufferPointer(rebasing: b[ihl..<n]), peer) }
        }
    }

    public func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
        onPacket = nil
    }

    func closeForShutdown() { close() }
}
