import Crypto

/// The negotiated transforms of one ESP SA with their keyed OpenSSL contexts, made once
/// per SA so that the per-packet path only feeds bytes (RFC 4303 §3.3.2, §3.4.4).
public final class ESPTransform: @unchecked Sendable {
    // @unchecked: the OpenSSL contexts are confined to the SA's event loop.
    public let encryption: EncryptionAlgorithm
    public let integrity: IntegrityAlgorithm?
    let cipher: CipherContext
    let mac: IntegrityContext?
    /// Raw keys, kept for the key log and Wireshark's esp_sa file.
    public let encryptionKey: [UInt8], integrityKey: [UInt8]

    /// `encryptionKey` is the KEYMAT slice for the cipher (key followed by the salt/nonce
    /// for CTR, GCM and GMAC); `integrityKey` is empty for AEAD and NULL integrity.
    public init(encryption: EncryptionAlgorithm, encryptionKey: [UInt8],
                integrity: IntegrityAlgorithm?, integrityKey: [UInt8] = []) throws {
        if encryption.isAEAD, integrity != nil {
            throw ESPError.invalidTransform("\(encryption) is combined-mode; no integrity transform may be used with it (RFC 4303 §3.2)")
        }
        if !encryption.isAEAD, integrity == nil, encryption == .ENCR_NULL {
            throw ESPError.invalidTransform("ENCR_NULL without integrity gives no protection (RFC 4303 §3.2)")
        }
        self.encryption = encryption
        self.integrity = integrity
        self.encryptionKey = encryptionKey
        self.integrityKey = integrityKey
        cipher = try CipherContext(algorithm: encryption, keyMaterial: encryptionKey)
        mac = try integrity.map { try IntegrityContext(algorithm: $0, key: integrityKey) }
    }

    public var ivLength: Int { encryption.ivLength }
    /// Length of the ICV appended to each packet.
    public var icvLength: Int { encryption.isAEAD ? encryption.icvLength : (integrity?.outputLength ?? 0) }
    /// Plaintext alignment: the cipher's block size, and at least 4 (RFC 4303 §2.4).
    public var alignment: Int { max(4, encryption.blockSize) }
    /// GMAC authenticates the payload without encrypting it (RFC 4543).
    var isGMAC: Bool { if case .ENCR_NULL_AUTH_AES_GMAC = encryption { return true } else { return false } }
    /// Counter-based modes take the sequence number as IV; CBC needs an unpredictable one.
    var ivFromSequence: Bool { encryption.isAEAD || { if case .ENCR_AES_CTR = encryption { return true } else { return false } }() }

    /// The bytes an outbound packet grows by around an inner packet of `n` bytes.
    public func overhead(forInner n: Int) -> Int {
        let body = n + 2
        let padded = (body + alignment - 1) / alignment * alignment
        return 8 + ivLength + padded - n + icvLength
    }
}

/// Errors in building an SA (packet-level failures are `ESPDropReason`s, not errors).
public enum ESPError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidTransform(String)
    public var description: String {
        switch self { case let .invalidTransform(s): return "invalid ESP transform: \(s)" }
    }
}
