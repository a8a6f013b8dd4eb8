import Crypto
import Wire

/// Why a protected message was not accepted.
public enum ProtectionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noEncryptedPayload
    case tooShort(Int)
    case integrityCheckFailed
    case badPadding(Int)
    case crypto(String)

    public var description: String {
        switch self {
        case .noEncryptedPayload: "no SK payload in a message that must be protected"
        case let .tooShort(n): "SK payload of \(n) bytes is shorter than IV + ICV"
        case .integrityCheckFailed: "integrity check value did not verify"
        case let .badPadding(n): "pad length \(n) exceeds the decrypted data"
        case let .crypto(s): "crypto: \(s)"
        }
    }
}

/// SK payload protection for one IKE SA (RFC 7296 §3.14, RFC 5282 for AEAD, RFC 7383 for
/// fragments): encrypt-then-MAC or AEAD with AAD = IKE header through the SK header.
/// Holds one cipher and one integrity context per direction.
public final class SKProtection {
    public let suite: IKESuite
    private let outCipher: CipherContext
    private let inCipher: CipherContext
    private let outInteg: IntegrityContext?
    private let inInteg: IntegrityContext?

    /// `isInitiator` selects which keys protect outgoing messages (SK_ei/SK_ai for the initiator).
    public init(suite: IKESuite, keys: IKEKeys, isInitiator: Bool) throws {
        self.suite = suite
        let (eOut, eIn) = isInitiator ? (keys.SK_ei, keys.SK_er) : (keys.SK_er, keys.SK_ei)
        let (aOut, aIn) = isInitiator ? (keys.SK_ai, keys.SK_ar) : (keys.SK_ar, keys.SK_ai)
        outCipher = try CipherContext(algorithm: suite.encryption, keyMaterial: eOut)
        inCipher = try CipherContext(algorithm: suite.encryption, keyMaterial: eIn)
        if let i = suite.integrity {
            outInteg = try IntegrityContext(algorithm: i, key: aOut)
            inInteg = try IntegrityContext(algorithm: i, key: aIn)
        } else {
            outInteg = nil; inInteg = nil
        }
    }

    private var icvLength: Int { suite.encryption.isAEAD ? suite.encryption.icvLength : (suite.integrity?.outputLength ?? 0) }

    /// Builds a whole protected message: header | SK{payloads}.
    public func protect(header: IKEHeader, payloads: [Payload]) throws -> [UInt8] {
        var inner = ByteWriter()
        let first = Payload.serializeChain(payloads, into: &inner)
        return try seal(header: header, payloadType: .SK, firstInner: first, fragmentHeader: nil, plaintext: inner.bytes)
    }

    /// Splits the inner payloads into SKF messages whose datagrams stay under `maxSize` bytes (RFC 7383 §2.5).
    public func protectFragmented(header: IKEHeader, payloads: [Payload], maxSize: Int) throws -> [[UInt8]] {
        var inner = ByteWriter()
        let first = Payload.serializeChain(payloads, into: &inner)
        let iv = suite.encryption.ivLength, bs = max(suite.encryption.blockSize, 1)
        let overhead = IKEHeader.size + 8 + iv + icvLength + bs
        let chunk = max(16, (maxSize - overhead) / bs * bs)
        let data = inner.bytes
        let total = max(1, (data.count + chunk - 1) / chunk)
        var out: [[UInt8]] = []
        for n in 0..<total {
            let part = Array(data[min(data.count, n * chunk)..<min(data.count, (n + 1) * chunk)])
            out.append(try seal(header: header, payloadType: .SKF, firstInner: n == 0 ? first : .none,
                                fragmentHeader: (UInt16(n + 1), UInt16(total)), plaintext: part))
        }
        return out
    }

    private func seal(header: IKEHeader, payloadType: PayloadType, firstInner: PayloadType,
                      fragmentHeader: (UInt16, UInt16)?, plaintext: [UInt8]) throws -> [UInt8] {
        let enc = suite.encryption
        let bs = max(enc.blockSize, 1)
        let padLen = (bs - (plaintext.count + 1) % bs) % bs
        let padded = plaintext + [UInt8](repeating: 0, count: padLen) + [UInt8(padLen)]
        let iv = SecureRandom.bytes(enc.ivLength)
        let skHeaderLen = fragmentHeader == nil ? 4 : 8
        let payloadLen = skHeaderLen + iv.count + padded.count + icvLength

        var w = ByteWriter(capacity: IKEHeader.size + payloadLen)
        var h = header
        h.nextPayload = payloadType
        h.length = UInt32(IKEHeader.size + payloadLen)
        h.serialize(into: &w)
        w.u8(firstInner.rawValue); w.u8(0); w.u16(UInt16(payloadLen))
        if let (n, t) = fragmentHeader { w.u16(n); w.u16(t) }
        let aad = w.bytes
        w.append(iv)
        do {
            if enc.isAEAD {
                w.append(try outCipher.encrypt(iv: iv, plaintext: padded, aad: aad))
            } else {
                w.append(try outCipher.encrypt(iv: iv, plaintext: padded))
                if let outInteg { w.append(try outInteg.mac(w.bytes)) }
            }
        } catch {
            throw ProtectionError.crypto("\(error)")
        }
        return w.bytes
    }

    /// Verifies and decrypts the SK payload of `raw` (already parsed as `message`), returning the inner payloads.
    public func unprotect(raw: [UInt8], message: IKEMessage) throws -> [Payload] {
        guard let sk = message.payloads.sk else { throw ProtectionError.noEncryptedPayload }
        let plain = try open(raw: raw, body: sk.body)
        var r = ByteReader(plain)
        return try Payload.parseChain(first: sk.firstInnerPayload, &r)
    }

    /// Verifies and decrypts one SKF fragment; the caller reassembles the plaintexts in order.
    public func unprotectFragment(raw: [UInt8], fragment: SKFPayload) throws -> [UInt8] {
        try open(raw: raw, body: fragment.body)
    }

    /// `body` is IV | ciphertext | ICV and is the tail of `raw` (SK/SKF is the last payload).
    private func open(raw: [UInt8], body: [UInt8]) throws -> [UInt8] {
        let enc = suite.encryption
        let ivLen = enc.ivLength, icv = icvLength
        guard body.count >= ivLen + icv + 1 else { throw ProtectionError.tooShort(body.count) }
        let bodyStart = raw.count - body.count
        let iv = Array(body[0..<ivLen])
        let ct = Array(body[ivLen...])
        var plain: [UInt8]
        do {
            if enc.isAEAD {
                plain = try inCipher.decrypt(iv: iv, ciphertext: ct, aad: Array(raw[0..<bodyStart]))
            } else {
                if let inInteg {
                    let macd = Array(raw[0..<raw.count - icv])
                    guard try inInteg.verify(macd, icv: Array(raw[(raw.count - icv)...])) else { throw ProtectionError.integrityCheckFailed }
                }
                let c = Array(ct[0..<ct.count - icv])
                guard c.count % max(enc.blockSize, 1) == 0 else { throw ProtectionError.tooShort(body.count) }
                plain = try inCipher.decrypt(iv: iv, ciphertext: c)
            }
        } catch let e as ProtectionError {
            throw e
        } catch CryptoError.authenticationFailed {
            throw ProtectionError.integrityCheckFailed
        } catch {
            throw ProtectionError.crypto("\(error)")
        }
        guard let padLen = plain.last, Int(padLen) + 1 <= plain.count else { throw ProtectionError.badPadding(Int(plain.last ?? 0)) }
        plain.removeLast(Int(padLen) + 1)
        return plain
    }
}
