import AKA
import Crypto
import IKEv2
import Wire

/// The ePDG the IKE harnesses attack, built as Tests/IKEv2Tests/AttachHarness builds it: one
/// Milenage subscriber (TS 35.208 test set 1), an "ims" APN, documentation addresses.
enum IKEWorld {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010123456789"
    static let ue = IKEEndpoint(IPAddress(v4: 203, 0, 113, 50), 500)
    static let epdg = IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), 500)
    static let now = 1000.0
    /// The suite the hand-made phone offers (ECP-256 keeps each iteration cheap).
    static let suite = IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128,
                                prf: .PRF_HMAC_SHA2_256, dhGroup: .ecp256)

    static func responder() -> IKEResponder {
        let policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!],
                                                         pcscfAddresses: [IPAddress("198.51.100.1")!, IPAddress("2001:db8::5")!])])
        return IKEResponder(policy: policy, vectors: FuzzHSS(), pool: FuzzPool())
    }

    static func sends(_ actions: [IKEAction]) -> [[UInt8]] {
        actions.compactMap { if case let .send(b, _, _) = $0 { b } else { nil } }
    }

    /// A phone's side of a finished IKE_SA_INIT: the SPIs and its SK protection.
    struct Half {
        var spiI: UInt64
        var spiR: UInt64
        var protection: SKProtection
    }

    /// Runs IKE_SA_INIT as a hand-made phone (fixed SPIi and Ni) and derives the phone's keys
    /// from the ePDG's answer (RFC 7296 §2.14), so the next message can be protected.
    static func initExchange(_ epdgCore: IKEResponder) -> Half? {
        let spiI: UInt64 = 0x1122_3344_5566_7788
        let ni = [UInt8](repeating: 0x4e, count: 32)
        guard let dh = try? DHKeyPair(group: suite.dhGroup) else { return nil }
        let sa = SAPayload(proposals: [Proposal(number: 1, protocolID: .IKE, transforms: suite.transforms)])
        let request = IKEMessage(header: IKEHeader(spiI: spiI, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: true,
                                                   isResponse: false, messageID: 0),
                                 payloads: [.sa(sa), .ke(KEPayload(dhGroup: suite.dhGroup.rawValue, keyData: dh.publicValue)), .nonce(ni)])
        guard let reply = sends(epdgCore.handle(datagram: request.serialize(), from: ue, to: epdg, now: now)).first,
              let m = try? IKEMessage(parsing: reply), let ke = m.payloads.ke, let nr = m.payloads.nonce,
              let shared = try? dh.sharedSecret(peerPublicValue: ke.keyData) else { return nil }
        let seed = KeySchedule.skeyseed(prf: suite.prf, ni: ni, nr: nr, sharedSecret: shared)
        guard let keys = try? KeySchedule.ikeKeys(suite: suite, skeyseed: seed, ni: ni, nr: nr, spiI: spiI, spiR: m.header.spiR),
              let p = try? SKProtection(suite: suite, keys: keys, isInitiator: true) else { return nil }
        return Half(spiI: spiI, spiR: m.header.spiR, protection: p)
    }

    /// Exchange types a fuzz byte picks from.
    static func exchange(_ b: UInt8) -> ExchangeType {
        [ExchangeType.IKE_AUTH, .CREATE_CHILD_SA, .INFORMATIONAL, .IKE_SA_INIT][Int(b) % 4]
    }

    /// Overwrites the SPIs of a raw datagram so it reaches the SA under test.
    static func withSPIs(_ d: [UInt8], spiI: UInt64, spiR: UInt64) -> [UInt8] {
        guard d.count >= 16 else { return d }
        var out = d
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: spiI >> UInt64(56 - 8 * i))
            out[8 + i] = UInt8(truncatingIfNeeded: spiR >> UInt64(56 - 8 * i))
        }
        return out
    }

    /// Delivers one datagram and also runs the ePDG's timers past the half-open and DPD times.
    static func deliver(_ core: IKEResponder, _ d: [UInt8], at t: Double = now + 1) {
        _ = core.handle(datagram: d, from: ue, to: epdg, now: t)
    }
}

/// The HSS of the IKE harnesses: Milenage vectors with a rising SQN, resync from AUTS.
final class FuzzHSS: AuthenticationVectorSource {
    var seq: UInt64 = 10
    let algorithm = AuthenticationAlgorithm.milenage(try! Milenage(k: IKEWorld.k, opc: IKEWorld.opc))
    func vector(imsi: String) throws -> AuthenticationVector {
        guard imsi == IKEWorld.imsi else { throw AuthenticationVectorError.userUnknown }
        seq += 1
        return try algorithm.vector(rand: SecureRandom.bytes(16), sqn: try SQN(seq: seq, ind: 0), amf: [0x00, 0x00])
    }
    func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard imsi == IKEWorld.imsi else { throw AuthenticationVectorError.userUnknown }
        seq = try AUTS.recoverSQN(algorithm: algorithm, rand: rand, auts: auts).seq()
    }
}

/// Inner addresses from 198.51.100.0/24 and 2001:db8::/32.
final class FuzzPool: InnerAddressPool {
    var next: UInt8 = 2
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        defer { next &+= 1 }
        return InnerAddresses(ipv4: wantIPv4 ? IPAddress(v4: 198, 51, 100, next) : nil,
                              ipv6: wantIPv6 ? IPAddress("2001:db8:0:\(next)::1") : nil, ipv6PrefixLength: 64)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) {}
}
