import Glibc

/// The dispatching-reader model for UDP: one socket read on one loop, each datagram
/// handed to the loop that owns its key (IKE SPI, ESP SPI, ...), which answers through a
/// thread-safe send handle. Use it when the kernel's SO_REUSEPORT 4-tuple hash is not the
/// right shard key (a UE behind a NAT that rebinds keeps its SPI, not its port).
/// Datagrams for one loop are handed over in one task per receive batch.
///
/// `@unchecked Sendable`: `socket` is loop-confined to the reader loop; `pending` is only
/// used in the socket's callbacks, i.e. on the reader loop.
public final class UDPDispatcher: @unchecked Sendable {
    public typealias Handler = @Sendable (EventLoop, UDPSendHandle, [UInt8], SocketAddress) -> Void
    public let group: EventLoopGroup
    public let readerLoop: EventLoop
    /// The bound address (with the kernel's port if 0 was asked).
    public private(set) var localAddress: SocketAddress
    private var socket: UDPSocket?
    /// Sends from the dispatched socket, from any thread (replies leave from the port the
    /// peer talks to).
    public private(set) var sendHandle: UDPSendHandle?
    private var pending: [[([UInt8], SocketAddress)]]

    /// Binds `address` on `group.loops[readerLoop]`; `key` picks the shard from the bytes
    /// and peer (on the reader loop); `onDatagram` runs on the owning loop.
    public static func start(_ address: SocketAddress, group: EventLoopGroup, readerLoop: Int = 0,
                             options: UDPSocket.Options = .init(),
                             key: @escaping @Sendable (UnsafeRawBufferPointer, SocketAddress) -> UInt64,
                             onDatagram: @escaping Handler) throws -> UDPDispatcher {
        let reader = group.loops[readerLoop]
        return try reader.submit {
            let d = UDPDispatcher(group: group, reader: reader)
            let s = try UDPSocket.bind(address, on: reader, options: options) { sock, bytes, peer in
                let shard = group.shard(for: key(bytes, peer))
                if shard == reader.index {
                    onDatagram(reader, sock.sendHandle, Array(bytes), peer)
                } else {
                    d.pending[shard].append((Array(bytes), peer))
                }
            }
            d.socket = s
            d.localAddress = s.localAddress
            let handle = s.sendHandle
            d.sendHandle = handle
            s.onBatchEnd = {
                for i in 0..<d.pending.count where !d.pending[i].isEmpty {
                    let batch = d.pending[i]
                    d.pending[i].removeAll(keepingCapacity: true)
                    let loop = group.loops[i]
                    loop.execute { for (b, p) in batch { onDatagram(loop, handle, b, p) } }
                }
            }
            return d
        }
    }

    private init(group: EventLoopGroup, reader: EventLoop) {
        self.group = group
        self.readerLoop = reader
        self.localAddress = .v4(sockaddr_in())
        self.pending = Array(repeating: [], count: group.loops.count)
    }

    /// Closes the socket (from any thread; waits for the reader loop).
    public func close() {
        _ = try? readerLoop.submit { self.socket?.close(); self.socket = nil }
    }
}
