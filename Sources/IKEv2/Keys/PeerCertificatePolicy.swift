import Crypto
import Glibc

/// Which certificate-authenticated initiators the responder accepts (AUTH methods 1, 9–11, 14:
/// RFC 7296 §2.15, RFC 4754, RFC 7427) besides EAP-AKA. Off unless set in
/// `IKEResponderPolicy.peerCertificates`: phones always use EAP-AKA; this serves peers without
/// a USIM (a strongSwan gateway or test client, a site-to-site box).
///
/// An end-entity certificate is trusted when it is one of `pinned` (byte-for-byte), or when it
/// is signed by one of `trustAnchors` directly or through intermediate certificates the peer
/// sent in further CERT payloads. It must be within its validity period and vouch for the
/// peer's IDi (ID_DER_ASN1_DN = subject; ID_FQDN / ID_IPV4_ADDR / ID_IPV6_ADDR = a
/// subjectAltName entry).
public struct PeerCertificatePolicy: Sendable {
    public var trustAnchors: [Certificate]
    public var pinned: [Certificate]
    /// Longest chain of intermediates followed from the end-entity certificate to an anchor.
    public var maxIntermediates: Int

    public init(trustAnchors: [Certificate] = [], pinned: [Certificate] = [], maxIntermediates: Int = 3) {
        self.trustAnchors = trustAnchors; self.pinned = pinned; self.maxIntermediates = maxIntermediates
    }

    /// CERTREQ for IKE_SA_INIT (RFC 7296 §3.7): SHA-1 of each anchor's SubjectPublicKeyInfo.
    /// Peers such as strongSwan send their CERT only when asked (send_cert = ifasked).
    public var certificateRequest: CertPayload {
        let hashes = trustAnchors.compactMap { c -> [UInt8]? in
            guard let spki = try? c.publicKey.derEncoded else { return nil }
            return Digest.hash(.sha1, spki)
        }
        return CertPayload(encoding: CertPayload.X509_SIGNATURE, data: hashes.flatMap { $0 })
    }

    /// Checks the peer's certificates (end entity first) for `id` at `now` (seconds since 1970)
    /// and returns the key that must verify the peer's AUTH.
    public func validate(certificates der: [[UInt8]], id: IDPayload, now: Int64 = Int64(time(nil))) throws(PeerCertificateError) -> PublicKey {
        guard let eeDER = der.first else { throw .noCertificate }
        let ee: Certificate
        do { ee = try Certificate(der: eeDER) } catch { throw .malformed("\(error)") }
        try Self.checkValidity(ee, now: now)
        let pinnedMatch = pinned.contains { (try? $0.der) == eeDER }
        if !pinnedMatch {
            var intermediates: [Certificate] = []
            for d in der.dropFirst() {
                do { intermediates.append(try Certificate(der: d)) } catch { throw .malformed("intermediate: \(error)") }
            }
            try chainToAnchor(ee, intermediates: intermediates, now: now)
        }
        try Self.checkIdentity(ee, id)
        do { return try ee.publicKey } catch { throw .malformed("public key: \(error)") }
    }

    func chainToAnchor(_ ee: Certificate, intermediates: [Certificate], now: Int64) throws(PeerCertificateError) {
        var current = ee
        for _ in 0...maxIntermediates {
            for a in trustAnchors where a.subject == current.issuer {
                if let k = try? a.publicKey, current.isSigned(by: k) { return }
            }
            guard let next = intermediates.first(where: { c in
                c.subject == current.issuer && ((try? c.publicKey).map { current.isSigned(by: $0) } ?? false)
            }) else { break }
            try Self.checkValidity(next, now: now)
            current = next
        }
        throw .untrusted(subject: ee.subject, issuer: ee.issuer)
    }

    static func checkValidity(_ c: Certificate, now: Int64) throws(PeerCertificateError) {
        if let nb = c.notBefore, now < nb { throw .notYetValid(subject: c.subject) }
        if let na = c.notAfter, now > na { throw .expired(subject: c.subject) }
    }

    /// RFC 7296 §3.5 / RFC 4945 §3.1: the IDi must be bound to the certificate.
    static func checkIdentity(_ c: Certificate, _ id: IDPayload) throws(PeerCertificateError) {
        let ok: Bool
        switch id.idType {
        case .ID_DER_ASN1_DN:
            ok = (try? c.subjectDER) == id.data
        case .ID_FQDN:
            let name = String(decoding: id.data, as: UTF8.self).lowercased()
            ok = c.subjectAltNameDNS.contains { $0.lowercased() == name }
        case .ID_IPV4_ADDR, .ID_IPV6_ADDR:
            ok = c.subjectAltNameIPs.contains(id.data)
        default:
            ok = false
        }
        if !ok { throw .identityMismatch(id: id.description, subject: c.subject) }
    }
}

public enum PeerCertificateError: Error, Equatable, Sendable, CustomStringConvertible {
    case noCertificate
    case malformed(String)
    case untrusted(subject: String, issuer: String)
    case notYetValid(subject: String)
    case expired(subject: String)
    case identityMismatch(id: String, subject: String)

    public var description: String {
        switch self {
        case .noCertificate: "no X.509 CERT payload"
        case let .malformed(s): "malformed certificate: \(s)"
        case let .untrusted(s, i): "certificate '\(s)' (issuer '\(i)') is neither pinned nor signed by a trust anchor"
        case let .notYetValid(s): "certificate '\(s)' is not yet valid"
        case let .expired(s): "certificate '\(s)' has expired"
        case let .identityMismatch(id, s): "IDi \(id) is not vouched for by certificate '\(s)'"
        }
    }
}
