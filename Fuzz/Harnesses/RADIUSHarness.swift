import AAA
import Crypto
import HSS
import Wire

/// RADIUS (Sources/AAA/RADIUS): the packet codec must give back exactly the Length-bounded
/// bytes it parsed; the sans-I/O server gets the input as a datagram from a known client.
/// Mode byte: 0 raw; 1 re-signed with the client's secret (so it passes the
/// Message-Authenticator check and reaches EAP); 2 also after an EAP-Response/Identity
/// started an EAP-AKA session, with that session's State, so it meets the challenge code.
let radiusHarness = Harness(name: "radius", summary: "RADIUS packet round trip, RADIUSServer.handle raw/signed/in-session") { data in
    guard let mode = data.first else { return }
    let rest = Array(data.dropFirst())
    if let p = try? RADIUSPacket(parsing: rest) {
        let length = Int(rest[2]) << 8 | Int(rest[3])
        require((try? p.serialize()) == Array(rest[0..<length]), "RADIUS packet does not re-encode to the bytes it came from")
        _ = (p.eapMessage, p.userName, p.nasIdentifier, p.callingStationId, p.calledStationId, p.framedMTU, p.state, p.nasIPAddress)
        _ = RADIUSAuthenticator.mppeKey(in: p, vendorType: 17, secret: FuzzRADIUS.secret, requestAuthenticator: p.authenticator)
    }
    let server = FuzzRADIUS.server()
    switch mode % 3 {
    case 0:
        _ = server.handle(datagram: rest, from: FuzzRADIUS.ap, now: 0)
    case 1:
        guard let p = try? RADIUSPacket(parsing: rest), let b = FuzzRADIUS.signed(p) else { return }
        _ = server.handle(datagram: b, from: FuzzRADIUS.ap, now: 0)
    default:
        guard var p = try? RADIUSPacket(parsing: rest) else { return }
        let identity = EAPIdentity.response("0\(FuzzRADIUS.imsi)@wlan.mnc001.mcc001.3gppnetwork.org")
        guard let first = FuzzRADIUS.signed(RADIUSPacket(code: .accessRequest, identifier: 1, attributes:
                [RADIUSAttribute(type: RADIUSAttributeType.userName, string: "0\(FuzzRADIUS.imsi)")] + RADIUSPacket.eapMessageAttributes(identity))),
              let reply = server.handle(datagram: first, from: FuzzRADIUS.ap, now: 0).reply,
              let state = (try? RADIUSPacket(parsing: reply))?.state else { fatalError("EAP-AKA over RADIUS did not start") }
        p.attributes.removeAll { $0.type == RADIUSAttributeType.state }
        p.attributes.append(RADIUSAttribute(type: RADIUSAttributeType.state, value: state))
        guard let b = FuzzRADIUS.signed(p) else { return }
        _ = server.handle(datagram: b, from: FuzzRADIUS.ap, now: 1)
        server.expire(now: 1000)
    }
}

enum FuzzRADIUS {
    static let imsi = "001010000000001"
    static let secret = Array("s3cret".utf8)
    static let ap = RADIUSPeer(address: IPAddress("198.51.100.10")!, port: 40000)

    static func server() -> RADIUSServer {
        let hss = try! HSS(subscribers: [Subscriber(imsi: imsi, algorithm: .milenage, k: [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc"),
                                                    opc: [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf"))])
        return RADIUSServer(config: RADIUSServerConfig(clients: [RADIUSClient(address: ap.address, secret: secret, name: "ap1")]), hss: hss)
    }

    /// The packet with a Message-Authenticator computed with the client's secret.
    static func signed(_ packet: RADIUSPacket) -> [UInt8]? {
        var p = packet
        p.attributes.removeAll { $0.type == RADIUSAttributeType.messageAuthenticator }
        p.attributes.append(RADIUSAttribute(type: RADIUSAttributeType.messageAuthenticator, value: [UInt8](repeating: 0, count: 16)))
        return try? RADIUSAuthenticator.signRequest(p, secret: secret, authenticator: packet.authenticator)
    }
}

/// EAP-Response/Identity (RFC 3748 §5.1).
enum EAPIdentity {
    static func response(_ identity: String) -> [UInt8] {
        let n = 5 + identity.utf8.count
        return [2, 0, UInt8(n >> 8), UInt8(n & 0xff), 1] + Array(identity.utf8)
    }
}
