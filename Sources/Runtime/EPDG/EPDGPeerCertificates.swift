import Crypto
import Foundation
import IKEv2

/// Turns on certificate authentication of initiators (`CoreOptions.peerCertificateAuthorities`):
/// every certificate of the PEM file is a trust anchor and also pinned, so a CA file and a
/// file of exact peer certificates both work.
public enum EPDGPeerCertificates {
    public static func apply(_ path: String?, to policy: IKEResponderPolicy) throws(CoreError) -> IKEResponderPolicy {
        guard let path else { return policy }
        var p = policy
        do {
            let certs = try Certificate.chain(pem: String(contentsOfFile: path, encoding: .utf8))
            p.peerCertificates = PeerCertificatePolicy(trustAnchors: certs, pinned: certs)
        } catch {
            throw .startup("peer certificate authorities \(path): \(error)")
        }
        return p
    }
}
