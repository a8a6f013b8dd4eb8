import Crypto

/// The algorithms negotiated for an IKE SA (one transform of each type).
public struct IKESuite: Hashable, Sendable, CustomStringConvertible {
    public var encryption: EncryptionAlgorithm
    /// nil with an AEAD cipher.
    public var integrity: IntegrityAlgorithm?
    public var prf: PseudoRandomFunction
    public var dhGroup: DHGroup

    public init(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?, prf: PseudoRandomFunction, dhGroup: DHGroup) {
        self.encryption = encryption; self.integrity = integrity; self.prf = prf; self.dhGroup = dhGroup
    }

    /// The transforms of a proposal offering exactly this suite.
    public var transforms: [Transform] {
        var t = [Transform(.ENCR, encryption.transformID, keyLength: encryption.keyLengthAttribute.map(UInt16.init))]
        t.append(Transform(.PRF, prf.rawValue))
        if let integrity { t.append(Transform(.INTEG, integrity.rawValue)) }
        t.append(Transform(.DH, dhGroup.rawValue))
        return t
    }

    public var description: String {
        "\(encryption)/\(integrity.map { "\($0)" } ?? "AEAD")/\(prf)/\(dhGroup)"
    }
}

/// The algorithms negotiated for an ESP Child SA.
public struct ESPSuite: Hashable, Sendable, CustomStringConvertible {
    public var encryption: EncryptionAlgorithm
    public var integrity: IntegrityAlgorithm?
    public var extendedSequenceNumbers: Bool

    public init(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?, extendedSequenceNumbers: Bool = false) {
        self.encryption = encryption; self.integrity = integrity; self.extendedSequenceNumbers = extendedSequenceNumbers
    }

    public var transforms: [Transform] {
        var t = [Transform(.ENCR, encryption.transformID, keyLength: encryption.keyLengthAttribute.map(UInt16.init))]
        if let integrity { t.append(Transform(.INTEG, integrity.rawValue)) }
        t.append(Transform(.ESN, extendedSequenceNumbers ? 1 : 0))
        return t
    }

    public var description: String {
        "\(encryption)/\(integrity.map { "\($0)" } ?? "NONE")" + (extendedSequenceNumbers ? "/ESN" : "")
    }
}
