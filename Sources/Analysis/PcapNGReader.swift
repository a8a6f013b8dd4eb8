import Foundation

/// Why a capture file could not be read.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(String)
    case notACapture(magic: UInt32)
    case truncated(what: String, offset: Int)
    case invalid(what: String, offset: Int, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(p): "cannot read \(p)"
        case let .notACapture(m): "not a pcap or pcapng file (magic 0x\(String(m, radix: 16)))"
        case let .truncated(w, o): "truncated \(w) at offset \(o)"
        case let .invalid(w, o, d): "invalid \(w) at offset \(o): \(d)"
        }
    }
}

/// One capture interface (pcapng IDB, or the single link of a classic pcap file).
public struct CaptureInterface: Sendable, Equatable {
    public var name: String
    /// LINKTYPE_*: 1 Ethernet, 101 raw IP, 228 IPv4, 229 IPv6, 113 Linux SLL, 276 SLL2.
    public var linkType: UInt16
    /// Seconds per timestamp unit (1e-6 unless if_tsresol says otherwise).
    public var resolution: Double
}

/// One captured frame with its interface, time and optional pcapng comment (our writer puts
/// the UE's IMSI there).
public struct CapturedPacket: Sendable, Equatable {
    public var index: Int
    public var interface: Int
    public var linkType: UInt16
    public var interfaceName: String
    /// Seconds since 1970.
    public var time: Double
    public var data: [UInt8]
    public var comment: String?

    /// The IP packet inside the frame (link header removed), or nil for non-IP frames.
    public var ipPacket: [UInt8]? { LinkLayer.ipPayload(linkType: linkType, frame: data) }
}

/// Strips link-layer headers down to the IP packet.
public enum LinkLayer {
    public static func ipPayload(linkType: UInt16, frame: [UInt8]) -> [UInt8]? {
        switch linkType {
        case 101, 228, 229, 12, 14:
            return frame
        case 0, 108:   // BSD loopback: 4-byte address family
            return frame.count > 4 ? Array(frame[4...]) : nil
        case 1:
            var off = 12
            guard frame.count >= 14 else { return nil }
            var etherType = UInt16(frame[off]) << 8 | UInt16(frame[off + 1])
            off += 2
            while etherType == 0x8100 || etherType == 0x88A8 {   // VLAN tags
                guard frame.count >= off + 4 else { return nil }
                etherType = UInt16(frame[off + 2]) << 8 | UInt16(frame[off + 3])
                off += 4
            }
            guard etherType == 0x0800 || etherType == 0x86DD else { return nil }
            return Array(frame[off...])
        case 113:
            guard frame.count >= 16 else { return nil }
            let proto = UInt16(frame[14]) << 8 | UInt16(frame[15])
            guard proto == 0x0800 || proto == 0x86DD else { return nil }
            return Array(frame[16...])
        case 276:
            guard frame.count >= 20 else { return nil }
            let proto = UInt16(frame[0]) << 8 | UInt16(frame[1])
            guard proto == 0x0800 || proto == 0x86DD else { return nil }
            return Array(frame[20...])
        default:
            return nil
        }
    }
}

/// Reads pcapng (SHB, IDB, EPB, SPB, either byte order, several sections) and classic
/// pcap (micro- or nanosecond, either byte order). Unknown blocks are skipped.
public struct PcapNGReader: Sendable {
    public private(set) var interfaces: [CaptureInterface] = []
    public private(set) var packets: [CapturedPacket] = []

