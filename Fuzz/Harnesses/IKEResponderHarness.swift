import IKEv2
import Wire

/// The ePDG's sans-I/O IKEv2 responder (IKEResponder.handle) fed attacker datagrams. The first
/// byte picks the state: 0 a fresh responder gets the rest as a datagram; 1 and 2 first run
/// IKE_SA_INIT as a hand-made phone, then 1 sends the rest raw (SPIs patched to the new SA)
/// and 2 decodes the rest as [exchange, message ID, first payload, payload chain] and sends
/// it protected with the phone's keys, so the IKE_AUTH / INFORMATIONAL code reads it
/// decrypted. Afterwards the timers run, and the SA must still answer or be gone cleanly.
let ikeResponderHarness = Harness(name: "ike-responder", summary: "IKEResponder.handle: fresh, after IKE_SA_INIT raw, after IKE_SA_INIT protected") { data in
    guard let mode = data.first else { return }
    let rest = Array(data.dropFirst())
    let core = IKEWorld.responder()
    switch mode % 3 {
    case 0:
        IKEWorld.deliver(core, rest)
    case 1:
        guard let half = IKEWorld.initExchange(core) else { fatalError("IKE_SA_INIT with the ePDG failed") }
        IKEWorld.deliver(core, IKEWorld.withSPIs(rest, spiI: half.spiI, spiR: half.spiR))
    default:
        guard let half = IKEWorld.initExchange(core) else { fatalError("IKE_SA_INIT with the ePDG failed") }
        sendProtected(core, half, rest)
    }
    // Retransmission timers, half-open expiry, DPD: nothing may trap on the state left behind.
    for t in [IKEWorld.now + 5, IKEWorld.now + 40, IKEWorld.now + 4000] { _ = core.poll(now: t) }
}

/// [exchange selector, message ID, first payload type, chain…] protected under the SA's keys.
func sendProtected(_ core: IKEResponder, _ half: IKEWorld.Half, _ d: [UInt8], response: Bool = false) {
    guard d.count >= 3 else { return }
    var r = ByteReader(Array(d.dropFirst(3)))
    guard let payloads = try? Payload.parseChain(first: PayloadType(rawValue: d[2]), &r) else { return }
    let header = IKEHeader(spiI: half.spiI, spiR: half.spiR, exchangeType: IKEWorld.exchange(d[0]), isInitiator: true,
                           isResponse: response, messageID: UInt32(d[1] & 0x0f))
    guard let wire = try? half.protection.protect(header: header, payloads: payloads) else { return }
    IKEWorld.deliver(core, wire)
}
