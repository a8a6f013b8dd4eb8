import AKA
import SIP

/// An in-memory `IMSSubscriberSource` with its own AuC (Milenage or XOR, SQN per TS 33.102
/// Annex C): for tests, demos and running the IMS without an HSS. The HSS replaces it in the
/// full core. Not thread-safe, like the IMSCore that calls it.
public final class IMSMemorySubscribers: IMSSubscriberSource {
    public struct Entry {
        public var subscriber: IMSSubscriber
        public var algorithm: AuthenticationAlgorithm?
        public var amf: [UInt8]
        public var resLength: Int
        public var sqn: SQNGenerator
        public init(subscriber: IMSSubscriber, algorithm: AuthenticationAlgorithm?, amf: [UInt8] = [0x90, 0x01],
                    resLength: Int = 8, lastSQN: SQN = .zero) {
            self.subscriber = subscriber; self.algorithm = algorithm; self.amf = amf; self.resLength = resLength
            self.sqn = SQNGenerator(last: lastSQN)
        }
    }

    public enum SourceError: Error, Equatable { case unknownIMPI(String), noAKACredentials(String) }

    public private(set) var entries: [String: Entry] = [:]
    public let domain: String
    /// RANDs come from here; tests may make them deterministic.
    public var randSource: () -> [UInt8]

    public init(domain: String, entries: [Entry] = []) {
        self.domain = domain
        self.randSource = {
            var g = SystemRandomNumberGenerator()
            return (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        }
        for e in entries { self.entries[e.subscriber.impi] = e }
    }

    public func add(_ e: Entry) { entries[e.subscriber.impi] = e }

    public func subscriber(impi: String) -> IMSSubscriber? { entries[impi]?.subscriber }

    public func subscriber(impu: String) -> IMSSubscriber? {
        let key = IMSIdentity.key(impu)
        return entries.values.first { e in
            IMSIdentity.impuURIs(e.subscriber, defaultDomain: domain).contains { IMSIdentity.key($0) == key }
        }?.subscriber
    }

    public func authenticationVector(impi: String) throws -> AuthenticationVector {
        guard var e = entries[impi] else { throw SourceError.unknownIMPI(impi) }
        guard let alg = e.algorithm else { throw SourceError.noAKACredentials(impi) }
        let sqn = try e.sqn.next()
        entries[impi] = e
        return try alg.vector(rand: randSource(), sqn: sqn, amf: e.amf, resLength: e.resLength)
    }

    public func resynchronize(impi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard var e = entries[impi] else { throw SourceError.unknownIMPI(impi) }
        guard let alg = e.algorithm else { throw SourceError.noAKACredentials(impi) }
        let sqnMS = try AUTS.recoverSQN(algorithm: alg, rand: rand, auts: auts)
        e.sqn.resynchronize(sqnMS: sqnMS)
        entries[impi] = e
    }
}
