import Crypto
import Wire

/// The ePDG's IKEv2 endpoint: owns every responder IKE SA, routes datagrams to them by SPI,
/// and creates SAs for new IKE_SA_INIT requests. Sans-I/O: the host feeds datagrams and the
/// time, and performs the returned actions. Not thread-safe; use from one thread or actor.
public final class IKEResponder {
    public let policy: IKEResponderPolicy
    let vectors: AuthenticationVectorSource
    let pool: InnerAddressPool
    let signer: IKEAuthSigner?
    /// By our SPI (SPIr).
    var sas: [UInt64: IKEResponderSA] = [:]
    /// Half-open lookup for IKE_SA_INIT retransmissions: (SPIi, peer) → SPIr.
    var byInitiator: [InitKey: UInt64] = [:]
    struct InitKey: Hashable { var spiI: UInt64; var remote: IKEEndpoint }
    /// Chooses inbound ESP SPIs; the host may replace it to coordinate with its SA database.
    public var allocateESPSPI: () -> UInt32 = { max(0x100, SecureRandom.uint32()) }

    public init(policy: IKEResponderPolicy, vectors: AuthenticationVectorSource, pool: InnerAddressPool, signer: IKEAuthSigner? = nil) {
        self.policy = policy; self.vectors = vectors; self.pool = pool; self.signer = signer
    }

    /// Number of IKE SAs (half-open and established).
    public var count: Int { sas.count }
    public func sa(spiR: UInt64) -> IKEResponderSA? { sas[spiR] }
    public var allSAs: [IKEResponderSA] { Array(sas.values) }

    /// Feeds one received IKE datagram (without the non-ESP marker). `to` is the local
    /// address and port it arrived on (500 or 4500).
    public func handle(datagram: [UInt8], from: IKEEndpoint, to: IKEEndpoint, now: Double) -> [IKEAction] {
        let m: IKEMessage
        do { m = try IKEMessage(parsing: datagram) } catch {
            return [.log(IKELogEvent(level: .warning, layer: "ikev2", spiI: 0, message: "dropping datagram from \(from): \(error)"))]
        }
        let h = m.header
        if h.spiR == 0 {
            guard h.exchangeType == .IKE_SA_INIT, !h.isResponse, h.isInitiator, h.messageID == 0 else {
                return [.log(IKELogEvent(level: .warning, layer: "ikev2", spiI: h.spiI, message: "dropping \(h.exchangeType) with SPIr 0 from \(from)"))]
            }
            let key = InitKey(spiI: h.spiI, remote: from)
            if let spiR = byInitiator[key], let sa = sas[spiR] {
                sa.receive(datagram, message: m, from: from, to: to, now: now)
                return collect(sa)
            }
            var spiR: UInt64
            repeat { spiR = SecureRandom.uint64() } while spiR == 0 || sas[spiR] != nil
            let sa = IKEResponderSA(policy: policy, vectors: vectors, pool: pool, signer: signer, spiI: h.spiI, spiR: spiR,
                                    local: to, remote: from, now: now, allocateSPI: allocateESPSPI)
            sas[spiR] = sa
            byInitiator[key] = spiR
            sa.receive(datagram, message: m, from: from, to: to, now: now)
            return collect(sa)
        }
        guard let sa = sas[h.spiR], sa.spiI == h.spiI else {
            return [.log(IKELogEvent(level: .info, layer: "ikev2", spiI: h.spiI, message: "no IKE SA for SPIr \(String(h.spiR, radix: 16)) (\(h.exchangeType) from \(from))"))]
        }
        sa.receive(datagram, message: m, from: from, to: to, now: now)
        return collect(sa)
    }

    /// Runs timers (retransmissions, DPD, half-open expiry).
    public func poll(now: Double) -> [IKEAction] {
        var out: [IKEAction] = []
        for sa in Array(sas.values) {
            guard let w = sa.wakeup, w <= now else { continue }
            sa.poll(now: now)
            out += collect(sa)
        }
        return out
    }

    /// The earliest time `poll` should run.
    public var nextWakeup: Double? { sas.values.compactMap(\.wakeup).min() }

    /// Deletes one IKE SA by our SPI (operator request): sends Delete, releases Child SAs.
    public func delete(spiR: UInt64, now: Double) -> [IKEAction] {
        guard let sa = sas[spiR] else { return [] }
        _ = sa.delete(now: now)
        return collect(sa)
    }

    func collect(_ sa: IKEResponderSA) -> [IKEAction] {
        let a = sa.drain()
        if sa.isDead {
            sas[sa.spiR] = nil
            byInitiator = byInitiator.filter { $0.value != sa.spiR }
        }
        return a
    }
}