    public init(path: String) throws {
        guard let d = FileManager.default.contents(atPath: path) else { throw CaptureError.unreadable(path) }
        try self.init(bytes: [UInt8](d))
    }

    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 4 else { throw CaptureError.truncated(what: "file magic", offset: 0) }
        let le = Self.u32(bytes, 0, little: true)
        switch le {
        case 0x0A0D_0D0A: try parsePcapNG(bytes)
        case 0xA1B2_C3D4, 0xA1B2_3C4D: try parsePcap(bytes, little: true, nanos: le == 0xA1B2_3C4D)
        case 0xD4C3_B2A1, 0x4D3C_B2A1: try parsePcap(bytes, little: false, nanos: le == 0x4D3C_B2A1)
        default: throw CaptureError.notACapture(magic: le)
        }
    }

    static func u16(_ b: [UInt8], _ o: Int, little: Bool) -> UInt16 {
        little ? UInt16(b[o]) | UInt16(b[o + 1]) << 8 : UInt16(b[o]) << 8 | UInt16(b[o + 1])
    }
    static func u32(_ b: [UInt8], _ o: Int, little: Bool) -> UInt32 {
        let v = UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
        return little ? v : v.byteSwapped
    }

    private mutating func parsePcap(_ b: [UInt8], little: Bool, nanos: Bool) throws {
        guard b.count >= 24 else { throw CaptureError.truncated(what: "pcap header", offset: 0) }
        let link = UInt16(truncatingIfNeeded: Self.u32(b, 20, little: little))
        interfaces = [CaptureInterface(name: "pcap", linkType: link, resolution: nanos ? 1e-9 : 1e-6)]
        var o = 24
        while o < b.count {
            guard o + 16 <= b.count else { throw CaptureError.truncated(what: "pcap record header", offset: o) }
            let sec = Double(Self.u32(b, o, little: little)), frac = Double(Self.u32(b, o + 4, little: little))
            let incl = Int(Self.u32(b, o + 8, little: little))
            guard incl <= b.count - o - 16 else { throw CaptureError.truncated(what: "pcap record", offset: o) }
            let data = Array(b[(o + 16)..<(o + 16 + incl)])
            packets.append(CapturedPacket(index: packets.count + 1, interface: 0, linkType: link, interfaceName: "pcap",
                                          time: sec + frac * (nanos ? 1e-9 : 1e-6), data: data, comment: nil))
            o += 16 + incl
        }
    }

    private mutating func parsePcapNG(_ b: [UInt8]) throws {
        var o = 0
        var little = true
        var sectionBase = 0   // interface ids restart per section
        while o < b.count {
            guard o + 12 <= b.count else { throw CaptureError.truncated(what: "block header", offset: o) }
            var type = Self.u32(b, o, little: little)
            if type == 0x0A0D_0D0A {
                // Section Header: the byte-order magic decides the endianness of this section.
                let magic = Self.u32(b, o + 8, little: true)
                if magic == 0x1A2B_3C4D { little = true } else if magic == 0x4D3C_2B1A { little = false } else {
                    throw CaptureError.invalid(what: "byte-order magic", offset: o + 8, detail: String(magic, radix: 16))
                }
                type = 0x0A0D_0D0A
                sectionBase = interfaces.count
            }
            let len = Int(Self.u32(b, o + 4, little: little))
            guard len >= 12, len % 4 == 0 else { throw CaptureError.invalid(what: "block length", offset: o + 4, detail: "\(len)") }
            guard len <= b.count - o else { throw CaptureError.truncated(what: "block of type \(type)", offset: o) }
            let body = Array(b[(o + 8)..<(o + len - 4)])
            switch type {
            case 1:   // Interface Description Block
                guard body.count >= 8 else { throw CaptureError.truncated(what: "IDB", offset: o) }
                let link = Self.u16(body, 0, little: little)
                var name = "if\(interfaces.count - sectionBase)"
                var res = 1e-6
                for (code, v) in Self.options(body, from: 8, little: little) {
                    if code == 2 { name = String(decoding: v, as: UTF8.self) }
                    if code == 9, let r = v.first {
                        res = r & 0x80 != 0 ? pow(2, -Double(r & 0x7F)) : pow(10, -Double(r))
                    }
                }
                interfaces.append(CaptureInterface(name: name, linkType: link, resolution: res))
            case 6:   // Enhanced Packet Block
                guard body.count >= 20 else { throw CaptureError.truncated(what: "EPB", offset: o) }
                let ifid = sectionBase + Int(Self.u32(body, 0, little: little))
                let ts = UInt64(Self.u32(body, 4, little: little)) << 32 | UInt64(Self.u32(body, 8, little: little))
                let capLen = Int(Self.u32(body, 12, little: little))
                guard capLen <= body.count - 20 else { throw CaptureError.truncated(what: "EPB packet data", offset: o + 28) }
                guard ifid < interfaces.count else {
                    throw CaptureError.invalid(what: "EPB interface id", offset: o + 8, detail: "\(ifid - sectionBase) not described")
                }
                let itf = interfaces[ifid]
                var comment: String?
                let optStart = 20 + (capLen + 3) / 4 * 4
                for (code, v) in Self.options(body, from: optStart, little: little) where code == 1 {
                    comment = String(decoding: v, as: UTF8.self)
                }
                packets.append(CapturedPacket(index: packets.count + 1, interface: ifid, linkType: itf.linkType, interfaceName: itf.name,
                                              time: Double(ts) * itf.resolution, data: Array(body[20..<(20 + capLen)]), comment: comment))
            case 3:   // Simple Packet Block: no time, interface 0 of the section
                guard body.count >= 4, sectionBase < interfaces.count else { break }
                let itf = interfaces[sectionBase]
                let orig = Int(Self.u32(body, 0, little: little))
                let n = min(orig, body.count - 4)
                packets.append(CapturedPacket(index: packets.count + 1, interface: sectionBase, linkType: itf.linkType, interfaceName: itf.name,
                                              time: 0, data: Array(body[4..<(4 + n)]), comment: nil))
            default:
                break
            }
            o += len
        }
    }

    /// Options (code, value) from `start` until opt_endofopt or the end of the body.
    static func options(_ body: [UInt8], from start: Int, little: Bool) -> [(UInt16, [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var o = start
        while o + 4 <= body.count {
            let code = u16(body, o, little: little), len = Int(u16(body, o + 2, little: little))
            if code == 0 { break }
            guard o + 4 + len <= body.count else { break }
            out.append((code, Array(body[(o + 4)..<(o + 4 + len)])))
            o += 4 + (len + 3) / 4 * 4
        }
        return out
    }
}
