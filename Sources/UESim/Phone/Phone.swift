import AKA
import Crypto
import ESP
import IKEv2
import SIP
import Wire

/// One simulated UE: attaches over SWu (IKEv2 initiator, EAP-AKA with the software USIM),
/// installs the Child SA, registers to IMS through the tunnel, subscribes to its reg event,
/// calls the echo number, sends RTP and checks the echo, hangs up and deletes the IKE SA.
/// Sans-I/O: the host feeds datagrams and time and performs the returned `PhoneAction`s.
/// Not thread-safe (it owns an `IKEInitiator`); drive it from one thread or event loop.
public final class Phone {
    public let config: PhoneConfig
    public internal(set) var events: [PhoneEvent] = []
    public internal(set) var finished: Bool? = nil

    var ike: IKEInitiator?
    var espIn = ESPDataPlane()
    var espOut: ESPSecurityAssociation?
    public internal(set) var child: ChildSADescription?
    /// CFG_REPLY: inner address and P-CSCF.
    public internal(set) var innerAddress: IPAddress?
    public internal(set) var pcscf: IPAddress?
    public internal(set) var ua: SIPUserAgent?
    public internal(set) var rtp: RTPStream?
    public internal(set) var media: RemoteMedia?

    /// Step in progress and when it started.
    var current: (step: PhoneStep, start: Double)?
    var ikeWake: Double?
    var mediaEndAt: Double?
    var ipID: UInt16 = 0
    var lastIKEState: IKEInitiator.State = .idle
    /// The digest algorithms the IMS challenged with (for the REGISTER line of the ladder).
    var challenges: [String] = []
    /// The last EAP warning of the phone's own side (AUTN MAC failure, bad AT_MAC), kept to
    /// explain the EAP-Failure that follows it.
    var eapProblem: String?

    public init(config: PhoneConfig) { self.config = config }

    /// Still handling traffic: the scenario is running, or it finished with the tunnel kept up
    /// (`teardown: false`), so the phone stays registered and answers calls.
    public var isActive: Bool { finished == nil || (ike.map { !$0.isDead } ?? false) }

    /// Everything passed so far (notes excluded).
    public var allPassed: Bool { events.allSatisfy { $0.step == .note || $0.verdict.passed } }

    // MARK: entry points

    public func start(now: Double) -> [PhoneAction] {
        var out: [PhoneAction] = []
        let usim: USIM
        do { usim = try config.sim.makeUSIM() } catch { return out + fail("\(error)", now: now) }
        let initiator = IKEInitiator(config: config.initiatorConfig, usim: usim, local: config.local, remote: config.epdg, now: now)
        ike = initiator
        begin(.ikeSAInit, now)
        out += handleIKE(initiator.start(now: now), now: now)
        return out + wake()
    }

    /// A UDP payload (or raw ESP packet) that arrived from the ePDG on `to` (the phone's endpoint).
    public func receive(_ payload: [UInt8], from: IKEEndpoint, to: IKEEndpoint, now: Double) -> [PhoneAction] {
        guard isActive else { return [] }
        var out: [PhoneAction] = []
        if from.port != config.natTPort {
            out += ikeDatagram(payload, from: from, to: to, now: now)
        } else {
            for r in espIn.receive(udpPayload: payload) {
                switch r {
                case let .ike(message): out += ikeDatagram(message, from: from, to: to, now: now)
                case let .deliver(inner, _, _): out += innerPacket(inner, now: now)
                case .keepalive, .dropped, .rekeyNeeded: break
                }
            }
        }
        return out + wake()
    }

    /// A raw ESP packet (IP protocol 50, no UDP) from the ePDG.
    public func receiveESP(_ packet: [UInt8], now: Double) -> [PhoneAction] {
        guard isActive else { return [] }
        var out: [PhoneAction] = []
        for case let .deliver(inner, _, _) in espIn.receive(udpPayload: packet) { out += innerPacket(inner, now: now) }
        return out + wake()
    }

