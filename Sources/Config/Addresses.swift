/// An IPv4 or IPv6 address as written in a config, checked and kept as bytes.
public struct ConfigIPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]
    /// The text as written.
    public let text: String

    public var isIPv6: Bool { bytes.count == 16 }

    public var description: String { text }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an IPv4 tail); nil otherwise.
    public init?(_ text: String) {
        if let v4 = ConfigIPAddress.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = ConfigIPAddress.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
        self.text = text
    }

    init(bytes: [UInt8], text: String) {
        self.bytes = bytes
        self.text = text
    }

    public static func == (a: ConfigIPAddress, b: ConfigIPAddress) -> Bool { a.bytes == b.bytes }
    public func hash(into h: inout Hasher) { h.combine(bytes) }

    /// The IPv4 address as a host-order integer (nil for IPv6), for pool arithmetic.
    public var ipv4Value: UInt32? {
        guard bytes.count == 4 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func parseIPv4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6(_ s: String) -> [UInt8]? {
        guard s.contains(":") else { return nil }
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if allowV4Tail && i == items.count - 1 && item.contains(".") {
                    guard let v4 = parseIPv4(item) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard !item.isEmpty, item.count <= 4, let v = UInt16(item, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowV4Tail: false),
                  let tail = groups(halves[1], allowV4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let g = groups(halves[0], allowV4Tail: true), g.count == 8 else { return nil }
            all = g
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}

/// An address with a port: `"127.0.0.1:500"`, `"[2001:db8::1]:500"`, or a bare address
/// that takes the field's default port.
public struct ConfigEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: ConfigIPAddress
    public var port: UInt16

    public init(address: ConfigIPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `text`; nil when it is not an IP address with an optional 1...65535 port.
    public init?(_ text: String, defaultPort: UInt16) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard let addr = ConfigIPAddress(String(host)) else { return nil }
        if text.hasPrefix("[") && !addr.isIPv6 { return nil }
        var port = defaultPort
        if let portText {
            guard let p = UInt16(portText), p > 0 else { return nil }
            port = p
        }
        self.address = addr
        self.port = port
    }

    /// `1.2.3.4:500` or `[2001:db8::1]:500`.
    public var description: String {
        address.isIPv6 ? "[\(address.text)]:\(port)" : "\(address.text):\(port)"
    }
}

/// A PLMN written as 5 or 6 digits: MCC then a 2- or 3-digit MNC.
public struct PLMN: Sendable, Hashable, CustomStringConvertible {
    public let mcc: String
    public let mnc: String

    /// `"00101"` gives MCC 001, MNC 01; `"310260"` gives MCC 310, MNC 260.
    public init?(_ text: String) {
        guard text.count == 5 || text.count == 6, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        mcc = String(text.prefix(3))
        mnc = String(text.dropFirst(3))
    }

    init(mcc: String, mnc: String) {
        self.mcc = mcc
        self.mnc = mnc
    }

    /// The MNC on three digits, as TS 23.003 realms write it (`01` becomes `001`).
    public var mnc3: String { mnc.count == 2 ? "0" + mnc : mnc }

    /// `nai.epc.mnc001.mcc001.3gppnetwork.org`, the realm of the ePDG NAI (TS 23.003 §19.3).
    public var naiRealm: String { "nai.epc.mnc\(mnc3).mcc\(mcc).3gppnetwork.org" }

    /// `ims.mnc001.mcc001.3gppnetwork.org` (TS 23.003 §13.2).
    public var imsDomain: String { "ims.mnc\(mnc3).mcc\(mcc).3gppnetwork.org" }

    public var description: String { mcc + mnc }
}
