/// An IPv4 or IPv6 address as its network-order bytes (4 or 16), with text forms for
/// logs and configs. Used by traffic selectors, CP attributes and address pools.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let bytes: [UInt8]

    /// nil unless `bytes` has 4 or 16 octets.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public init(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { bytes = [a, b, c, d] }

    public var isIPv4: Bool { bytes.count == 4 }
    public var isIPv6: Bool { bytes.count == 16 }

    public static let anyV4 = IPAddress(v4: 0, 0, 0, 0)
    public static let broadcastV4 = IPAddress(v4: 255, 255, 255, 255)
    public static let anyV6 = IPAddress(bytes: [UInt8](repeating: 0, count: 16))!
    public static let allOnesV6 = IPAddress(bytes: [UInt8](repeating: 0xff, count: 16))!

    /// Parses dotted-quad IPv4 or RFC 4291 text IPv6 (with `::`, without zone or embedded v4).
    public init?(_ text: String) {
        if text.contains(":") {
            let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
            guard halves.count <= 2 else { return nil }
            func groups(_ s: String) -> [UInt16]? {
                if s.isEmpty { return [] }
                var out: [UInt16] = []
                for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                    guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                    out.append(v)
                }
                return out
            }
            guard let head = groups(halves[0]) else { return nil }
            var all = head
            if halves.count == 2 {
                guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
                all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
            }
            guard all.count == 8 else { return nil }
            bytes = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var b: [UInt8] = []
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let v = UInt8(p) else { return nil }
                b.append(v)
            }
            bytes = b
        }
    }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // Longest run of two or more zero groups becomes "::" (RFC 5952).
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLen)...].joined(separator: ":")
        return head + "::" + tail
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.bytes.count != b.bytes.count { return a.bytes.count < b.bytes.count }
        return a.bytes.lexicographicallyPrecedes(b.bytes)
    }
}
