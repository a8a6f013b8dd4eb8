import COpenSSL

/// A keyed cipher for one SA direction (an ESP SA, or SK_ei/SK_er of an IKE SA): the
/// OpenSSL key schedule is run once here and each packet only sets a new IV.
///
/// Nonce layouts (built internally from the salt at the end of the key material):
/// - AES-CTR (RFC 3686): counter block = nonce(4) | IV(8) | 0x00000001.
/// - AES-GCM / GMAC (RFC 4106/4543/5282): nonce = salt(4) | IV(8).
/// Plaintext given to CBC/3DES/Blowfish must already be padded to `blockSize`.
///
/// Not thread-safe: each SA owns its contexts and uses them from one thread at a time.
public final class CipherContext: @unchecked Sendable {
    // @unchecked: the EVP contexts and nonce buffer are mutated per call; an SA's contexts
    // are confined to the thread processing that SA (documented above).
    public let algorithm: EncryptionAlgorithm

    private enum Mode { case none, block, ctr, gcm, gmac }
    private let mode: Mode
    private let encCtx: OpaquePointer?
    private let decCtx: OpaquePointer?
    private let fetchedCipher: OpaquePointer?
    /// 16 bytes: salt/nonce | IV | counter (CTR) or salt | IV (GCM); then 32 scratch bytes.
    private let nonce: UnsafeMutablePointer<UInt8>

    /// `keyMaterial` is `algorithm.keyMaterialLength` bytes: the key, then (CTR, GCM,
    /// GMAC) the 4-byte nonce/salt.
    public init(algorithm: EncryptionAlgorithm, keyMaterial: [UInt8]) throws {
        try algorithm.validate()
        guard keyMaterial.count == algorithm.keyMaterialLength else {
            throw CryptoError.invalidLength(what: "\(algorithm) key material", expected: "\(algorithm.keyMaterialLength)", got: keyMaterial.count)
        }
        let key = Array(keyMaterial.prefix(algorithm.keyLength))
        let salt = Array(keyMaterial.suffix(algorithm.saltLength))
        var fetched: OpaquePointer? = nil
        let cipher: OpaquePointer?
        let mode: Mode
        switch algorithm {
        case .ENCR_NULL:
            cipher = nil; mode = .none
        case .ENCR_3DES:
            cipher = EVP_des_ede3_cbc(); mode = .block
        case .ENCR_BLOWFISH:
            guard Providers.legacyAvailable, let c = EVP_CIPHER_fetch(nil, "BF-CBC", nil) else {
                _ = opensslErrorString()
                throw CryptoError.unsupported("blowfish: OpenSSL legacy provider not available")
            }
            fetched = c; cipher = c; mode = .block
        case .ENCR_AES_CBC:
            cipher = fetchedCiphers.aes("CBC", bits: key.count * 8); mode = .block
        case .ENCR_AES_CTR:
            cipher = fetchedCiphers.aes("CTR", bits: key.count * 8); mode = .ctr
        case .ENCR_AES_GCM_8, .ENCR_AES_GCM_12, .ENCR_AES_GCM_16:
            cipher = fetchedCiphers.aes("GCM", bits: key.count * 8); mode = .gcm
        case .ENCR_NULL_AUTH_AES_GMAC:
            cipher = fetchedCiphers.aes("GCM", bits: key.count * 8); mode = .gmac
        }
        var enc: OpaquePointer? = nil, dec: OpaquePointer? = nil
        if let cipher {
            do {
                enc = try Self.makeContext(cipher, key: key, encrypt: 1)
                dec = try Self.makeContext(cipher, key: key, encrypt: 0)
            } catch {
                EVP_CIPHER_CTX_free(enc)
                EVP_CIPHER_free(fetched)
                throw error
            }
        }
        let n = UnsafeMutablePointer<UInt8>.allocate(capacity: 48)
        n.initialize(repeating: 0, count: 48)
        for (i, b) in salt.enumerated() { n[i] = b }
        self.algorithm = algorithm
        self.mode = mode
        self.encCtx = enc
        self.decCtx = dec
        self.fetchedCipher = fetched
        self.nonce = n
    }

    deinit {
        EVP_CIPHER_CTX_free(encCtx)
        EVP_CIPHER_CTX_free(decCtx)
        EVP_CIPHER_free(fetchedCipher)
        nonce.update(repeating: 0, count: 48)
        nonce.deallocate()
    }

