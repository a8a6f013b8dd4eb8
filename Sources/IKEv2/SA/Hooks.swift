import AKA
import Wire

/// Why a vector could not be had; mapped to the IKE_AUTH error notify.
public enum AuthenticationVectorError: Error, Equatable, Sendable {
    /// No such subscriber: USER_UNKNOWN (9001).
    case userUnknown
    /// Subscriber barred from non-3GPP access: NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED (9000).
    case accessNotAllowed
    /// AUTS did not verify (resync refused).
    case resyncFailed
    /// Anything else: NETWORK_FAILURE (10500).
    case failure(String)
}

/// The HSS/AuC as the ePDG sees it (SWm/SWx in a real network). Called synchronously:
/// the local HSS answers from memory.
public protocol AuthenticationVectorSource: AnyObject {
    /// A fresh EPS-AKA/UMTS vector (RAND, XRES, AUTN, CK, IK) for `imsi`, AMF separation bit 0.
    func vector(imsi: String) throws -> AuthenticationVector
    /// Re-synchronises SQN from the USIM's AUTS (TS 33.102 §6.3.5) for the RAND it answered.
    func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws
}

/// Where inner addresses come from (the PDN pool of the APN).
public protocol InnerAddressPool: AnyObject {
    /// Allocates addresses for a subscriber on an APN; nil members mean "none of that family".
    /// Throws when the pool is exhausted or the APN is unknown.
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses
    func release(_ addresses: InnerAddresses, imsi: String, apn: String)
    /// As `allocate`, giving `requestedIPv4` (the phone's non-empty INTERNAL_IP4_ADDRESS,
    /// RFC 7296 §3.15.1) when it is free in the APN's pool, another address otherwise.
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool, requestedIPv4: IPAddress?) throws -> InnerAddresses
}

extension InnerAddressPool {
    /// A pool that cannot honour requests hands out its next address.
    public func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool, requestedIPv4: IPAddress?) throws -> InnerAddresses {
        try allocate(imsi: imsi, apn: apn, wantIPv4: wantIPv4, wantIPv6: wantIPv6)
    }
}

/// Inner addresses handed to one phone.
public struct InnerAddresses: Sendable, Equatable {
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    public var ipv6PrefixLength: UInt8
    public init(ipv4: IPAddress?, ipv6: IPAddress?, ipv6PrefixLength: UInt8 = 64) {
        self.ipv4 = ipv4; self.ipv6 = ipv6; self.ipv6PrefixLength = ipv6PrefixLength
    }
}

/// The ePDG's certificate-based AUTH (RFC 7296 §2.15 / RFC 7427). Without one the ePDG
/// authenticates by EAP only (RFC 5998). `CertificateSigner` is the OpenSSL-backed one.
public protocol IKEAuthSigner: AnyObject {
    /// DER X.509 certificate sent in CERT (encoding 4).
    var certificateDER: [UInt8] { get }
    /// The AUTH payload (method and data) over the responder's signed octets. `peerHashes`
    /// are the RFC 7427 hash IDs from the peer's SIGNATURE_HASH_ALGORITHMS (empty if none).
    func sign(_ signedOctets: [UInt8], peerHashes: [UInt16]) throws -> AuthPayload
}
