import AKA
import HSS
import IKEv2

/// The HSS as the ePDG's authentication-vector source (SWx in a real network).
public final class HSSVectorSource: AuthenticationVectorSource, @unchecked Sendable {
    // @unchecked: `HSS` is itself thread-safe; this adapter holds no state of its own.
    public let hss: HSS
    public init(hss: HSS) { self.hss = hss }

    public func vector(imsi: String) throws -> AuthenticationVector {
        do { return try hss.vector(imsi: imsi) } catch { throw Self.map(error) }
    }

    public func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        do { try hss.resync(imsi: imsi, rand: rand, auts: auts) } catch { throw Self.map(error) }
    }

    static func map(_ e: Error) -> AuthenticationVectorError {
        switch e as? HSSError {
        case .unknownIMSI?: return .userUnknown
        case .resyncMACFailure?: return .resyncFailed
        default: return .failure("\(e)")
        }
    }
}