    private static func makeContext(_ cipher: OpaquePointer, key: [UInt8], encrypt: Int32) throws -> OpaquePointer {
        guard let ctx = EVP_CIPHER_CTX_new() else {
            throw CryptoError.openssl(operation: "EVP_CIPHER_CTX_new", detail: opensslErrorString())
        }
        do {
            try check(EVP_CipherInit_ex(ctx, cipher, nil, nil, nil, encrypt), "EVP_CipherInit_ex(cipher)")
            if EVP_CIPHER_CTX_get_key_length(ctx) != Int32(key.count) {
                try check(EVP_CIPHER_CTX_set_key_length(ctx, Int32(key.count)), "EVP_CIPHER_CTX_set_key_length(\(key.count))")
            }
            try check(EVP_CipherInit_ex(ctx, nil, nil, key, nil, encrypt), "EVP_CipherInit_ex(key)")
            EVP_CIPHER_CTX_set_padding(ctx, 0)
            return ctx
        } catch {
            EVP_CIPHER_CTX_free(ctx)
            throw error
        }
    }

    // MARK: Byte-array API (IKEv2 SK payloads, tests)

    /// Encrypts `plaintext`; for AEAD algorithms returns ciphertext | ICV (`icvLength` bytes).
    /// For ENCR_NULL_AUTH_AES_GMAC the plaintext is returned unchanged followed by the ICV.
    public func encrypt(iv: [UInt8], plaintext: [UInt8], aad: [UInt8] = []) throws -> [UInt8] {
        let n = plaintext.count
        var out = plaintext
        out.append(contentsOf: repeatElement(0, count: algorithm.icvLength))
        try out.withUnsafeMutableBytes { all in
            let body = UnsafeMutableRawBufferPointer(rebasing: all[0..<n])
            let icv = UnsafeMutableRawBufferPointer(rebasing: all[n...])
            try iv.withUnsafeBytes { ivb in
                try aad.withUnsafeBytes { ab in try encrypt(iv: ivb, aad: ab, inPlace: body, icv: icv) }
            }
        }
        return out
    }

    /// Decrypts `ciphertext` (for AEAD algorithms: ciphertext | ICV). Throws
    /// `authenticationFailed` if the ICV does not verify.
    public func decrypt(iv: [UInt8], ciphertext: [UInt8], aad: [UInt8] = []) throws -> [UInt8] {
        let icvLen = algorithm.icvLength
        guard ciphertext.count >= icvLen else {
            throw CryptoError.invalidLength(what: "\(algorithm) ciphertext", expected: ">= \(icvLen)", got: ciphertext.count)
        }
        var body = Array(ciphertext[0..<(ciphertext.count - icvLen)])
        let icv = Array(ciphertext[(ciphertext.count - icvLen)...])
        try body.withUnsafeMutableBytes { b in
            try iv.withUnsafeBytes { ivb in
                try aad.withUnsafeBytes { ab in
                    try icv.withUnsafeBytes { ib in try decrypt(iv: ivb, aad: ab, inPlace: b, icv: ib) }
                }
            }
        }
        return body
    }

    // MARK: In-place API (ESP hot path, no allocation)

    /// Encrypts `buffer` in place. `icv` receives the AEAD ICV and must be exactly
    /// `icvLength` bytes (empty for non-AEAD). `aad` is the AEAD associated data (ESP:
    /// SPI | SN, or SPI | ESN 64 bits); for GMAC per RFC 4543 §3.5 pass SPI | SN | IV and
    /// the buffer is authenticated, not encrypted.
    public func encrypt(iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                        inPlace buffer: UnsafeMutableRawBufferPointer, icv: UnsafeMutableRawBufferPointer) throws {
        try run(encCtx, encrypting: true, iv: iv, aad: aad, buffer: buffer, icv: UnsafeRawBufferPointer(icv), icvOut: icv)
    }

    /// Decrypts `buffer` in place after checking `icv` (AEAD). On `authenticationFailed`
    /// the buffer holds unauthenticated bytes and must be discarded.
    public func decrypt(iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                        inPlace buffer: UnsafeMutableRawBufferPointer, icv: UnsafeRawBufferPointer) throws {
        try run(decCtx, encrypting: false, iv: iv, aad: aad, buffer: buffer, icv: icv, icvOut: nil)
    }

