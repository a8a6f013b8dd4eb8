import COpenSSL

/// The NIST curves used for ECDSA (IKEv2 auth methods 9/10/11, RFC 4754) and certificates.
public enum ECCurve: String, Sendable, CaseIterable {
    case p256 = "P-256", p384 = "P-384", p521 = "P-521"

    /// Bytes of one coordinate / scalar: r and s each take this much in the raw form.
    public var coordinateLength: Int {
        switch self { case .p256: 32; case .p384: 48; case .p521: 66 }
    }

    /// The hash RFC 4754 pairs with the curve (methods 9, 10, 11).
    public var rfc4754Digest: DigestAlgorithm {
        switch self { case .p256: .sha256; case .p384: .sha384; case .p521: .sha512 }
    }

    init?(openSSLGroupName name: String) {
        switch name {
        case "prime256v1", "P-256", "secp256r1": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        default: return nil
        }
    }
}

/// The algorithm of an asymmetric key.
public enum KeyKind: Equatable, Sendable, CustomStringConvertible {
    case rsa(bits: Int)
    case ec(ECCurve)

    public var description: String {
        switch self {
        case let .rsa(bits): "RSA-\(bits)"
        case let .ec(c): "ECDSA-\(c.rawValue)"
        }
    }
}

/// Signature schemes. IKEv2 AUTH method 1 is `.rsaPKCS1(.sha1)`; methods 9/10/11 are
/// `.ecdsaRaw(curve.rfc4754Digest)`; method 14 (RFC 7427) uses the DER/PSS forms.
public enum SignatureAlgorithm: Equatable, Sendable {
    /// RSASSA-PKCS1-v1_5 over the given hash.
    case rsaPKCS1(DigestAlgorithm)
    /// RSASSA-PSS, MGF1 with the same hash, salt length = hash length.
    case rsaPSS(DigestAlgorithm)
    /// ECDSA, signature as a DER ECDSA-Sig-Value (X.509, RFC 7427).
    case ecdsa(DigestAlgorithm)
    /// ECDSA, signature as r | s each left-padded to the curve size (RFC 4754).
    case ecdsaRaw(DigestAlgorithm)

    var digest: DigestAlgorithm {
        switch self { case let .rsaPKCS1(d), let .rsaPSS(d), let .ecdsa(d), let .ecdsaRaw(d): d }
    }
    var isRSA: Bool {
        switch self { case .rsaPKCS1, .rsaPSS: true; default: false }
    }
}

