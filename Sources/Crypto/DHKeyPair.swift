import COpenSSL

/// One side of an IKEv2 key exchange: a fresh private key for `group`, its public value
/// in KE payload encoding, and the shared secret g^ir from the peer's value.
/// Create a new instance per exchange (IKE_SA_INIT, each CREATE_CHILD_SA with PFS).
public final class DHKeyPair: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is immutable after init; OpenSSL allows concurrent
    // derivations from one key, each with its own EVP_PKEY_CTX.
    public let group: DHGroup
    /// Key Exchange Data: MODP big-endian padded to the prime length; ECP x | y
    /// (RFC 5903 §7); Curve25519/448 the 32/56-byte u-coordinate (RFC 8031).
    public let publicValue: [UInt8]
    private let pkey: OpaquePointer
    /// The MODP prime p, big-endian, `publicValueLength` bytes (empty for other kinds).
    private let prime: [UInt8]

    /// Generates a fresh key pair with OpenSSL's DRBG.
    public convenience init(group: DHGroup) throws {
        let key: OpaquePointer
        switch group.kind {
        case .modp:
            // From the domain parameters built once per group (not a named-group lookup per key).
            let built = modpTemplates.pkey[group] == nil ? try pkeyFromData(type: "DH", selection: KeySelection.parameters, Self.modpDomain(group)) : nil
            defer { if let built { EVP_PKEY_free(built) } }
            guard let domain = modpTemplates.pkey[group] ?? built, let ctx = EVP_PKEY_CTX_new_from_pkey(nil, domain, nil) else {
                throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_pkey(DH)", detail: opensslErrorString())
            }
            defer { EVP_PKEY_CTX_free(ctx) }
            key = try Self.generate(ctx, params: nil, what: "\(group)")
        case .ecp:
            // From the cached domain parameters: the group is copied, not rebuilt from its name.
            guard let t = ecTemplates.pkey[group], let ctx = EVP_PKEY_CTX_new_from_pkey(nil, t, nil) else {
                throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_pkey(EC)", detail: opensslErrorString())
            }
            defer { EVP_PKEY_CTX_free(ctx) }
            key = try Self.generate(ctx, params: nil, what: "\(group)")
        case .montgomery:
            guard let ctx = EVP_PKEY_CTX_new_from_name(nil, group == .curve25519 ? "X25519" : "X448", nil) else {
                throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_name(\(group))", detail: opensslErrorString())
            }
            defer { EVP_PKEY_CTX_free(ctx) }
            key = try Self.generate(ctx, params: nil, what: "\(group)")
        }
        try self.init(group: group, adopting: key)
    }

    /// Test-only: a key pair with a fixed private key (big-endian integer for MODP and
    /// ECP, the RFC 7748 scalar bytes for Curve25519/448), for known-answer tests.
    convenience init(group: DHGroup, privateKey: [UInt8]) throws {
        let key: OpaquePointer
        switch group.kind {
        case .modp:
            let domainParams = try Self.modpDomain(group)
            let domain = try pkeyFromData(type: "DH", selection: KeySelection.parameters, domainParams)
            defer { EVP_PKEY_free(domain) }
            let p = try pkeyBigEndianParam(domain, "p"), g = try pkeyBigEndianParam(domain, "g")
            let pub = try BigNum.modExp(base: g, exponent: privateKey, modulus: p)
            domainParams.bigEndianInteger("priv", privateKey)
            domainParams.bigEndianInteger("pub", pub)
            key = try pkeyFromData(type: "DH", selection: KeySelection.keyPair, domainParams)
        case .ecp:
            let pub = try BigNum.ecPublicPoint(curveNID: group == .ecp256 ? NID_X9_62_prime256v1 : group == .ecp384 ? NID_secp384r1 : NID_secp521r1,
                                               privateKey: privateKey)
            let params = OSSLParamList()
            params.utf8("group", group.curveName ?? "")
            params.bigEndianInteger("priv", privateKey)
            params.octets("pub", pub)
            key = try pkeyFromData(type: "EC", selection: KeySelection.keyPair, params)
        case .montgomery:
            guard let k = EVP_PKEY_new_raw_private_key_ex(nil, group == .curve25519 ? "X25519" : "X448", nil, privateKey, privateKey.count) else {
                throw CryptoError.openssl(operation: "EVP_PKEY_new_raw_private_key_ex(\(group))", detail: opensslErrorString())
            }
            key = k
        }
        try self.init(group: group, adopting: key)
    }

    private init(group: DHGroup, adopting key: OpaquePointer) throws {
        do {
            switch group.kind {
            case .modp:
                publicValue = try pkeyBigEndianParam(key, "pub", length: group.publicValueLength)
                prime = try modpTemplates.prime[group] ?? pkeyBigEndianParam(key, "p", length: group.publicValueLength)
            case .ecp:
                var buf = [UInt8](repeating: 0, count: group.publicValueLength + 1)
                var len = 0
                try check(EVP_PKEY_get_octet_string_param(key, cKey("encoded-pub-key"), &buf, buf.count, &len), "get encoded-pub-key")
                guard len == buf.count, buf[0] == 0x04 else {
                    throw CryptoError.openssl(operation: "EC public key encoding", detail: "unexpected \(len)-byte point")
                }
                publicValue = Array(buf[1...])
                prime = []
            case .montgomery:
                var buf = [UInt8](repeating: 0, count: group.publicValueLength)
                var len = buf.count
                try check(EVP_PKEY_get_raw_public_key(key, &buf, &len), "EVP_PKEY_get_raw_public_key")
                publicValue = Array(buf.prefix(len))
                prime = []
            }
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        self.group = group
        self.pkey = key
    }

    deinit { EVP_PKEY_free(pkey) }

    /// g^ir from the peer's Key Exchange Data. Throws `invalidPublicValue` when the value
    /// has the wrong length, is outside 1 < y < p-1 or not in the group (MODP), is not on
    /// the curve (ECP), or yields the all-zero secret (Curve25519/448, RFC 8031 §2).
    public func sharedSecret(peerPublicValue peer: [UInt8]) throws -> [UInt8] {
        guard peer.count == group.publicValueLength else {
            throw CryptoError.invalidPublicValue("\(group): \(peer.count) bytes, expected \(group.publicValueLength)")
        }
        let peerKey: OpaquePointer
        switch group.kind {
        case .modp:
            var one = [UInt8](repeating: 0, count: peer.count); one[one.count - 1] = 1
            var pMinus1 = prime; pMinus1[pMinus1.count - 1] &-= 1 // p is odd: no borrow
            guard one.lexicographicallyPrecedes(peer), peer.lexicographicallyPrecedes(pMinus1) else {
                throw CryptoError.invalidPublicValue("\(group): not 1 < y < p-1")
            }
            if let t = modpTemplates.pkey[group], let k = EVP_PKEY_new(), EVP_PKEY_copy_parameters(k, t) == 1 {
                // The group's parameters copied from the template, y set as its encoded public key.
                guard EVP_PKEY_set1_encoded_public_key(k, peer, peer.count) == 1 else {
                    EVP_PKEY_free(k)
                    throw CryptoError.invalidPublicValue("\(group): \(opensslErrorString())")
                }
                peerKey = k
            } else {
                _ = opensslErrorString()
                let params = try Self.modpDomain(group)
                params.bigEndianInteger("pub", peer)
                do { peerKey = try pkeyFromData(type: "DH", selection: KeySelection.publicKey, params) } catch {
                    throw CryptoError.invalidPublicValue("\(group): \(error)")
                }
            }
        case .ecp:
            // A copy of the cached domain parameters plus the point; EC_KEY_oct2key checks that
            // the point is on the curve.
            guard let t = ecTemplates.pkey[group], let k = EVP_PKEY_new() else {
                throw CryptoError.openssl(operation: "EVP_PKEY_new", detail: opensslErrorString())
            }
            let point = [0x04] + peer
            guard EVP_PKEY_copy_parameters(k, t) == 1, EVP_PKEY_set1_encoded_public_key(k, point, point.count) == 1 else {
                EVP_PKEY_free(k)
                _ = opensslErrorString()
                throw CryptoError.invalidPublicValue("\(group): not a point on the curve")
            }
            peerKey = k
        case .montgomery:
            guard let k = EVP_PKEY_new_raw_public_key_ex(nil, group == .curve25519 ? "X25519" : "X448", nil, peer, peer.count) else {
                throw CryptoError.invalidPublicValue("\(group): \(opensslErrorString())")
            }
            peerKey = k
        }
        defer { EVP_PKEY_free(peerKey) }
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_pkey", detail: opensslErrorString())
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_derive_init(ctx), "EVP_PKEY_derive_init(\(group))")
        if group.kind == .modp {
            try check(EVP_PKEY_CTX_set_dh_pad(ctx, 1), "EVP_PKEY_CTX_set_dh_pad")
        }
        // RFC 6989: safe-prime MODP needs only 1 < y < p-1 (checked above) and an ECP point only
        // being on the curve (EVP_PKEY_fromdata checks it; P-256/384/521 have cofactor 1).
        // OpenSSL's full check would add y^q mod p (a 2047-bit exponent) or n*Q per derive.
        let fullCheck: Int32 = group.kind == .montgomery || [.modp1024s160, .modp2048s224, .modp2048s256].contains(group) ? 1 : 0
        guard EVP_PKEY_derive_set_peer_ex(ctx, peerKey, fullCheck) == 1 else {
            throw CryptoError.invalidPublicValue("\(group): rejected by public key check: \(opensslErrorString())")
        }
        var len = 0
        try check(EVP_PKEY_derive(ctx, nil, &len), "EVP_PKEY_derive(size)")
        var out = [UInt8](repeating: 0, count: max(len, group.sharedSecretLength))
        guard EVP_PKEY_derive(ctx, &out, &len) == 1 else {
            // X25519/X448 fail here on an all-zero result (small-order peer point).
            throw CryptoError.invalidPublicValue("\(group): derivation failed: \(opensslErrorString())")
        }
        var secret = Array(out.prefix(len))
        if secret.count < group.sharedSecretLength {
            secret = [UInt8](repeating: 0, count: group.sharedSecretLength - secret.count) + secret
        }
        guard secret.contains(where: { $0 != 0 }) else {
            throw CryptoError.invalidPublicValue("\(group): all-zero shared secret")
        }
        return secret
    }

    /// Domain parameters of a MODP group (for the per-process templates).
    static func modpParameters(_ group: DHGroup) throws -> OSSLParamList { try modpDomain(group) }

    /// Domain parameters: OpenSSL's named group, or p and g = 2 of RFC 2409 groups 1 and 2.
    private static func modpDomain(_ group: DHGroup) throws -> OSSLParamList {
        let params = OSSLParamList()
        if let name = group.ffcGroupName {
            params.utf8("group", name)
        } else {
            guard let bn = group == .modp768 ? BN_get_rfc2409_prime_768(nil) : BN_get_rfc2409_prime_1024(nil) else {
                throw CryptoError.openssl(operation: "BN_get_rfc2409_prime", detail: opensslErrorString())
            }
            defer { BN_free(bn) }
            var p = [UInt8](repeating: 0, count: group.publicValueLength)
            guard BN_bn2binpad(bn, &p, Int32(p.count)) == Int32(p.count) else {
                throw CryptoError.openssl(operation: "BN_bn2binpad(p)", detail: opensslErrorString())
            }
            params.bigEndianInteger("p", p)
            params.bigEndianInteger("g", [2])
        }
        return params
    }

    private static func generate(_ ctx: OpaquePointer, params: OSSLParamList?, what: String) throws -> OpaquePointer {
        try check(EVP_PKEY_keygen_init(ctx), "EVP_PKEY_keygen_init(\(what))")
        if let params {
            try check(params.with { EVP_PKEY_CTX_set_params(ctx, $0) }, "EVP_PKEY_CTX_set_params(\(what))")
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(ctx, &key) == 1, let k = key else {
            throw CryptoError.openssl(operation: "EVP_PKEY_generate(\(what))", detail: opensslErrorString())
        }
        return k
    }
}

