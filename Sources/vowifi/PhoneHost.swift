import Foundation
import IKEv2
import Runtime
import UESim
import Wire

/// Runs simulated phones (UESim's sans-I/O `Phone`) on an event loop: one UDP socket per
/// phone (as real phones have), their sends and wake-ups carried out, their events and
/// traces collected. Phones start all at once or ramped at a rate; a periodic tick lets a
/// driver (`vowifi load`) place calls. Loop-confined.
final class PhoneHost: ServiceHandler, @unchecked Sendable {
    // @unchecked: every member is used on the loop thread only (results are read after `wait`
    // or through `loop.submit`).
    struct Result: Sendable {
        var imsi: String
        var events: [PhoneEvent]
        var traces: [PhoneTrace]
        var success: Bool
        var finished: Bool
    }

    private(set) var phones: [Phone?] = []
    private var configs: [PhoneConfig] = []
    private var sockets: [UDPSocket] = []
    /// Socket → phone, so a datagram finds its phone in O(1) with thousands of phones.
    private var phoneBySocket: [ObjectIdentifier: Int] = [:]
    /// Destination addresses already converted for the kernel (a phone talks to one or two).
    private var destinations: [IKEEndpoint: SocketAddress] = [:]
    private(set) var results: [Result] = []
    private var context: ServiceContext?
    private let done = DispatchSemaphore(value: 0)
    private(set) var remaining = 0
    /// Phones started so far (in index order).
    private(set) var started = 0
    /// Keep every phone's `PhoneTrace`s in its result (the ladder needs them; load runs don't).
    var keepTraces = true
    var onEvent: ((Int, PhoneEvent) -> Void)?
    /// A phone's scenario ended (again, after each call placed with `placeCall`).
    var onDone: ((Int, Bool) -> Void)?
    /// Called on the loop every `tickInterval` seconds once started, with `now()`.
    var onTick: ((Double) -> Void)?
    var tickInterval = 0.05
    /// Every outer datagram, both ways (`sent`, the phone's endpoint, the peer's, the UDP payload): for captures.
    var onWire: ((_ sent: Bool, _ local: IKEEndpoint, _ remote: IKEEndpoint, _ payload: [UInt8]) -> Void)?
    private var rate: Double?
    private var rampStart = 0.0
    private let clockStart = Date()

    /// Timer keys above the phone indexes.
    private static let tickKey = UInt64.max

    /// Seconds since the host was made: the phones' clock.
    func now() -> Double { Date().timeIntervalSince(clockStart) }

    /// Binds one socket per phone config (its `local` port 0 → ephemeral) and starts them:
    /// all now, or `rate` per second in order. Must run on `loop`.
    func start(_ configs: [PhoneConfig], on loop: EventLoop, logger: Logger, rate: Double? = nil) throws {
        let ctx = ServiceContext(loop: loop, logger: logger, handler: self)
        context = ctx
        remaining = configs.count
        for var c in configs {
            let s = try ctx.bindUDP(try SocketAddress(host: c.local.address.description, port: c.local.port))
            c.local = IKEEndpoint(c.local.address, s.localAddress.port)
            phoneBySocket[ObjectIdentifier(s)] = sockets.count
            sockets.append(s)
            self.configs.append(c)
            phones.append(nil)
            results.append(Result(imsi: c.sim.imsi, events: [], traces: [], success: false, finished: false))
        }
        self.rate = rate.flatMap { $0 > 0 ? $0 : nil }
        rampStart = now()
        if self.rate == nil {
            while started < configs.count { startNext() }
        } else {
            startDue()
        }
        ctx.armTimer(key: Self.tickKey, after: .milliseconds(Int64(tickInterval * 1000)))
    }

    private func startNext() {
        let i = started
        started += 1
        let p = Phone(config: configs[i])
        phones[i] = p
        perform(i, p.start(now: now()))
    }

    /// Starts the phones whose turn has come on the ramp.
    private func startDue() {
        guard let rate else { return }
        let due = min(configs.count, Int((now() - rampStart) * rate) + 1)
        while started < due { startNext() }
    }

    /// Blocks until every phone is done or `timeout` passes; the results, in start order.
    func wait(timeout: Double, loop: EventLoop) -> [Result] {
        _ = done.wait(timeout: .now() + timeout)
        return (try? loop.submit { [self] in results }) ?? []
    }

    func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {
        guard let i = phoneBySocket[ObjectIdentifier(socket)], let phone = phones[i], let ip = IPAddress(bytes: peer.addressBytes) else { return }
        let payload = Array(bytes), from = IKEEndpoint(ip, peer.port)
        onWire?(false, phone.config.local, from, payload)
        perform(i, phone.receive(payload, from: from, to: phone.config.local, now: now()))
    }

    func timerFired(_ key: UInt64, context: ServiceContext) {
        if key == Self.tickKey {
            startDue()
            onTick?(now())
            context.armTimer(key: Self.tickKey, after: .milliseconds(Int64(tickInterval * 1000)))
            return
        }
        let i = Int(key)
        guard i < phones.count, let phone = phones[i] else { return }
        perform(i, phone.timer(now: now()))
    }

    /// Starts another call on phone `i` if it is idle and registered; false otherwise.
    @discardableResult
    func placeCall(_ i: Int, target: String? = nil) -> Bool {
        guard i < phones.count, let p = phones[i], p.isIdleRegistered else { return false }
        if results[i].finished { results[i].finished = false; remaining += 1 }
        perform(i, p.placeCall(to: target, now: now()))
        return true
    }

    /// Deletes the IKE SA of every phone that kept its tunnel.
    func detachAll() {
        for (i, p) in phones.enumerated() { if let p { perform(i, p.detach(now: now())) } }
    }

    /// Phones whose IKE SA is still up.
    var tunnelCount: Int { phones.reduce(0) { $0 + (($1?.hasTunnel ?? false) ? 1 : 0) } }

    private func perform(_ i: Int, _ actions: [PhoneAction]) {
        guard let ctx = context else { return }
        var wakeAt: Double?
        for a in actions {
            switch a {
            case let .sendIKE(bytes, _, to), let .sendESP(bytes, _, to, _):
                let dst: SocketAddress
                if let d = destinations[to] { dst = d } else {
                    guard let d = try? SocketAddress(host: to.address.description, port: to.port) else { continue }
                    destinations[to] = d; dst = d
                }
                bytes.withUnsafeBytes { sockets[i].send($0, to: dst) }
                onWire?(true, configs[i].local, to, bytes)
            case let .event(e):
                results[i].events.append(e)
                onEvent?(i, e)
            case let .trace(t):
                if keepTraces { results[i].traces.append(t) }
            case .log:
                break
            case let .wake(at):
                wakeAt = at
            case let .done(success):
                if !results[i].finished {
                    results[i].finished = true
                    results[i].success = success
                    remaining -= 1
                    onDone?(i, success)
                    if remaining == 0 { done.signal() }
                }
            }
        }
        // Only the last wake-up counts: the phone reports its next deadline after each step.
        if let at = wakeAt {
            ctx.armTimer(key: UInt64(i), after: .microseconds(max(0, Int64((at - now()) * 1_000_000))))
        }
    }

    func stop() {
        context?.closeAll()
        context = nil
    }
}
