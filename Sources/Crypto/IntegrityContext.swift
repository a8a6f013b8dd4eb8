import COpenSSL

/// Process-wide EVP_MAC implementations, fetched once.
enum MACImplementations {
    static let hmac = FetchedAlgorithm(pointer: EVP_MAC_fetch(nil, "HMAC", nil))
    static let cmac = FetchedAlgorithm(pointer: EVP_MAC_fetch(nil, "CMAC", nil))
}

/// A keyed integrity transform for one SA direction. HMAC and CMAC keep a pre-keyed
/// EVP_MAC_CTX that is re-initialised (same key, no key schedule) per packet.
/// Not thread-safe: confine each instance to the thread handling its SA.
public final class IntegrityContext: @unchecked Sendable {
    // @unchecked: the EVP_MAC_CTX and scratch buffer mutate per call; one SA, one thread.
    public let algorithm: IntegrityAlgorithm
    private let ctx: OpaquePointer?
    private let xcbc: AESXCBCMAC?
    /// Bytes 0..<64: full-length MAC before truncation (EVP_MAX_MD_SIZE); 64..<96: the
    /// recomputed ICV in `verify`.
    private let scratch: UnsafeMutablePointer<UInt8>

    public init(algorithm: IntegrityAlgorithm, key: [UInt8]) throws {
        guard key.count == algorithm.keyLength else {
            throw CryptoError.invalidLength(what: "\(algorithm) key", expected: "\(algorithm.keyLength)", got: key.count)
        }
        self.algorithm = algorithm
        if algorithm == .AUTH_AES_XCBC_96 {
            xcbc = try AESXCBCMAC(key: key)
            ctx = nil
        } else {
            xcbc = nil
            ctx = try makeMACContext(digest: algorithm.digest, key: key)
        }
        scratch = .allocate(capacity: 96)
        scratch.initialize(repeating: 0, count: 96)
    }

    deinit {
        EVP_MAC_CTX_free(ctx)
        scratch.update(repeating: 0, count: 96)
        scratch.deallocate()
    }

    /// The truncated ICV of `data`.
    public func mac(_ data: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.outputLength)
        try data.withUnsafeBytes { d in
            try out.withUnsafeMutableBytes { o in try mac(d, into: o) }
        }
        return out
    }

    /// Writes the truncated ICV of `data` followed by `trailer` (e.g. the high 32 bits of
    /// an ESN, RFC 4303 §2.2.1, which are authenticated but not sent) into `icv`, which
    /// must be `outputLength` bytes. No allocation for HMAC and CMAC.
    public func mac(_ data: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer? = nil,
                    into icv: UnsafeMutableRawBufferPointer) throws {
        guard icv.count == algorithm.outputLength else {
            throw CryptoError.invalidLength(what: "\(algorithm) ICV", expected: "\(algorithm.outputLength)", got: icv.count)
        }
        if let xcbc {
            let full: [UInt8]
            if let trailer, trailer.count > 0 {
                full = xcbc.mac(Array(data) + Array(trailer))
            } else {
                full = xcbc.mac(data)
            }
            for i in 0..<icv.count { icv[i] = full[i] }
            return
        }
        guard let ctx else { return }
        try check(EVP_MAC_init(ctx, nil, 0, nil), "EVP_MAC_init(reinit) \(algorithm)")
        if data.count > 0 {
            try check(EVP_MAC_update(ctx, data.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count), "EVP_MAC_update")
        }
        if let trailer, trailer.count > 0 {
            try check(EVP_MAC_update(ctx, trailer.baseAddress!.assumingMemoryBound(to: UInt8.self), trailer.count), "EVP_MAC_update")
        }
        var outLen = 0
        try check(EVP_MAC_final(ctx, scratch, &outLen, 64), "EVP_MAC_final \(algorithm)")
        guard outLen >= icv.count else {
            throw CryptoError.openssl(operation: "EVP_MAC_final \(algorithm)", detail: "short output \(outLen)")
        }
        icv.copyMemory(from: UnsafeRawBufferPointer(start: scratch, count: icv.count))
    }

    /// Constant-time check of a received ICV.
    public func verify(_ data: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer? = nil,
                       icv: UnsafeRawBufferPointer) throws -> Bool {
        guard icv.count == algorithm.outputLength else { return false }
        try mac(data, trailer: trailer, into: UnsafeMutableRawBufferPointer(start: scratch + 64, count: icv.count))
        return CRYPTO_memcmp(scratch + 64, icv.baseAddress, icv.count) == 0
    }

    public func verify(_ data: [UInt8], icv: [UInt8]) throws -> Bool {
        try data.withUnsafeBytes { d in try icv.withUnsafeBytes { i in try verify(d, icv: i) } }
    }
}

/// An EVP_MAC_CTX keyed once: HMAC over `digest`, or AES-128-CMAC when `digest` is nil.
func makeMACContext(digest: DigestAlgorithm?, key: [UInt8]) throws -> OpaquePointer {
    if let digest, let c = hmacContext(digest, key: key) { return c }
    let impl = digest == nil ? MACImplementations.cmac : MACImplementations.hmac
    guard let mac = impl.pointer, let ctx = EVP_MAC_CTX_new(mac) else {
        throw CryptoError.openssl(operation: "EVP_MAC_CTX_new", detail: opensslErrorString())
    }
    let params = OSSLParamList()
    if let digest {
        params.utf8("digest", digest.openSSLName)
    } else {
        params.utf8("cipher", "AES-128-CBC")
    }
    let rc = params.with { p in key.withUnsafeBytes { k in EVP_MAC_init(ctx, k.baseAddress?.assumingMemoryBound(to: UInt8.self), k.count, p) } }
    guard rc == 1 else {
        EVP_MAC_CTX_free(ctx)
        throw CryptoError.openssl(operation: "EVP_MAC_init", detail: opensslErrorString())
    }
    return ctx
}

extension DigestAlgorithm {
    /// OpenSSL's algorithm name for EVP_MD_fetch and OSSL_PARAM "digest".
    var openSSLName: String {
        switch self { case .md5: "MD5"; case .sha1: "SHA1"; case .sha256: "SHA256"; case .sha384: "SHA384"; case .sha512: "SHA512" }
    }
}
