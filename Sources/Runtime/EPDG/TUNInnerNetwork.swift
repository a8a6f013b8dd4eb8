import Config

/// The inner path through a TUN device: decapsulated packets go to the kernel, which
/// routes them to the IMS (bound on the P-CSCF addresses of the device) and anything else
/// on the PDN, over UDP or TCP; what the kernel routes to a UE pool comes back here.
public final class TUNInnerNetwork: InnerNetwork, @unchecked Sendable {
    // @unchecked: loop-confined (the device is registered on the ePDG's loop).
    public let name: String
    private var device: TUNDevice?
    private var sendToUE: ([UInt8]) -> Void = { _ in }
    public private(set) var writeFailures = 0

    /// Opens the device on `loop` and configures it from the PDNs: each PDN's P-CSCF/DNS
    /// gateway addresses on the device, and a route for each pool toward it.
    public init(name: String, pdns: [PDNConfig], on loop: EventLoop) throws(RuntimeError) {
        self.name = name
        var tunRef: TUNDevice? = nil
        let dev = try TUNDevice.open(name: name, on: loop) { [weak self] _, packet in
            self?.sendToUE(Array(packet))
        }
        tunRef = dev
        device = tunRef
        var addresses: [String] = [], routes: [String] = []
        for pdn in pdns {
            for a in pdn.pCSCFAddr where !addresses.contains(where: { $0.hasPrefix(a.text + "/") }) {
                addresses.append(a.isIPv6 ? "\(a.text)/128" : "\(a.text)/32")
            }
            if let f = pdn.firstIPAddr, let l = pdn.lastIPAddr { routes += Self.v4Routes(f, l) }
            if let f = pdn.firstIPv6Prefix { routes.append("\(Self.prefix48(f))/48") }
        }
        try TUNDevice.configure(name: dev.name, addresses: addresses, routes: routes)
    }

    public func attach(sendToUE: @escaping ([UInt8]) -> Void) { self.sendToUE = sendToUE }

    public func fromUE(_ packet: [UInt8], owner: String) {
        if device?.write(packet) != true { writeFailures += 1 }
    }

    public func close() { device?.close(); device = nil }

    /// The /24s covering a pool (callbox pools are usually one /24).
    static func v4Routes(_ f: ConfigIPAddress, _ l: ConfigIPAddress) -> [String] {
        guard let a = f.ipv4Value, let b = l.ipv4Value, a <= b else { return [] }
        var out: [String] = []
        var net = a & 0xFFFF_FF00
        while net <= b & 0xFFFF_FF00 {
            out.append("\(net >> 24).\((net >> 16) & 0xFF).\((net >> 8) & 0xFF).0/24")
            if net >= 0xFFFF_FF00 { break }
            net += 0x100
        }
        return out
    }

    static func prefix48(_ a: ConfigIPAddress) -> String {
        let b = a.bytes
        let groups = stride(from: 0, to: 6, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::"
    }
}
