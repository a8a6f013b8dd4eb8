import AKA
import Crypto
import Synchronization

/// A vector for EAP-AKA' (TS 33.402 §6.2): the HSS hands CK'/IK' to the AAA instead of
/// CK/IK, bound to the access network name.
public struct AuthenticationVectorPrime: Sendable, Equatable {
    public let rand: [UInt8]
    public let xres: [UInt8]
    public let autn: [UInt8]
    public let ckPrime: [UInt8]
    public let ikPrime: [UInt8]
    public let sqn: SQN
}

/// The HSS/AuC: subscribers, vector generation with a fresh SQN each time, AUTS
/// re-synchronisation, and durable SQN reservations. Shared by the ePDG (EAP-AKA) and
/// the IMS (Digest AKA); all state sits behind one mutex and calls are synchronous.
public final class HSS: Sendable {
    /// Per-subscriber mutable state.
    struct Entry {
        let subscriber: Subscriber
        /// The algorithm, or why it cannot be built (missing K/OP...): reported on use.
        let algorithm: Result<AuthenticationAlgorithm, HSSError>
        var generator: SQNGenerator
        /// Highest SEQ covered by a committed reservation.
        var reserved: UInt64
    }

    struct State {
        var entries: [String: Entry]
        let store: SQNStore?
    }

    private let state: Mutex<State>
    /// SEQs reserved per database write.
    public let reservationBlock: UInt64
    public let indBits: Int
    /// Subscribers by IMSI and IMPI, immutable after init.
    private let byIMPI: [String: String]
    public let subscribers: [Subscriber]

    /// `databasePath` nil keeps SQNs in memory only (tests, throwaway runs). With a path,
    /// stored reservations are loaded and every subscriber continues above them.
    public init(subscribers: [Subscriber], databasePath: String? = nil, reservationBlock: Int = 32,
                indBits: Int = 5) throws {
        guard reservationBlock >= 1 else { throw HSSError.database("reservation block must be >= 1") }
        guard (0...16).contains(indBits) else { throw HSSError.database("IND length \(indBits) outside 0..16") }
        self.reservationBlock = UInt64(reservationBlock)
        self.indBits = indBits
        let store = try databasePath.map { try SQNStore(path: $0) }
        let stored = try store?.loadAll() ?? [:]
        var entries: [String: Entry] = [:]
        var impis: [String: String] = [:]
        for s in subscribers {
            try s.validate()
            guard entries[s.imsi] == nil else { throw HSSError.duplicateIMSI(s.imsi) }
            let alg: Result<AuthenticationAlgorithm, HSSError>
            do { alg = .success(try s.authenticationAlgorithm()) } catch let e as HSSError { alg = .failure(e) }
            let floor = max(s.sqn.seq(indBits: indBits), stored[s.imsi] ?? 0)
            entries[s.imsi] = Entry(subscriber: s, algorithm: alg,
                                    generator: SQNGenerator(seqHE: floor, indBits: indBits), reserved: floor)
            if let impi = s.impi { impis[impi.lowercased()] = s.imsi }
        }
        self.subscribers = subscribers
        byIMPI = impis
        state = Mutex(State(entries: entries, store: store))
    }

    /// The subscriber with this IMSI.
    public func subscriber(imsi: String) -> Subscriber? {
        state.withLock { $0.entries[imsi]?.subscriber }
    }

    /// The subscriber whose `impi` matches (case-insensitive), or, for entries without
    /// one, whose IMSI is the user part of `impi` (TS 23.003 §13.3 default IMPI).
    public func subscriber(impi: String) -> Subscriber? {
        if let imsi = byIMPI[impi.lowercased()] { return subscriber(imsi: imsi) }
        let user = String(impi.prefix { $0 != "@" })
        guard let s = subscriber(imsi: user), s.impi == nil else { return nil }
        return s
    }

    /// SEQ of the last SQN handed out for `imsi` (SEQ_HE).
    public func currentSEQ(imsi: String) -> UInt64? {
        state.withLock { $0.entries[imsi]?.generator.seqHE }
    }

    /// A fresh vector (RAND from the CSPRNG, next SQN, subscriber's AMF and res_len). The
    /// SQN is durably reserved before this returns.
    public func vector(imsi: String) throws -> AuthenticationVector {
        let (alg, sub, sqn) = try allocate(imsi: imsi)
        do {
            return try alg.vector(rand: SecureRandom.bytes(16), sqn: sqn, amf: sub.amfBytes, resLength: sub.resLength)
        } catch let e as AKAError { throw HSSError.aka(e) }
    }

    /// A vector for EAP-AKA' with CK'/IK' for `accessNetworkName` (e.g. "WLAN"). The AMF
    /// separation bit is set, as TS 33.402 §6.2 requires for non-3GPP access.
    public func vectorPrime(imsi: String, accessNetworkName: String) throws -> AuthenticationVectorPrime {
        let (alg, sub, sqn) = try allocate(imsi: imsi)
        do {
            let v = try alg.vector(rand: SecureRandom.bytes(16), sqn: sqn, amf: AMF.settingSeparationBit(sub.amfBytes),
                                   resLength: sub.resLength)
            let p = try EAPAKAPrimeKeys.ckIKPrime(ck: v.ck, ik: v.ik, accessNetworkName: accessNetworkName, sqnXorAK: v.sqnXorAK)
            return AuthenticationVectorPrime(rand: v.rand, xres: v.xres, autn: v.autn, ckPrime: p.ckPrime, ikPrime: p.ikPrime, sqn: sqn)
        } catch let e as AKAError { throw HSSError.aka(e) }
    }

    /// Re-synchronisation (TS 33.102 §6.3.5): verifies MAC-S of `auts` for `rand`, then
    /// sets SEQ_HE = SEQ_MS so the next vector uses SEQ_MS + 1.
    public func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        let alg = try algorithm(imsi: imsi)
        let sqnMS: SQN
        do {
            sqnMS = try AUTS.recoverSQN(algorithm: alg, rand: rand, auts: auts)
        } catch AKAError.resyncMACFailure {
            throw HSSError.resyncMACFailure
        } catch let e as AKAError { throw HSSError.aka(e) }
        state.withLock { st in
            // The stored reservation is never lowered: after a restart the HSS continues
            // above it, which the USIM accepts as fresh.
            st.entries[imsi]?.generator.resynchronize(sqnMS: sqnMS)
        }
    }

    private func algorithm(imsi: String) throws -> AuthenticationAlgorithm {
        guard let alg = state.withLock({ $0.entries[imsi]?.algorithm }) else { throw HSSError.unknownIMSI(imsi) }
        return try alg.get()
    }

    /// Takes the next SQN under the lock, committing a new reservation first when the
    /// current one is used up.
    private func allocate(imsi: String) throws -> (AuthenticationAlgorithm, Subscriber, SQN) {
        let block = reservationBlock
        return try state.withLock { st in
            guard var e = st.entries[imsi] else { throw HSSError.unknownIMSI(imsi) }
            let alg = try e.algorithm.get()
            var g = e.generator
            let sqn: SQN
            do { sqn = try g.next() } catch { throw HSSError.sqnExhausted(imsi) }
            let seq = sqn.seq(indBits: indBits)
            if seq > e.reserved {
                let upTo = min(seq + block - 1, g.maxSEQ)
                try st.store?.reserve(imsi: imsi, seqReserved: upTo)
                e.reserved = upTo
            }
            e.generator = g
            st.entries[imsi] = e
            return (alg, e.subscriber, sqn)
        }
    }
}
