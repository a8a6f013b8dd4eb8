import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// A minimal HSS: Milenage subscribers with an SQN counter (IND 0), resync from AUTS.
final class FakeHSS: AuthenticationVectorSource {
    var subscribers: [String: (alg: AuthenticationAlgorithm, seq: UInt64)] = [:]
    var vectorsIssued = 0
    var resyncs = 0
    func add(imsi: String, k: [UInt8], opc: [UInt8], seq: UInt64) throws {
        subscribers[imsi] = (.milenage(try Milenage(k: k, opc: opc)), seq)
    }
    func vector(imsi: String) throws -> AuthenticationVector {
        guard var s = subscribers[imsi] else { throw AuthenticationVectorError.userUnknown }
        s.seq += 1
        subscribers[imsi] = s
        vectorsIssued += 1
        return try s.alg.vector(rand: SecureRandom.bytes(16), sqn: try SQN(seq: s.seq, ind: 0), amf: [0x00, 0x00])
    }
    func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard let s = subscribers[imsi] else { throw AuthenticationVectorError.userUnknown }
        let ms = try AUTS.recoverSQN(algorithm: s.alg, rand: rand, auts: auts)
        subscribers[imsi] = (s.alg, ms.seq())
        resyncs += 1
    }
}

final class FakePool: InnerAddressPool {
    var next: UInt8 = 2
    var inUse = 0
    var releases = 0
    var fail = false
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        if fail { throw AuthenticationVectorError.failure("pool exhausted") }
        defer { next += 1 }
        inUse += 1
        return InnerAddresses(ipv4: wantIPv4 ? IPAddress(v4: 198, 51, 100, next) : nil,
                              ipv6: wantIPv6 ? IPAddress("2001:db8:0:\(next)::1") : nil, ipv6PrefixLength: 64)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) { inUse -= 1; releases += 1 }
}

/// Runs a phone and the ePDG against each other in memory.
final class AttachHarness {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")
    static let imsi = "001010123456789"

    let ueEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, 50), 500)
    let epdgEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), 500)
    let hss = FakeHSS()
    let pool = FakePool()
    var policy: IKEResponderPolicy
    var signer: IKEAuthSigner?
    lazy var epdg = IKEResponder(policy: policy, vectors: hss, pool: pool, signer: signer)
    var ue: IKEInitiator!
    var ueActions: [IKEAction] = []
    var epdgActions: [IKEAction] = []
    var toEPDG: [[UInt8]] = []
    var toUE: [[UInt8]] = []
    var now = 1000.0

    init(policy: IKEResponderPolicy? = nil) throws {
        self.policy = policy ?? IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!, IPAddress("2001:db8::53")!],
                                                                  pcscfAddresses: [IPAddress("198.51.100.1")!, IPAddress("2001:db8::5")!])])
        try hss.add(imsi: Self.imsi, k: Self.k, opc: Self.opc, seq: 10)
    }

    func makeUE(_ config: IKEInitiatorConfig? = nil, k: [UInt8] = AttachHarness.k, lastSeq: UInt64 = 0) throws {
        let cfg = config ?? IKEInitiatorConfig(imsi: Self.imsi, mcc: "001", mnc: "01")
        let usim = try USIM(algorithm: .milenage(try Milenage(k: k, opc: Self.opc)), lastSQN: try SQN(seq: lastSeq, ind: 0))
        ue = IKEInitiator(config: cfg, usim: usim, local: ueEnd, remote: epdgEnd, now: now)
    }

    /// With `nat`, the ePDG sees the phone at 198.51.100.77 with mapped ports (500→40000, 4500→40001).
    var nat = false
    func seen(_ e: IKEEndpoint) -> IKEEndpoint {
        nat ? IKEEndpoint(IPAddress(v4: 198, 51, 100, 77), e.port == 500 ? 40000 : 40001) : e
    }
    func unseen(_ e: IKEEndpoint) -> IKEEndpoint {
        nat ? IKEEndpoint(ueEnd.address, e.port == 40000 ? 500 : 4500) : e
    }
    var packetsToEPDG: [(bytes: [UInt8], from: IKEEndpoint, to: IKEEndpoint)] = []
    var packetsToUE: [(bytes: [UInt8], from: IKEEndpoint, to: IKEEndpoint)] = []

    func route(_ actions: [IKEAction], fromUE: Bool) {
        for a in actions {
            if case let .send(bytes, from, to) = a {
                if fromUE { packetsToEPDG.append((bytes, seen(from), to)) } else { packetsToUE.append((bytes, from, unseen(to))) }
            }
        }
        for a in actions {
            if case let .send(bytes, _, _) = a { if fromUE { toEPDG.append(bytes) } else { toUE.append(bytes) } }
        }
        if fromUE { ueActions += actions } else { epdgActions += actions }
    }

    /// Delivers messages until nobody has anything to say; those `drop` returns true for
    /// (given the bytes and whether they go to the ePDG) are lost on the way.
    func run(start: Bool = true, drop: ((_ bytes: [UInt8], _ toEPDG: Bool) -> Bool)? = nil) {
        if start { route(ue.start(now: now), fromUE: true) }
        var rounds = 0
        while (!toEPDG.isEmpty || !toUE.isEmpty) && rounds < 100 {
            rounds += 1
            now += 0.01
            toEPDG = []; toUE = []
            let a = packetsToEPDG; packetsToEPDG = []
            for m in a where drop?(m.bytes, true) != true { route(epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: now), fromUE: false) }
            let b = packetsToUE; packetsToUE = []
            for m in b where drop?(m.bytes, false) != true { route(ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: now), fromUE: true) }
        }
    }

    /// An attached phone whose ePDG rekeys the IKE SA at 90% of `ikeLifetime`, actions cleared.
    static func attached(ikeLifetime: Int = 100, espLifetime: Int = 300) throws -> AttachHarness {
        var policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!],
                                                         pcscfAddresses: [IPAddress("198.51.100.1")!])])
        policy.ikeLifetime = ikeLifetime
        policy.espLifetime = espLifetime
        let h = try AttachHarness(policy: policy)
        try h.makeUE()
        h.run()
        XCTAssertEqual(h.ue.state, .established)
        h.ueActions = []; h.epdgActions = []
        return h
    }

    static func children(_ actions: [IKEAction]) -> [ChildSADescription] {
        actions.compactMap { if case let .installChildSA(c) = $0 { c } else { nil } }
    }
    static func logs(_ actions: [IKEAction]) -> [String] {
        actions.compactMap { if case let .log(l) = $0 { l.message } else { nil } }
    }
    static func sends(_ actions: [IKEAction]) -> [[UInt8]] {
        actions.compactMap { if case let .send(b, _, _) = $0 { b } else { nil } }
    }
}
