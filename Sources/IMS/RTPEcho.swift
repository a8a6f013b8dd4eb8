/// The loopback media of an echo call, sans-I/O: every RTP or RTCP datagram the caller sends
/// to our media port is sent back unchanged from that port. The runtime owns the sockets.
public struct RTPEcho: Sendable {
    public enum Kind: Sendable { case rtp, rtcp }

    /// The peer address announced in SDP: packets from other hosts are dropped, so the echo
    /// port cannot be used to reflect traffic at a third party.
    public let expectedAddress: String
    public private(set) var rtpPackets = 0
    public private(set) var rtcpPackets = 0
    public private(set) var dropped = 0

    public init(expectedAddress: String) { self.expectedAddress = expectedAddress }

    /// Returns the datagram to send back and where (the packet's own source: symmetric RTP,
    /// RFC 4961), or nil when the packet is dropped (not RTP version 2, too short, wrong host).
    public mutating func receive(_ datagram: [UInt8], from address: String, port: UInt16, kind: Kind) -> (bytes: [UInt8], address: String, port: UInt16)? {
        let minLength = kind == .rtp ? 12 : 8
        guard datagram.count >= minLength, datagram[0] >> 6 == 2, address.lowercased() == expectedAddress.lowercased() else {
            dropped += 1
            return nil
        }
        if kind == .rtp { rtpPackets += 1 } else { rtcpPackets += 1 }
        return (datagram, address, port)
    }
}