/// BIGNUM helpers for the test-only fixed-key paths (OpenSSL arithmetic, nothing hand-rolled).
enum BigNum {
    static func modExp(base: [UInt8], exponent: [UInt8], modulus: [UInt8]) throws -> [UInt8] {
        guard let ctx = BN_CTX_new() else { throw CryptoError.openssl(operation: "BN_CTX_new", detail: opensslErrorString()) }
        defer { BN_CTX_free(ctx) }
        let b = BN_bin2bn(base, Int32(base.count), nil), e = BN_bin2bn(exponent, Int32(exponent.count), nil)
        let m = BN_bin2bn(modulus, Int32(modulus.count), nil), r = BN_new()
        defer { BN_free(b); BN_clear_free(e); BN_free(m); BN_free(r) }
        try check(BN_mod_exp(r, b, e, m, ctx), "BN_mod_exp")
        var out = [UInt8](repeating: 0, count: modulus.count)
        guard BN_bn2binpad(r, &out, Int32(out.count)) == Int32(out.count) else {
            throw CryptoError.openssl(operation: "BN_bn2binpad", detail: opensslErrorString())
        }
        return out
    }

    /// The uncompressed point 0x04 | x | y of privateKey * G on the named curve.
    static func ecPublicPoint(curveNID: Int32, privateKey: [UInt8]) throws -> [UInt8] {
        guard let grp = EC_GROUP_new_by_curve_name(curveNID), let pt = EC_POINT_new(grp), let ctx = BN_CTX_new() else {
            throw CryptoError.openssl(operation: "EC_GROUP_new_by_curve_name", detail: opensslErrorString())
        }
        defer { EC_POINT_free(pt); EC_GROUP_free(grp); BN_CTX_free(ctx) }
        let d = BN_bin2bn(privateKey, Int32(privateKey.count), nil)
        defer { BN_clear_free(d) }
        try check(EC_POINT_mul(grp, pt, d, nil, nil, ctx), "EC_POINT_mul")
        let len = EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, nil, 0, ctx)
        var out = [UInt8](repeating: 0, count: len)
        guard len > 0, EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, &out, len, ctx) == len else {
            throw CryptoError.openssl(operation: "EC_POINT_point2oct", detail: opensslErrorString())
        }
        return out
    }
}