    /// Runs whatever is due: IKE and SIP retransmissions, RTP packets, step timeouts.
    public func timer(now: Double) -> [PhoneAction] {
        guard isActive else { return [] }
        var out: [PhoneAction] = []
        if let ike, let w = ikeWake, w <= now { ikeWake = nil; out += handleIKE(ike.poll(now: now), now: now) }
        if ua != nil, let d = ua?.nextDeadline, d <= now, var u = ua {
            let o = u.tick(now: now); ua = u
            out += handleSIP(o, now: now)
        }
        out += mediaTick(now: now)
        if finished == nil, let c = current, now >= c.start + config.stepTimeout {
            out += fail("\(c.step.rawValue) took more than \(Int(config.stepTimeout)) s", now: now)
        }
        return out + wake()
    }

    /// When `timer(now:)` is next needed.
    public var nextWake: Double? {
        guard isActive else { return nil }
        return [ikeWake, ua?.nextDeadline, rtp?.nextDeadline, mediaEndAt, current.map { $0.start + config.stepTimeout }].compactMap { $0 }.min()
    }

    func wake() -> [PhoneAction] { nextWake.map { [.wake(at: $0)] } ?? [] }

    // MARK: steps

    func begin(_ step: PhoneStep, _ now: Double) { current = (step, now) }

    func record(_ e: PhoneEvent) -> [PhoneAction] {
        events.append(e)
        return [.event(e)]
    }

    /// Ends the current step with a verdict and starts `next` (if any).
    func pass(_ detail: String = "", now: Double, next: PhoneStep? = nil) -> [PhoneAction] {
        guard let c = current else { return [] }
        current = next.map { ($0, now) }
        return record(PhoneEvent(step: c.step, start: c.start, end: now, verdict: .pass, detail: detail))
    }

    /// Fails the current step, tears the tunnel down and finishes.
    func fail(_ reason: String, now: Double) -> [PhoneAction] {
        guard finished == nil else { return [] }
        let step = current?.step ?? .note
        let out = record(PhoneEvent(step: step, start: current?.start ?? now, end: now, verdict: .fail(reason)))
        current = nil
        finished = false
        var tail: [PhoneAction] = []
        // Established: INFORMATIONAL Delete. Not yet: just stop (no more retransmissions), as a phone gives up.
        if let ike, !ike.isDead { tail = mapIKE(ike.delete(now: now), now: now) }
        return out + tail + [.done(success: false)]
    }

    /// The end of a successful run (or of the part the scenario asks for).
    func complete(now: Double) -> [PhoneAction] {
        guard config.teardown else {
            current = nil
            finished = true
            return [.done(success: allPassed)]
        }
        begin(.ikeDelete, now)
        var out: [PhoneAction] = []
        if let ike { out += mapIKE(ike.delete(now: now), now: now) }
        out += pass("INFORMATIONAL Delete(IKE) sent", now: now)
        finished = allPassed
        return out + [.done(success: allPassed)]
    }

    // MARK: after the scenario (load tests)

    /// The IKE SA is up (established and not deleted).
    public var hasTunnel: Bool { ike.map { $0.isEstablished && !$0.isDead } ?? false }

    /// Attached, registered and idle: the scenario ended with the tunnel kept (`teardown: false`)
    /// and no call is running, so `placeCall` may start one.
    public var isIdleRegistered: Bool {
        finished == true && current == nil && (ike.map { $0.isEstablished && !$0.isDead } ?? false)
            && ua?.registrationState == .registered && ua?.isInCall == false
    }

    /// Starts another call on an idle registered phone (see `isIdleRegistered`): INVITE,
    /// media, BYE as in the call scenario, then `.done` again with the tunnel kept.
    public func placeCall(to target: String? = nil, now: Double) -> [PhoneAction] {
        guard isIdleRegistered else { return [] }
        finished = nil
        rtp = nil; media = nil; mediaEndAt = nil
        begin(.invite, now)
        let t = target ?? config.profile.callTarget ?? config.callTarget
        var out: [PhoneAction]
        do { out = try withUAThrowing(now: now) { try $0.invite(t, now: now) } } catch { out = fail("\(error)", now: now) }
        return out + wake()
    }

    /// Deletes the IKE SA of a phone whose scenario kept the tunnel up (INFORMATIONAL Delete).
    public func detach(now: Double) -> [PhoneAction] {
        guard let ike, ike.isEstablished, !ike.isDead else { return [] }
        if finished == nil { finished = false }
        current = nil
        return mapIKE(ike.delete(now: now), now: now) + wake()
    }
}
