import AKA
import IKEv2
import Wire

/// The ePDG's established IKE SA under attack: our simulated phone (IKEInitiator) attaches
/// with EAP-AKA for real, then the fuzz input arrives as the phone's next request. The first
/// byte picks how: even = [exchange, message ID, first payload, chain] protected with the
/// SA's keys (INFORMATIONAL delete/MOBIKE, CREATE_CHILD_SA rekeys, a late IKE_AUTH); odd =
/// the rest raw with the SA's SPIs. Then the ePDG's timers run (DPD, rekey, lifetime).
let ikeEstablishedHarness = Harness(name: "ike-established", summary: "IKEResponder after a full EAP-AKA attach: protected/raw requests") { data in
    guard let mode = data.first else { return }
    let core = IKEWorld.responder()
    guard let sa = attach(core)?.sa else { fatalError("the simulated phone did not attach") }
    let rest = Array(data.dropFirst())
    if mode % 2 == 0 {
        sendProtected(core, sa, rest)
    } else {
        IKEWorld.deliver(core, IKEWorld.withSPIs(rest, spiI: sa.spiI, spiR: sa.spiR))
    }
    for t in [IKEWorld.now + 10, IKEWorld.now + 400, IKEWorld.now + 100_000] { _ = core.poll(now: t) }
}

/// Runs a whole attach between IKEInitiator and the ePDG in memory; returns the phone's side
/// of the IKE SA with the keys the ePDG reported when the SA came up, and every datagram
/// (who sent it, bytes) for the seed corpus.
func attach(_ core: IKEResponder) -> (sa: IKEWorld.Half, info: IKESAInfo, log: [(fromPhone: Bool, bytes: [UInt8])])? {
    let cfg = IKEInitiatorConfig(imsi: IKEWorld.imsi, mcc: "001", mnc: "01", ikeSuites: [IKEWorld.suite])
    guard let alg = try? Milenage(k: IKEWorld.k, opc: IKEWorld.opc),
          let usim = try? USIM(algorithm: .milenage(alg), lastSQN: try SQN(seq: 0, ind: 0)) else { return nil }
    let phone = IKEInitiator(config: cfg, usim: usim, local: IKEWorld.ue, remote: IKEWorld.epdg, now: IKEWorld.now)
    var toEPDG = phone.start(now: IKEWorld.now)
    var info: IKESAInfo?
    var log: [(fromPhone: Bool, bytes: [UInt8])] = []
    for _ in 0..<10 {
        var toPhone: [IKEAction] = []
        for case let .send(b, from, to) in toEPDG {
            log.append((true, b))
            let out = core.handle(datagram: b, from: from, to: to, now: IKEWorld.now)
            for case let .ikeSAEstablished(i) in out { info = i }
            toPhone += out
        }
        toEPDG = []
        for case let .send(b, from, to) in toPhone {
            log.append((false, b))
            toEPDG += phone.handle(datagram: b, from: from, to: to, now: IKEWorld.now)
        }
        if toEPDG.isEmpty { break }
    }
    guard let info, let p = try? SKProtection(suite: info.suite, keys: info.keys, isInitiator: true) else { return nil }
    return (IKEWorld.Half(spiI: info.spiI, spiR: info.spiR, protection: p), info, log)
}
