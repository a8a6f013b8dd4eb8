import Wire

/// The inner path without a TUN device: UDP inside the tunnel is delivered straight to
/// services of this process (the IMS on its P-CSCF addresses, the echo media ports) and
/// their replies are wrapped in IPv4/IPv6 + UDP and handed back to the ePDG. Lets
/// `vowifi demo` run unprivileged. Loop-confined, like the ePDG that owns it.
public final class InProcessInnerNetwork: InnerNetwork, @unchecked Sendable {
    // @unchecked: used on the ePDG's loop only.
    public struct Endpoint: Hashable, Sendable {
        public var address: [UInt8]
        public var port: UInt16
        public init(address: [UInt8], port: UInt16) { self.address = address; self.port = port }
    }

    /// A datagram that reached an in-process service, and how to answer it.
    public struct Datagram: Sendable {
        public var source: Endpoint
        public var destination: Endpoint
        public var payload: [UInt8]
        public var owner: String
    }

    public typealias Handler = (Datagram) -> Void
    private var handlers: [Endpoint: Handler] = [:]
    private var sendToUE: ([UInt8]) -> Void = { _ in }
    /// Packets that matched no service (counted, and shown in the summary).
    public private(set) var unrouted = 0
    /// Optional tap: every inner packet, both directions (for the capture's inner interface).
    public var tap: ((_ packet: [UInt8], _ fromUE: Bool, _ owner: String) -> Void)?

    public init() {}

    public func attach(sendToUE: @escaping ([UInt8]) -> Void) { self.sendToUE = sendToUE }

    /// Registers a UDP service on an inner address and port (e.g. the P-CSCF on 5060).
    public func listen(_ endpoint: Endpoint, _ handler: @escaping Handler) { handlers[endpoint] = handler }
    public func unlisten(_ endpoint: Endpoint) { handlers[endpoint] = nil }

    public func fromUE(_ packet: [UInt8], owner: String) {
        tap?(packet, true, owner)
        guard let u = IPPacket.parseUDP(packet) else { unrouted += 1; return }
        let dst = Endpoint(address: u.dst, port: u.dport)
        guard let h = handlers[dst] else { unrouted += 1; return }
        h(Datagram(source: Endpoint(address: u.src, port: u.sport), destination: dst, payload: u.payload, owner: owner))
    }

    /// Sends a UDP payload from an in-process service to a UE's inner address.
    public func send(_ payload: [UInt8], from: Endpoint, to: Endpoint, owner: String = "") {
        let packet: [UInt8]
        if from.address.count == 4 && to.address.count == 4 {
            packet = IPPacket.udp4(src: from.address, dst: to.address, sport: from.port, dport: to.port, payload: payload)
        } else if from.address.count == 16 && to.address.count == 16 {
            packet = IPPacket.udp6(src: from.address, dst: to.address, sport: from.port, dport: to.port, payload: payload)
        } else { return }
        tap?(packet, false, owner)
        sendToUE(packet)
    }
}