    private func run(_ ctx: OpaquePointer?, encrypting: Bool, iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                     buffer: UnsafeMutableRawBufferPointer, icv: UnsafeRawBufferPointer,
                     icvOut: UnsafeMutableRawBufferPointer?) throws {
        guard iv.count == algorithm.ivLength else {
            throw CryptoError.invalidLength(what: "\(algorithm) IV", expected: "\(algorithm.ivLength)", got: iv.count)
        }
        guard icv.count == algorithm.icvLength else {
            throw CryptoError.invalidLength(what: "\(algorithm) ICV", expected: "\(algorithm.icvLength)", got: icv.count)
        }
        guard buffer.count % algorithm.blockSize == 0 else {
            throw CryptoError.invalidLength(what: "\(algorithm) data (multiple of \(algorithm.blockSize))",
                                            expected: "\((buffer.count / algorithm.blockSize + 1) * algorithm.blockSize)", got: buffer.count)
        }
        guard buffer.count < Int(Int32.max), aad.count < Int(Int32.max) else {
            throw CryptoError.invalidLength(what: "\(algorithm) data", expected: "< 2^31", got: buffer.count)
        }
        guard let ctx else { return } // ENCR_NULL
        let ivPointer: UnsafePointer<UInt8>
        switch mode {
        case .none: return
        case .block:
            ivPointer = iv.baseAddress!.assumingMemoryBound(to: UInt8.self) // count > 0 checked above
        case .ctr:
            (nonce + 4).update(from: iv.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8)
            nonce[12] = 0; nonce[13] = 0; nonce[14] = 0; nonce[15] = 1
            ivPointer = UnsafePointer(nonce)
        case .gcm, .gmac:
            (nonce + 4).update(from: iv.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8)
            ivPointer = UnsafePointer(nonce)
        }
        try check(EVP_CipherInit_ex(ctx, nil, nil, nil, ivPointer, -1), "EVP_CipherInit_ex(IV) \(algorithm)")
        var outLen: Int32 = 0
        let data = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let n = Int32(buffer.count)
        switch mode {
        case .none: return
        case .block, .ctr:
            if n > 0 {
                try check(EVP_CipherUpdate(ctx, data, &outLen, data, n), "EVP_CipherUpdate \(algorithm)")
                guard outLen == n else {
                    throw CryptoError.openssl(operation: "EVP_CipherUpdate \(algorithm)", detail: "produced \(outLen) of \(n) bytes")
                }
            }
        case .gcm, .gmac:
            if !encrypting {
                try check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(icv.count), UnsafeMutableRawPointer(mutating: icv.baseAddress)),
                          "EVP_CTRL_AEAD_SET_TAG")
            }
            if aad.count > 0 {
                try check(EVP_CipherUpdate(ctx, nil, &outLen, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)),
                          "EVP_CipherUpdate(AAD)")
            }
            if n > 0 {
                if mode == .gmac {
                    try check(EVP_CipherUpdate(ctx, nil, &outLen, data, n), "EVP_CipherUpdate(GMAC AAD)")
                } else {
                    try check(EVP_CipherUpdate(ctx, data, &outLen, data, n), "EVP_CipherUpdate \(algorithm)")
                }
            }
            let rc = EVP_CipherFinal_ex(ctx, nonce + 16, &outLen)
            if !encrypting {
                guard rc == 1 else { _ = opensslErrorString(); throw CryptoError.authenticationFailed }
            } else {
                try check(rc, "EVP_CipherFinal_ex \(algorithm)")
                if let out = icvOut {
                    try check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(out.count), out.baseAddress), "EVP_CTRL_AEAD_GET_TAG")
                }
            }
        }
    }
}

/// The AES ciphers fetched from the default provider once per process. A legacy
/// `EVP_aes_128_cbc()` handle makes every `EVP_CipherInit_ex` fetch the implementation by
/// name again, which was a visible share of setting up an IKE SA's SK protection.
final class FetchedCiphers: @unchecked Sendable {
    // @unchecked: filled in `init`, only read afterwards; the EVP_CIPHERs live for the process.
    private let table: [String: OpaquePointer]
    init() {
        var t: [String: OpaquePointer] = [:]
        for mode in ["CBC", "CTR", "GCM", "ECB"] {
            for bits in [128, 192, 256] {
                let name = "AES-\(bits)-\(mode)"
                if let c = EVP_CIPHER_fetch(nil, name, nil) { t[name] = c } else { _ = opensslErrorString() }
            }
        }
        table = t
    }
    /// The fetched cipher, or the legacy handle if the fetch failed (never expected).
    func aes(_ mode: String, bits: Int) -> OpaquePointer? {
        if let c = table["AES-\(bits)-\(mode)"] { return c }
        switch (mode, bits) {
        case ("CBC", 128): return EVP_aes_128_cbc()
        case ("CBC", 192): return EVP_aes_192_cbc()
        case ("CBC", _): return EVP_aes_256_cbc()
        case ("CTR", 128): return EVP_aes_128_ctr()
        case ("CTR", 192): return EVP_aes_192_ctr()
        case ("CTR", _): return EVP_aes_256_ctr()
        case ("ECB", 128): return EVP_aes_128_ecb()
        case ("ECB", 192): return EVP_aes_192_ecb()
        case ("ECB", _): return EVP_aes_256_ecb()
        case (_, 128): return EVP_aes_128_gcm()
        case (_, 192): return EVP_aes_192_gcm()
        default: return EVP_aes_256_gcm()
        }
    }
}
let fetchedCiphers = FetchedCiphers()
