import Foundation
import IKEv2
import Runtime
import UESim
import Wire

/// Runs simulated phones (UESim's sans-I/O `Phone`) on an event loop: one UDP socket per
/// phone, its sends and wake-ups carried out, its events and traces collected.
/// Loop-confined.
final class PhoneHost: ServiceHandler, @unchecked Sendable {
    // @unchecked: every member is used on the loop thread only (results are read after `wait`).
    struct Result: Sendable {
        var imsi: String
        var events: [PhoneEvent]
        var traces: [PhoneTrace]
        var success: Bool
        var finished: Bool
    }

    private var phones: [Phone] = []
    private var sockets: [UDPSocket] = []
    private var results: [Result] = []
    private var context: ServiceContext?
    private let done = DispatchSemaphore(value: 0)
    private var remaining = 0
    var onEvent: ((Int, PhoneEvent) -> Void)?
    private let clockStart = Date()

    /// Seconds since the host was made: the phones' clock.
    func now() -> Double { Date().timeIntervalSince(clockStart) }

    /// Binds one socket per phone config (its `local` port 0 → ephemeral) and starts them all.
    /// Must run on `loop`.
    func start(_ configs: [PhoneConfig], on loop: EventLoop, logger: Logger) throws {
        let ctx = ServiceContext(loop: loop, logger: logger, handler: self)
        context = ctx
        remaining = configs.count
        for var c in configs {
            let s = try ctx.bindUDP(try SocketAddress(host: c.local.address.description, port: c.local.port))
            c.local = IKEEndpoint(c.local.address, s.localAddress.port)
            sockets.append(s)
            phones.append(Phone(config: c))
            results.append(Result(imsi: c.sim.imsi, events: [], traces: [], success: false, finished: false))
        }
        for i in phones.indices { perform(i, phones[i].start(now: now())) }
    }

    /// Blocks until every phone is done or `timeout` passes; the results, in start order.
    func wait(timeout: Double, loop: EventLoop) -> [Result] {
        _ = done.wait(timeout: .now() + timeout)
        return (try? loop.submit { [self] in results }) ?? []
    }

    func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {
        guard let i = sockets.firstIndex(where: { $0 === socket }), let ip = IPAddress(bytes: peer.addressBytes) else { return }
        let from = IKEEndpoint(ip, peer.port)
        perform(i, phones[i].receive(Array(bytes), from: from, to: phones[i].config.local, now: now()))
    }

    func timerFired(_ key: UInt64, context: ServiceContext) {
        let i = Int(key)
        guard i < phones.count else { return }
        perform(i, phones[i].timer(now: now()))
    }

    private func perform(_ i: Int, _ actions: [PhoneAction]) {
        guard let ctx = context else { return }
        for a in actions {
            switch a {
            case let .sendIKE(bytes, _, to), let .sendESP(bytes, _, to, _):
                guard let dst = try? SocketAddress(host: to.address.description, port: to.port) else { continue }
                bytes.withUnsafeBytes { sockets[i].send($0, to: dst) }
            case let .event(e):
                results[i].events.append(e)
                onEvent?(i, e)
            case let .trace(t):
                results[i].traces.append(t)
            case .log:
                break
            case let .wake(at):
                ctx.armTimer(key: UInt64(i), after: .milliseconds(max(0, Int64((at - now()) * 1000))))
            case let .done(success):
                if !results[i].finished {
                    results[i].finished = true
                    results[i].success = success
                    remaining -= 1
                    if remaining == 0 { done.signal() }
                }
            }
        }
    }

    func stop() {
        context?.closeAll()
        context = nil
    }
}