/// Domain parameters of the ECP groups, built once per process.
private final class ECTemplates: @unchecked Sendable {
    // @unchecked: parameter-only keys, never modified after init; OpenSSL only reads them.
    let pkey: [DHGroup: OpaquePointer]
    init() {
        var d: [DHGroup: OpaquePointer] = [:]
        for g in [DHGroup.ecp256, .ecp384, .ecp521] {
            let params = OSSLParamList()
            params.utf8("group", g.curveName ?? "")
            if let k = try? pkeyFromData(type: "EC", selection: KeySelection.parameters, params) { d[g] = k }
        }
        pkey = d
    }
}
private let ecTemplates = ECTemplates()

/// Domain parameters (and the prime p as KE-length bytes) of the MODP groups, built once per
/// process: a keygen then copies them instead of resolving the named group each time, and the
/// prime for the 1 < y < p-1 check is not exported from every key.
private final class MODPTemplates: @unchecked Sendable {
    // @unchecked: parameter-only keys and byte arrays, never modified after init.
    let pkey: [DHGroup: OpaquePointer]
    let prime: [DHGroup: [UInt8]]
    init() {
        var d: [DHGroup: OpaquePointer] = [:], p: [DHGroup: [UInt8]] = [:]
        for g in DHGroup.allCases where g.kind == .modp {
            guard let params = try? DHKeyPair.modpParameters(g),
                  let k = try? pkeyFromData(type: "DH", selection: KeySelection.parameters, params) else { continue }
            guard let prime = try? pkeyBigEndianParam(k, "p", length: g.publicValueLength) else { EVP_PKEY_free(k); continue }
            d[g] = k; p[g] = prime
        }
        pkey = d; prime = p
    }
}
private let modpTemplates = MODPTemplates()
