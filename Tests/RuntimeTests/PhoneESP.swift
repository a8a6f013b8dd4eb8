import ESP
import IKEv2

extension ChildSADescription {
    /// The phone's two ESP SAs for this Child SA (RFC 4303), keyed from the phone's side, so
    /// a test can seal what it sends into the tunnel and open what comes back.
    func phoneSAs() throws -> (out: ESPSecurityAssociation, inb: ESPSecurityAssociation) {
        let out = ESPSecurityAssociation(spi: outboundSPI, direction: .outbound,
                                         transform: try ESPTransform(encryption: suite.encryption, encryptionKey: outboundEncryptionKey,
                                                                     integrity: suite.integrity, integrityKey: outboundIntegrityKey))
        let inb = ESPSecurityAssociation(spi: inboundSPI, direction: .inbound,
                                         transform: try ESPTransform(encryption: suite.encryption, encryptionKey: inboundEncryptionKey,
                                                                     integrity: suite.integrity, integrityKey: inboundIntegrityKey))
        return (out, inb)
    }
}
