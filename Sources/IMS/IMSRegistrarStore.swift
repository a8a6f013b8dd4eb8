import Glibc
import SIP

/// The registrar state every IMS shard sees (TS 24.229 S-CSCF registrar, RFC 3680 index):
/// bindings by IMPI and the IMPU index, digest challenges in flight (by nonce) and the last
/// good one per IMPI, Gm security associations, and which shards hold reg-event
/// subscriptions of an IMPI. With the IMS sharded by Call-ID over event loops, the two steps
/// of a REGISTER, a call to a registered phone and the NOTIFY a registration triggers may
/// each land on another shard; they all read and write here.
///
/// One recursive mutex: `IMSCore`'s accessors take it for each access (short critical
/// sections), and the registrar wraps its read-modify-write sequences in `locked`, which may
/// nest those accessors.
public final class IMSRegistrarStore: @unchecked Sendable {
    // @unchecked: every stored property below is read and written with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    var registrations: [String: IMSRegistration] = [:]
    /// IMPU key (see `IMSIdentity.key`) → IMPI of the registered identities.
    var impuIndex: [String: String] = [:]
    /// The earliest `expiresAt` of any binding (or earlier).
    var bindingDeadline: Double? = nil
    var challenges: [String: Challenge] = [:]
    var authenticated: [String: Challenge] = [:]
    /// Negotiated Gm SAs per IMPI (the newest last).
    var gmSecurity: [String: [IMSGmSecurity]] = [:]
    var nextSPI: UInt32 = 0x1000
    /// IMPI → shard → how many reg-event subscriptions of that IMPI the shard holds.
    var regEventShards: [String: [Int: Int]] = [:]
    /// Binding peer → our address its flow came in on, and how many bindings name that peer
    /// (kept by `IMSCore.storeRegistration`; see `IMSBinding.local`).
    var flows: [SIPPeer: (local: String, bindings: Int)] = [:]

    public init() {
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the store locked (nesting allowed).
    @inline(__always) func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Shards other than `shard` holding reg-event subscriptions of `impi`.
    func otherSubscribedShards(_ impi: String, except shard: Int) -> [Int] {
        locked { regEventShards[impi].map { $0.filter { $0.key != shard && $0.value > 0 }.map(\.key).sorted() } ?? [] }
    }

    /// Our address of the flow registered from `peer`, if a binding has it.
    func flowAddress(of peer: SIPPeer) -> String? { locked { flows[peer]?.local } }

    /// Counts the flows of `reg`'s bindings in (`delta` 1) or out (-1); locked by the caller.
    func countFlows(_ reg: IMSRegistration?, delta: Int) {
        for b in reg?.bindings ?? [] {
            guard let local = b.local else { continue }
            let n = (flows[b.peer]?.bindings ?? 0) + delta
            // The newest binding's address wins; a removal leaves the address of those left.
            flows[b.peer] = n <= 0 ? nil : (delta > 0 ? local : flows[b.peer]?.local ?? local, n)
        }
    }

    func countSubscription(impi: String, shard: Int, delta: Int) {
        locked {
            var m = regEventShards[impi] ?? [:]
            let n = (m[shard] ?? 0) + delta
            m[shard] = n > 0 ? n : nil
            regEventShards[impi] = m.isEmpty ? nil : m
        }
    }
}
