import Foundation

/// A pcapng writer (draft-ietf-opsawg-pcapng): one Section Header Block, one Interface
/// Description Block per interface (e.g. "outer" with LINKTYPE_IPV4/RAW and "inner"
/// with the decrypted tunnel traffic), and Enhanced Packet Blocks with an optional
/// comment (the UE's IMSI). Blocks are built in memory and appended to the file, so a
/// reader sees whole blocks only.
public final class PcapNGWriter: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `lock`.
    public enum LinkType: UInt16, Sendable {
        /// LINKTYPE_RAW: packets start with an IPv4 or IPv6 header.
        case raw = 101
        case ethernet = 1
    }

    private let handle: FileHandle
    private let lock = NSLock()
    private var interfaces = 0

    /// Creates (truncating) `path` and writes the section header.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var shb = PcapNGBlock(type: 0x0A0D_0D0A)
        shb.u32(0x1A2B_3C4D)          // byte-order magic
        shb.u16(1); shb.u16(0)        // version 1.0
        shb.u64(UInt64.max)           // section length unknown
        shb.option(code: 4, Array("VoWiFi Core".utf8))   // shb_userappl
        shb.endOptions()
        handle.write(Data(shb.finish()))
    }

    /// Adds an interface and returns its id for `write`.
    public func addInterface(name: String, linkType: LinkType = .raw) -> Int {
        var idb = PcapNGBlock(type: 1)
        idb.u16(linkType.rawValue); idb.u16(0)
        idb.u32(0)                    // snaplen: unlimited
        idb.option(code: 2, Array(name.utf8))   // if_name
        idb.option(code: 9, [6])                 // if_tsresol: microseconds
        idb.endOptions()
        lock.lock(); defer { lock.unlock() }
        handle.write(Data(idb.finish()))
        interfaces += 1
        return interfaces - 1
    }

    /// Appends one packet seen on `interface` at `time` (seconds since 1970).
    public func write(interface: Int, packet: [UInt8], time: Double = Date().timeIntervalSince1970, comment: String? = nil) {
        var epb = PcapNGBlock(type: 6)
        let us = UInt64(max(0, time) * 1_000_000)
        epb.u32(UInt32(interface))
        epb.u32(UInt32(us >> 32)); epb.u32(UInt32(us & 0xFFFF_FFFF))
        epb.u32(UInt32(packet.count)); epb.u32(UInt32(packet.count))
        epb.bytes(packet); epb.pad()
        if let comment { epb.option(code: 1, Array(comment.utf8)); epb.endOptions() }
        let block = epb.finish()
        lock.lock(); defer { lock.unlock() }
        handle.write(Data(block))
    }

    public func close() {
        lock.lock(); defer { lock.unlock() }
        try? handle.close()
    }
}

/// One pcapng block under construction, in host (little-endian) byte order as the
/// byte-order magic declares.
struct PcapNGBlock {
    private var body: [UInt8] = []
    private let type: UInt32

    init(type: UInt32) { self.type = type }

    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
    mutating func bytes(_ b: [UInt8]) { body.append(contentsOf: b) }
    mutating func pad() { while body.count % 4 != 0 { body.append(0) } }

    mutating func option(code: UInt16, _ value: [UInt8]) {
        u16(code); u16(UInt16(value.count)); bytes(value); pad()
    }
    mutating func endOptions() { u32(0) }   // opt_endofopt

    func finish() -> [UInt8] {
        let total = UInt32(12 + body.count)
        var out: [UInt8] = []
        out.reserveCapacity(Int(total))
        withUnsafeBytes(of: type.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: total.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: body)
        withUnsafeBytes(of: total.littleEndian) { out.append(contentsOf: $0) }
        return out
    }
}