/// Reads the kind of an EVP_PKEY (RSA or one of the supported curves).
func keyKind(of pkey: OpaquePointer) throws -> KeyKind {
    if EVP_PKEY_is_a(pkey, "RSA") == 1 { return .rsa(bits: Int(EVP_PKEY_get_bits(pkey))) }
    if EVP_PKEY_is_a(pkey, "EC") == 1 {
        var buf = [CChar](repeating: 0, count: 64)
        var len = 0
        guard EVP_PKEY_get_utf8_string_param(pkey, "group", &buf, buf.count, &len) == 1 else {
            throw CryptoError.unsupported("EC key without a named curve")
        }
        let name = String(decoding: buf.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let curve = ECCurve(openSSLGroupName: name) else { throw CryptoError.unsupported("EC curve \(name)") }
        return .ec(curve)
    }
    _ = opensslErrorString()
    throw CryptoError.unsupported("key type \(String(cString: EVP_PKEY_get0_type_name(pkey)))")
}

/// A private key (RSA or ECDSA P-256/384/521) for IKEv2 AUTH and certificate signing.
public final class PrivateKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is never mutated after init; signing uses a fresh
    // EVP_MD_CTX per call, which OpenSSL allows concurrently on one key.
    let pkey: OpaquePointer
    public let kind: KeyKind

    init(adopting pkey: OpaquePointer) throws {
        do { kind = try keyKind(of: pkey) } catch { EVP_PKEY_free(pkey); throw error }
        self.pkey = pkey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Loads a PEM private key: PKCS#8 ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" with
    /// `password`), or traditional "RSA PRIVATE KEY" / "EC PRIVATE KEY".
    public convenience init(pem: String, password: String? = nil) throws {
        let key: OpaquePointer? = try withMemoryBIO(Array(pem.utf8)) { bio in
            if let password {
                return password.withCString { pw in
                    PEM_read_bio_PrivateKey(bio, nil, nil, UnsafeMutableRawPointer(mutating: pw))
                }
            }
            // A callback that supplies no password: OpenSSL's default one would prompt on
            // the terminal for an encrypted key, blocking a server.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key else { throw CryptoError.invalidEncoding("PEM private key: \(opensslErrorString())") }
        try self.init(adopting: key)
    }

    /// Loads a DER private key (PKCS#8 or traditional).
    public convenience init(der: [UInt8]) throws {
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_AutoPrivateKey(nil, &p, buf.count)
        }
        guard let key else { throw CryptoError.invalidEncoding("DER private key: \(opensslErrorString())") }
        try self.init(adopting: key)
    }

    /// A fresh RSA key (default 2048 bits, e = 65537).
    public static func generateRSA(bits: Int = 2048) throws -> PrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_name(RSA)", detail: opensslErrorString())
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_keygen_init(ctx), "EVP_PKEY_keygen_init(RSA)")
        try check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)), "EVP_PKEY_CTX_set_rsa_keygen_bits(\(bits))")
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(ctx, &key) == 1, let k = key else {
            throw CryptoError.openssl(operation: "EVP_PKEY_generate(RSA)", detail: opensslErrorString())
        }
        return try PrivateKey(adopting: k)
    }

    /// A fresh ECDSA key on `curve`.
    public static func generateEC(curve: ECCurve) throws -> PrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_name(EC)", detail: opensslErrorString())
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_keygen_init(ctx), "EVP_PKEY_keygen_init(EC)")
        let params = OSSLParamList()
        params.utf8("group", curve.rawValue)
        try check(params.with { EVP_PKEY_CTX_set_params(ctx, $0) }, "EVP_PKEY_CTX_set_params(\(curve.rawValue))")
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(ctx, &key) == 1, let k = key else {
            throw CryptoError.openssl(operation: "EVP_PKEY_generate(EC)", detail: opensslErrorString())
        }
        return try PrivateKey(adopting: k)
    }

    /// The matching public key.
    public var publicKey: PublicKey {
        // Both share the (reference-counted, immutable) EVP_PKEY.
        EVP_PKEY_up_ref(pkey)
        return PublicKey(sharing: pkey, kind: kind)
    }

    /// Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
    public func pemEncoded() throws -> String {
        let bytes = try collectingBIO { bio in
            try check(PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil), "PEM_write_bio_PrivateKey")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Signs `data` (hashing it with the algorithm's digest).
    public func sign(_ data: [UInt8], algorithm: SignatureAlgorithm) throws -> [UInt8] {
        try checkCompatible(kind, algorithm)
        guard let md = EVP_MD_CTX_new() else { throw CryptoError.openssl(operation: "EVP_MD_CTX_new", detail: opensslErrorString()) }
        defer { EVP_MD_CTX_free(md) }
        var pctx: OpaquePointer? = nil
        try check(EVP_DigestSignInit(md, &pctx, algorithm.digest.evp, nil, pkey), "EVP_DigestSignInit")
        try configure(pctx, algorithm)
        var len = 0
        try check(EVP_DigestSign(md, nil, &len, data, data.count), "EVP_DigestSign(size)")
        var sig = [UInt8](repeating: 0, count: len)
        try check(EVP_DigestSign(md, &sig, &len, data, data.count), "EVP_DigestSign")
        sig = Array(sig.prefix(len))
        if case .ecdsaRaw = algorithm, case let .ec(curve) = kind {
            return try ECDSASignature.derToRaw(sig, coordinateLength: curve.coordinateLength)
        }
        return sig
    }
}

/// A public key (RSA or ECDSA), from a certificate, PEM/DER SubjectPublicKeyInfo or a
/// private key; verifies signatures.
public final class PublicKey: @unchecked Sendable {
    // @unchecked: immutable EVP_PKEY, fresh EVP_MD_CTX per verification.
    let pkey: OpaquePointer
    public let kind: KeyKind

    init(sharing pkey: OpaquePointer, kind: KeyKind) {
        self.pkey = pkey
        self.kind = kind
    }

    init(adopting pkey: OpaquePointer) throws {
        do { kind = try keyKind(of: pkey) } catch { EVP_PKEY_free(pkey); throw error }
        self.pkey = pkey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Loads "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) PEM.
    public convenience init(pem: String) throws {
        let key = try withMemoryBIO(Array(pem.utf8)) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
        guard let key else { throw CryptoError.invalidEncoding("PEM public key: \(opensslErrorString())") }
        try self.init(adopting: key)
    }

    /// Loads a DER SubjectPublicKeyInfo.
    public convenience init(der: [UInt8]) throws {
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_PUBKEY(nil, &p, buf.count)
        }
        guard let key else { throw CryptoError.invalidEncoding("DER public key: \(opensslErrorString())") }
        try self.init(adopting: key)
    }

    /// An EC public key from its coordinates x | y (no 0x04 prefix), e.g. RFC 4754 vectors.
    public convenience init(curve: ECCurve, xy: [UInt8]) throws {
        guard xy.count == 2 * curve.coordinateLength else {
            throw CryptoError.invalidLength(what: "\(curve.rawValue) point", expected: "\(2 * curve.coordinateLength)", got: xy.count)
        }
        let params = OSSLParamList()
        params.utf8("group", curve.rawValue)
        params.octets("pub", [0x04] + xy)
        let key: OpaquePointer
        do { key = try pkeyFromData(type: "EC", selection: KeySelection.publicKey, params) } catch {
            throw CryptoError.invalidPublicValue("\(curve.rawValue): not a point on the curve")
        }
        try self.init(adopting: key)
    }

    /// DER SubjectPublicKeyInfo.
    public var derEncoded: [UInt8] {
        get throws { try derEncode({ i2d_PUBKEY(pkey, $0) }, what: "PUBKEY") }
    }

    /// PEM SubjectPublicKeyInfo.
    public func pemEncoded() throws -> String {
        let bytes = try collectingBIO { try check(PEM_write_bio_PUBKEY($0, pkey), "PEM_write_bio_PUBKEY") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True if `signature` is valid for `data`. Malformed signatures (bad DER, wrong raw
    /// length) and key/algorithm mismatches are reported as `false`, never thrown.
    public func verify(signature: [UInt8], data: [UInt8], algorithm: SignatureAlgorithm) -> Bool {
        guard (try? checkCompatible(kind, algorithm)) != nil else { return false }
        var sig = signature
        if case .ecdsaRaw = algorithm, case let .ec(curve) = kind {
            guard let der = try? ECDSASignature.rawToDER(signature, coordinateLength: curve.coordinateLength) else { return false }
            sig = der
        }
        guard let md = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(md); _ = opensslErrorString() }
        var pctx: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(md, &pctx, algorithm.digest.evp, nil, pkey) == 1,
              (try? configure(pctx, algorithm)) != nil else { return false }
        return EVP_DigestVerify(md, sig, sig.count, data, data.count) == 1
    }
}

private func checkCompatible(_ kind: KeyKind, _ algorithm: SignatureAlgorithm) throws {
    switch (kind, algorithm.isRSA) {
    case (.rsa, true), (.ec, false): return
    default: throw CryptoError.unsupported("\(algorithm) with a \(kind) key")
    }
}

/// Sets RSA padding for PSS (salt = digest length, MGF1 = signing digest by default).
private func configure(_ pctx: OpaquePointer?, _ algorithm: SignatureAlgorithm) throws {
    guard case .rsaPSS = algorithm else { return }
    try check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), "EVP_PKEY_CTX_set_rsa_padding(PSS)")
    try check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), "EVP_PKEY_CTX_set_rsa_pss_saltlen")
}

