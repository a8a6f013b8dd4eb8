import Wire

/// CP payload (RFC 7296 §3.15, TS 24.302 for P-CSCF). Attribute values are kept as bytes;
/// typed accessors decode the ones an ePDG uses. Private types (16384–32767) stay raw.
public struct CPPayload: Hashable, Sendable {
    public static let CFG_REQUEST: UInt8 = 1
    public static let CFG_REPLY: UInt8 = 2
    public static let CFG_SET: UInt8 = 3
    public static let CFG_ACK: UInt8 = 4

    public struct Attribute: Hashable, Sendable, CustomStringConvertible {
        public var type: UInt16
        public var value: [UInt8]
        public init(_ type: UInt16, _ value: [UInt8] = []) { self.type = type; self.value = value }

        public static let INTERNAL_IP4_ADDRESS: UInt16 = 1
        public static let INTERNAL_IP4_NETMASK: UInt16 = 2
        public static let INTERNAL_IP4_DNS: UInt16 = 3
        public static let INTERNAL_IP4_NBNS: UInt16 = 4
        public static let INTERNAL_IP4_DHCP: UInt16 = 6
        public static let APPLICATION_VERSION: UInt16 = 7
        public static let INTERNAL_IP6_ADDRESS: UInt16 = 8
        public static let INTERNAL_IP6_DNS: UInt16 = 10
        public static let INTERNAL_IP4_SUBNET: UInt16 = 13
        public static let SUPPORTED_ATTRIBUTES: UInt16 = 14
        public static let INTERNAL_IP6_SUBNET: UInt16 = 15
        public static let P_CSCF_IP4_ADDRESS: UInt16 = 20
        public static let P_CSCF_IP6_ADDRESS: UInt16 = 21

        public var isPrivate: Bool { type >= 16384 }

        /// The address carried by an IPv4 attribute (4 bytes) or an IPv6 one (16, or 17 with prefix length).
        public var address: IPAddress? {
            if value.count == 4 { return IPAddress(bytes: value) }
            if value.count == 16 || value.count == 17 { return IPAddress(bytes: Array(value.prefix(16))) }
            return nil
        }

        public var name: String {
            switch type {
            case 1: "INTERNAL_IP4_ADDRESS"; case 2: "INTERNAL_IP4_NETMASK"; case 3: "INTERNAL_IP4_DNS"
            case 4: "INTERNAL_IP4_NBNS"; case 6: "INTERNAL_IP4_DHCP"; case 7: "APPLICATION_VERSION"
            case 8: "INTERNAL_IP6_ADDRESS"; case 10: "INTERNAL_IP6_DNS"; case 13: "INTERNAL_IP4_SUBNET"
            case 14: "SUPPORTED_ATTRIBUTES"; case 15: "INTERNAL_IP6_SUBNET"
            case 20: "P_CSCF_IP4_ADDRESS"; case 21: "P_CSCF_IP6_ADDRESS"
            default: "ATTR(\(type))"
            }
        }
        public var description: String {
            if value.isEmpty { return name }
            if let a = address { return "\(name)=\(a)" + (value.count == 17 ? "/\(value[16])" : "") }
            return "\(name)=\(value.hexString)"
        }
    }

    public var cfgType: UInt8
    public var attributes: [Attribute]

    public init(cfgType: UInt8, attributes: [Attribute]) { self.cfgType = cfgType; self.attributes = attributes }

    public init(parsing r: inout ByteReader) throws {
        cfgType = try r.u8("CP CFG type")
        try r.skip(3, "CP reserved")
        attributes = []
        while !r.isAtEnd {
            let t = try r.u16("CP attribute type") & 0x7fff
            let l = Int(try r.u16("CP attribute length"))
            attributes.append(Attribute(t, try r.bytes(l, "CP attribute value")))
        }
    }

    public func serialize(into w: inout ByteWriter) {
        w.u8(cfgType); w.zeros(3)
        for a in attributes { w.u16(a.type & 0x7fff); w.u16(UInt16(a.value.count)); w.append(a.value) }
    }

    public func has(_ type: UInt16) -> Bool { attributes.contains { $0.type == type } }
    public func values(_ type: UInt16) -> [[UInt8]] { attributes.filter { $0.type == type }.map(\.value) }
}
