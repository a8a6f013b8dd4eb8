import Crypto
import Wire

/// IKE_AUTH from an initiator that signs its AUTH with a certificate (RFC 7296 §2.15, RFC 7427)
/// instead of running EAP-AKA: one round trip, accepted only with `policy.peerCertificates`.
extension IKEResponderSA {
    func handleCertificateAuth(_ h: IKEHeader, _ payloads: [Payload], auth: AuthPayload, idi: IDPayload,
                               myID: IDPayload, trust: PeerCertificatePolicy) {
        // The pool, logs and ESP owner key subscribers by IMSI; a certificate peer by its IDi.
        imsi = idi.text
        let certs = payloads.certs.filter { $0.encoding == CertPayload.X509_SIGNATURE }.map(\.data)
        let key: PublicKey
        do { key = try trust.validate(certificates: certs, id: idi) } catch {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "initiator certificate refused: \(error)"); return
        }
        guard let octets = authOctets(ofInitiator: true, idPrime: idi.idPrime) else { return }
        guard SignatureAuthVerifier.verify(auth, signedOctets: octets, publicKey: key) else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "initiator \(auth.method) AUTH does not verify with the certificate key"); return
        }
        guard let signer else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "certificate initiator, but the ePDG has no certificate of its own"); return
        }
        log(.info, "initiator \(idi) authenticated by \(auth.method) signature")
        var out: [Payload] = [.idr(myID)]
        do {
            guard let mine = authOctets(ofInitiator: false, idPrime: myID.idPrime) else { return }
            out.append(.cert(CertPayload(encoding: CertPayload.X509_SIGNATURE, data: signer.certificateDER)))
            out.append(.auth(try signer.sign(mine, peerHashes: peerSignatureHashes)))
        } catch {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "cannot sign AUTH: \(error)"); return
        }
        if finishFirstRound(h, payloads, out: out) { return }
        establish(h, out: &out)
    }
}
