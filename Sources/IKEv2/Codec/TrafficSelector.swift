import Wire

/// One traffic selector (RFC 7296 §3.13.1): an address range, a port range and an IP protocol.
public struct TrafficSelector: Hashable, Sendable, CustomStringConvertible {
    public static let TS_IPV4_ADDR_RANGE: UInt8 = 7
    public static let TS_IPV6_ADDR_RANGE: UInt8 = 8

    /// 0 = any protocol.
    public var ipProtocol: UInt8
    public var startPort: UInt16
    public var endPort: UInt16
    public var startAddress: IPAddress
    public var endAddress: IPAddress

    public init(ipProtocol: UInt8 = 0, startPort: UInt16 = 0, endPort: UInt16 = 65535, startAddress: IPAddress, endAddress: IPAddress) {
        self.ipProtocol = ipProtocol; self.startPort = startPort; self.endPort = endPort
        self.startAddress = startAddress; self.endAddress = endAddress
    }

    public var isIPv4: Bool { startAddress.isIPv4 }
    public var tsType: UInt8 { isIPv4 ? Self.TS_IPV4_ADDR_RANGE : Self.TS_IPV6_ADDR_RANGE }

    public static let anyV4 = TrafficSelector(startAddress: .anyV4, endAddress: .broadcastV4)
    public static let anyV6 = TrafficSelector(startAddress: .anyV6, endAddress: .allOnesV6)
    /// A selector for exactly one address, all ports and protocols.
    public static func single(_ a: IPAddress) -> TrafficSelector { TrafficSelector(startAddress: a, endAddress: a) }

    public func contains(_ a: IPAddress) -> Bool {
        a.bytes.count == startAddress.bytes.count && !(a < startAddress) && !(endAddress < a)
    }

    /// The intersection of two selectors of one family, or nil if disjoint (RFC 7296 §2.9 narrowing).
    public func intersection(_ o: TrafficSelector) -> TrafficSelector? {
        guard isIPv4 == o.isIPv4 else { return nil }
        guard ipProtocol == 0 || o.ipProtocol == 0 || ipProtocol == o.ipProtocol else { return nil }
        let s = max(startAddress, o.startAddress), e = min(endAddress, o.endAddress)
        let sp = max(startPort, o.startPort), ep = min(endPort, o.endPort)
        guard !(e < s), sp <= ep else { return nil }
        return TrafficSelector(ipProtocol: max(ipProtocol, o.ipProtocol), startPort: sp, endPort: ep, startAddress: s, endAddress: e)
    }

    public var description: String {
        let range = startAddress == endAddress ? "\(startAddress)" : "\(startAddress)-\(endAddress)"
        let ports = (startPort == 0 && endPort == 65535) ? "" : ":\(startPort)-\(endPort)"
        return range + (ipProtocol == 0 ? "" : "/proto\(ipProtocol)") + ports
    }
}

/// TSi / TSr payload body.
public struct TSPayload: Hashable, Sendable, CustomStringConvertible {
    public var selectors: [TrafficSelector]
    public init(_ selectors: [TrafficSelector]) { self.selectors = selectors }

    public init(parsing r: inout ByteReader) throws {
        let n = Int(try r.u8("TS number of selectors"))
        try r.skip(3, "TS reserved")
        selectors = []
        for _ in 0..<n {
            let start = r.offset
            let type = try r.u8("TS type")
            let proto = try r.u8("TS IP protocol")
            let len = Int(try r.u16("TS selector length"))
            let addrLen: Int
            switch type {
            case TrafficSelector.TS_IPV4_ADDR_RANGE: addrLen = 4
            case TrafficSelector.TS_IPV6_ADDR_RANGE: addrLen = 16
            default: throw WireError.invalidValue(what: "TS type", offset: start, detail: "\(type) not supported")
            }
            guard len == 8 + 2 * addrLen else {
                throw WireError.invalidValue(what: "TS selector length", offset: start + 2, detail: "\(len) for type \(type)")
            }
            let sp = try r.u16("TS start port"), ep = try r.u16("TS end port")
            let sa = try r.bytes(addrLen, "TS starting address"), ea = try r.bytes(addrLen, "TS ending address")
            selectors.append(TrafficSelector(ipProtocol: proto, startPort: sp, endPort: ep,
                                             startAddress: IPAddress(bytes: sa) ?? .anyV4, endAddress: IPAddress(bytes: ea) ?? .anyV4))
        }
        guard r.isAtEnd else { throw WireError.invalidValue(what: "TS payload", offset: r.offset, detail: "trailing bytes") }
    }

    public func serialize(into w: inout ByteWriter) {
        w.u8(UInt8(selectors.count)); w.zeros(3)
        for s in selectors {
            w.u8(s.tsType); w.u8(s.ipProtocol); w.u16(UInt16(8 + 2 * s.startAddress.bytes.count))
            w.u16(s.startPort); w.u16(s.endPort); w.append(s.startAddress.bytes); w.append(s.endAddress.bytes)
        }
    }
    public var description: String { selectors.map(\.description).joined(separator: ", ") }
}
