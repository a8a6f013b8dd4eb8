/// An inclusive address range of one family, as IKEv2 TSi/TSr carry it (RFC 7296 §3.13.1),
/// used by ESP to refuse inner packets whose source is not the UE's assigned address.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    public let start: [UInt8]
    public let end: [UInt8]

    public init(start: [UInt8], end: [UInt8]) {
        self.start = start
        self.end = end
    }

    /// A single address.
    public init(address: [UInt8]) { self.init(start: address, end: address) }

    public var isIPv6: Bool { start.count == 16 }

    public func contains(_ p: UnsafeRawBufferPointer, offset: Int) -> Bool {
        let n = start.count
        guard p.count >= offset + n else { return false }
        return !lexLess(p, offset, start, n) && !lexGreater(p, offset, end, n)
    }

    private func lexLess(_ p: UnsafeRawBufferPointer, _ o: Int, _ b: [UInt8], _ n: Int) -> Bool {
        for i in 0..<n where p[o + i] != b[i] { return p[o + i] < b[i] }
        return false
    }
    private func lexGreater(_ p: UnsafeRawBufferPointer, _ o: Int, _ b: [UInt8], _ n: Int) -> Bool {
        for i in 0..<n where p[o + i] != b[i] { return p[o + i] > b[i] }
        return false
    }

    public var description: String {
        func fmt(_ a: [UInt8]) -> String {
            if a.count == 4 { return a.map(String.init).joined(separator: ".") }
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(a[$0]) << 8 | UInt16(a[$0 + 1]), radix: 16) }.joined(separator: ":")
        }
        return start == end ? fmt(start) : "\(fmt(start))-\(fmt(end))"
    }
}

/// Where an inner IP packet's addresses sit, for the source check and outbound lookup.
public enum InnerPacket {
    /// IP version from the first nibble: 4, 6, or nil for anything else.
    public static func version(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p.count >= 1 else { return nil }
        switch p[0] >> 4 {
        case 4: return p.count >= 20 ? 4 : nil
        case 6: return p.count >= 40 ? 6 : nil
        default: return nil
        }
    }
    public static func sourceOffset(version: Int) -> Int { version == 4 ? 12 : 8 }
    public static func destinationOffset(version: Int) -> Int { version == 4 ? 16 : 24 }
    /// The ESP next-header value for tunnel mode: 4 (IPv4-in-IP) or 41 (IPv6).
    public static func nextHeader(version: Int) -> UInt8 { version == 4 ? 4 : 41 }
}
