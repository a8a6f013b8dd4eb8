import AKA
import Config
import Foundation
import HSS
import IMS

/// The IMS's view of the ue_db (Cx in a split network): IMPI/IMPU lookups from the typed
/// config entries, AKA vectors and resynchronisation from the same HSS the ePDG uses, so
/// one SQN sequence serves both. Thread-safe: the maps are immutable, the HSS locks.
public final class HSSIMSSubscribers: IMSSubscriberSource, @unchecked Sendable {
    // @unchecked: immutable after init; `HSS` is Sendable.
    public let hss: HSS
    private let byIMPI: [String: IMSSubscriber]
    private let byIMPU: [String: String]          // normalized IMPU → IMPI
    private let imsiByIMPI: [String: String]

    public init(hss: HSS, ueDB: [UEDBEntry], plmn: PLMN?, domain: String) {
        self.hss = hss
        var subs: [String: IMSSubscriber] = [:], impus: [String: String] = [:], imsis: [String: String] = [:]
        for e in ueDB.flatMap({ $0.expanded() }) {
            let impi = e.impi ?? e.imsi.flatMap { imsi in plmn.map { "\(imsi)@\($0.imsDomain)" } } ?? ""
            guard !impi.isEmpty else { continue }
            let type: IMSAuthType
            switch e.authentType {
            case .none: type = .none
            case .md5: type = .md5
            case .akav1: type = .akav1
            case .akav2: type = .akav2
            }
            let s = IMSSubscriber(impi: impi, impus: e.impu.map(\.impu), authentType: type, pwd: e.pwd, domain: e.domain)
            subs[impi] = s
            if let imsi = e.imsi { imsis[impi] = imsi }
            for uri in IMSIdentity.impuURIs(s, defaultDomain: e.domain ?? domain) {
                impus[IMSIdentity.key(uri)] = impi
            }
        }
        byIMPI = subs; byIMPU = impus; imsiByIMPI = imsis
    }

    public var count: Int { byIMPI.count }
    /// Every IMPI of the ue_db (the remote API's `users_get`).
    public var impis: [String] { Array(byIMPI.keys) }

    public func subscriber(impi: String) -> IMSSubscriber? { byIMPI[impi] }

    public func subscriber(impu: String) -> IMSSubscriber? {
        byIMPU[IMSIdentity.key(impu)].flatMap { byIMPI[$0] }
    }

    public enum SourceError: Error, CustomStringConvertible {
        case noSIM(String)
        public var description: String {
            switch self { case let .noSIM(impi): return "\(impi) has no SIM (no IMSI in ue_db): AKA is impossible, use MD5" }
        }
    }

    public func authenticationVector(impi: String) throws -> AuthenticationVector {
        guard let imsi = imsiByIMPI[impi] else { throw SourceError.noSIM(impi) }
        return try hss.vector(imsi: imsi)
    }

    public func resynchronize(impi: String, rand: [UInt8], auts: [UInt8]) throws {
        guard let imsi = imsiByIMPI[impi] else { throw SourceError.noSIM(impi) }
        try hss.resync(imsi: imsi, rand: rand, auts: auts)
    }
}