/// Conversion between DER ECDSA-Sig-Value and the fixed-size r | s form of RFC 4754.
public enum ECDSASignature {
    public static func derToRaw(_ der: [UInt8], coordinateLength n: Int) throws -> [UInt8] {
        let sig: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_ECDSA_SIG(nil, &p, buf.count)
        }
        guard let sig else { throw CryptoError.invalidEncoding("ECDSA DER signature: \(opensslErrorString())") }
        defer { ECDSA_SIG_free(sig) }
        var out = [UInt8](repeating: 0, count: 2 * n)
        guard let r = ECDSA_SIG_get0_r(sig), let s = ECDSA_SIG_get0_s(sig),
              out.withUnsafeMutableBufferPointer({ b in
                  BN_bn2binpad(r, b.baseAddress, Int32(n)) == Int32(n) && BN_bn2binpad(s, b.baseAddress! + n, Int32(n)) == Int32(n)
              }) else {
            throw CryptoError.invalidEncoding("ECDSA r or s longer than \(n) bytes")
        }
        return out
    }

    public static func rawToDER(_ raw: [UInt8], coordinateLength n: Int) throws -> [UInt8] {
        guard raw.count == 2 * n else {
            throw CryptoError.invalidLength(what: "ECDSA r|s signature", expected: "\(2 * n)", got: raw.count)
        }
        guard let sig = ECDSA_SIG_new() else { throw CryptoError.openssl(operation: "ECDSA_SIG_new", detail: opensslErrorString()) }
        defer { ECDSA_SIG_free(sig) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(n), nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + n, Int32(n), nil) }
        guard ECDSA_SIG_set0(sig, r, s) == 1 else {
            BN_free(r); BN_free(s)
            throw CryptoError.openssl(operation: "ECDSA_SIG_set0", detail: opensslErrorString())
        }
        return try derEncode({ i2d_ECDSA_SIG(sig, $0) }, what: "ECDSA_SIG")
    }
}
