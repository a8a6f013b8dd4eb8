import Foundation
import IKEv2
import Wire

/// The phone side's pcapng (`vowifi ue --capture`): every outer datagram the phones sent or
/// received, as IP/UDP packets on an "outer" interface, with the IMSI as packet comment.
final class PhoneCapture: @unchecked Sendable {
    // @unchecked: written from the phone loop only; PcapNGWriter locks its file anyway.
    private let writer: PcapNGWriter
    private let outer: Int

    init(path: String) throws {
        writer = try PcapNGWriter(path: path)
        outer = writer.addInterface(name: "outer", linkType: .raw)
    }

    func record(sent: Bool, local: IKEEndpoint, remote: IKEEndpoint, payload: [UInt8], imsi: String? = nil) {
        let (src, dst) = sent ? (local, remote) : (remote, local)
        guard src.address.isIPv4 == dst.address.isIPv4 else { return }
        let packet = src.address.isIPv4
            ? IPPacket.udp4(src: src.address.bytes, dst: dst.address.bytes, sport: src.port, dport: dst.port, payload: payload)
            : IPPacket.udp6(src: src.address.bytes, dst: dst.address.bytes, sport: src.port, dport: dst.port, payload: payload)
        writer.write(interface: outer, packet: packet, comment: imsi)
    }

    func close() { writer.close() }
}
