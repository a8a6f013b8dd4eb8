import COpenSSL

/// HMAC (RFC 2104) over OpenSSL's one-shot `HMAC()`; the building block of the IKEv2
/// PRFs, ESP integrity, EAP-AKA AT_MAC and Milenage-independent key derivations.
public enum HMAC {
    public static func mac(_ algorithm: DigestAlgorithm, key: [UInt8], data: [UInt8]) -> [UInt8] {
        if let t = hmacTemplates.ctx[algorithm], let c = EVP_MAC_CTX_dup(t) {
            defer { EVP_MAC_CTX_free(c) }
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var len = 0
            var zero: UInt8 = 0
            let ok = key.withUnsafeBytes { k in
                data.withUnsafeBytes { d in
                    EVP_MAC_init(c, k.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafePointer(to: &zero) { $0 }, k.count, nil) == 1
                        && EVP_MAC_update(c, d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count) == 1
                        && EVP_MAC_final(c, &out, &len, out.count) == 1
                }
            }
            precondition(ok, "HMAC cannot fail for a built-in hash: \(opensslErrorString())")
            return Array(out.prefix(len))
        }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        let p = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                COpenSSL.HMAC(algorithm.evp, k.baseAddress, Int32(k.count), d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, &out, &len)
            }
        }
        precondition(p != nil, "HMAC cannot fail for a built-in hash: \(opensslErrorString())")
        return Array(out.prefix(Int(len)))
    }
}

/// An HMAC keyed once and used for several messages (prf+ iterations): each `mac` restarts
/// from the stored inner/outer pads instead of hashing the key again.
public final class KeyedHMAC {
    private let ctx: OpaquePointer?
    private let algorithm: DigestAlgorithm
    private let key: [UInt8]

    public init(_ algorithm: DigestAlgorithm, key: [UInt8]) {
        self.algorithm = algorithm
        self.key = key
        var c = hmacTemplates.ctx[algorithm].flatMap { EVP_MAC_CTX_dup($0) }
        var zero: UInt8 = 0
        let ok = c.map { c in
            key.withUnsafeBytes { k in
                EVP_MAC_init(c, k.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafePointer(to: &zero) { $0 }, k.count, nil) == 1
            }
        } ?? false
        if !ok { EVP_MAC_CTX_free(c); c = nil; _ = opensslErrorString() }
        ctx = c
    }

    deinit { EVP_MAC_CTX_free(ctx) }

    /// HMAC(key, data).
    public func mac(_ data: [UInt8]) -> [UInt8] {
        guard let c = ctx else { return HMAC.mac(algorithm, key: key, data: data) }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len = 0
        let ok = data.withUnsafeBytes { d in
            // A NULL key re-initialises from the pads computed in `init` (OpenSSL 3 hmac_init).
            EVP_MAC_init(c, nil, 0, nil) == 1
                && EVP_MAC_update(c, d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count) == 1
                && EVP_MAC_final(c, &out, &len, out.count) == 1
        }
        precondition(ok, "HMAC cannot fail for a built-in hash: \(opensslErrorString())")
        out.removeLast(out.count - len)
        return out
    }
}

/// One HMAC context per digest with the digest already fetched; each call duplicates it, so
/// the provider look-ups (EVP_MAC_fetch, EVP_MD_fetch by name) run once per process.
private final class HMACTemplates: @unchecked Sendable {
    // @unchecked: the templates are only ever read (duplicated), never initialised or updated.
    let ctx: [DigestAlgorithm: OpaquePointer]
    init() {
        var d: [DigestAlgorithm: OpaquePointer] = [:]
        if let mac = EVP_MAC_fetch(nil, "HMAC", nil) {
            for a in DigestAlgorithm.allCases {
                guard let c = EVP_MAC_CTX_new(mac) else { continue }
                let p = OSSLParamList()
                p.utf8("digest", a.rawValue.uppercased())
                if p.with({ EVP_MAC_CTX_set_params(c, $0) }) == 1 { d[a] = c } else { EVP_MAC_CTX_free(c) }
            }
            EVP_MAC_free(mac)
        }
        ctx = d
    }
}
private let hmacTemplates = HMACTemplates()
