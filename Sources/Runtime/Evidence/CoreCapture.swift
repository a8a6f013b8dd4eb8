import Foundation
import Wire

/// The core's pcapng capture: interface 0 "outer" holds every IKE and ESP datagram the ePDG
/// sends and receives, rebuilt as IPv4/IPv6 + UDP with the real addresses and ports;
/// interface 1 "inner" holds the decrypted inner packets both ways. Packets carry the UE's
/// IMSI as a comment where it is known. With `maxSize`, the file rotates: past the size,
/// `<name>.pcapng` is kept and `<name>.1.pcapng`, `<name>.2.pcapng`... follow, each a whole
/// capture with both interfaces. Thread-safe (one lock around each write).
public final class CoreCapture: @unchecked Sendable {
    // @unchecked: `writer`, `size` and `index` are only touched with `lock` held.
    public let path: String
    public let maxSize: Int?
    private let lock = NSLock()
    private var writer: PcapNGWriter
    private var size = 0
    private var index = 0
    public private(set) var files: [String]
    public private(set) var packets = 0

    public static let outer = 0, inner = 1

    public init(path: String, maxSize: Int? = nil) throws {
        self.path = path
        self.maxSize = maxSize.flatMap { $0 > 0 ? $0 : nil }
        writer = try Self.open(path)
        files = [path]
        size = 200
    }

    private static func open(_ path: String) throws -> PcapNGWriter {
        let w = try PcapNGWriter(path: path)
        _ = w.addInterface(name: "outer")
        _ = w.addInterface(name: "inner")
        return w
    }

    /// The name of rotated file `n` (`cap.pcapng` → `cap.1.pcapng`).
    public func rotatedPath(_ n: Int) -> String {
        let ext = (path as NSString).pathExtension
        let base = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return ext.isEmpty ? "\(base).\(n)" : "\(base).\(n).\(ext)"
    }

    /// An outer datagram between two socket addresses (IKE with or without the non-ESP
    /// marker, ESP in UDP, NAT-T keepalives) as an IP+UDP packet.
    public func outer(_ payload: [UInt8], from: SocketAddress, to: SocketAddress, imsi: String?) {
        let src = from.addressBytes, dst = to.addressBytes
        let packet: [UInt8]
        if src.count == 4 && dst.count == 4 {
            packet = IPPacket.udp4(src: src, dst: dst, sport: from.port, dport: to.port, payload: payload)
        } else if src.count == 16 && dst.count == 16 {
            packet = IPPacket.udp6(src: src, dst: dst, sport: from.port, dport: to.port, payload: payload)
        } else { return }
        write(Self.outer, packet, imsi)
    }

    /// A decrypted inner IP packet (from the UE when `fromUE`).
    public func inner(_ packet: [UInt8], imsi: String?) { write(Self.inner, packet, imsi) }

    private func write(_ interface: Int, _ packet: [UInt8], _ imsi: String?) {
        let comment = imsi.flatMap { $0.isEmpty ? nil : "IMSI \($0)" }
        lock.lock(); defer { lock.unlock() }
        let blockSize = 32 + packet.count + 4 + (comment.map { $0.utf8.count + 12 } ?? 0)
        if let m = maxSize, size + blockSize > m, packets > 0 {
            index += 1
            let next = rotatedPath(index)
            if let w = try? Self.open(next) {
                writer.close()
                writer = w
                files.append(next)
                size = 200
            }
        }
        writer.write(interface: interface, packet: packet, comment: comment)
        size += blockSize
        packets += 1
    }

    public func close() {
        lock.lock(); defer { lock.unlock() }
        writer.close()
    }
}
