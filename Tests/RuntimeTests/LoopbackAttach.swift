import AKA
import Foundation
import IKEv2
import Wire

/// The phone side of the runtime tests: an IKEv2 initiator on its own loopback socket,
/// attaching to an ePDG at `ikePort`/`natTPort` (by default with the demo Milenage SIM
/// 001010000000001).
struct LoopbackAttach {
    let sock: LoopbackUDP
    let ue: IKEInitiator
    let child: ChildSADescription?

    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")

    /// Runs the attach until the Child SA is installed or `timeout` passes.
    static func run(host: String = "127.0.0.1", port: UInt16 = 0, epdgHost: String = "127.0.0.1",
                    ikePort: UInt16, natTPort: UInt16, forceUDPEncapsulation: Bool = false, timeout: Double = 10,
                    imsi: String = "001010000000001", k: [UInt8] = LoopbackAttach.k, opc: [UInt8] = LoopbackAttach.opc,
                    pdnUsername: String? = nil, pdnPassword: String? = nil, imei: String? = nil) throws -> LoopbackAttach {
        let sock = try LoopbackUDP(host: host, port: port, peerHost: epdgHost)
        let ueEnd = IKEEndpoint(IPAddress(host)!, sock.port)
        let epdgIP = IPAddress(epdgHost)!
        var cfg = IKEInitiatorConfig(imsi: imsi, mcc: "001", mnc: "01")
        cfg.natTraversalPort = natTPort
        cfg.forceUDPEncapsulation = forceUDPEncapsulation
        cfg.pdnUsername = pdnUsername; cfg.pdnPassword = pdnPassword
        cfg.deviceIdentity = imei.map { DeviceIdentity(kind: .imei, digits: $0) }
        let usim = try USIM(algorithm: .milenage(try Milenage(k: k, opc: opc)))
        let ue = IKEInitiator(config: cfg, usim: usim, local: ueEnd, remote: IKEEndpoint(epdgIP, ikePort), now: 0)
        var child: ChildSADescription?
        func perform(_ actions: [IKEAction]) {
            for a in actions {
                switch a {
                case let .send(bytes, _, to): sock.send(to.port == natTPort ? [0, 0, 0, 0] + bytes : bytes, port: to.port)
                case let .installChildSA(d): child = d
                default: break
                }
            }
        }
        perform(ue.start(now: 0))
        let deadline = Date().addingTimeInterval(timeout)
        while child == nil, !ue.isDead, Date() < deadline {
            guard let (d, from) = sock.receive(timeout: 0.5) else { perform(ue.poll(now: Date().timeIntervalSince1970)); continue }
            let msg = from == natTPort ? Array(d.dropFirst(4)) : d
            perform(ue.handle(datagram: msg, from: IKEEndpoint(epdgIP, from), to: ueEnd, now: 1))
        }
        return LoopbackAttach(sock: sock, ue: ue, child: child)
    }
}
