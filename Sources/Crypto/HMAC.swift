import COpenSSL
import Synchronization

/// HMAC (RFC 2104) over OpenSSL's one-shot `HMAC()`; the building block of the IKEv2
/// PRFs, ESP integrity, EAP-AKA AT_MAC and Milenage-independent key derivations.
public enum HMAC {
    public static func mac(_ algorithm: DigestAlgorithm, key: [UInt8], data: [UInt8]) -> [UInt8] {
        if let c = hmacTemplates.take(algorithm) {
            defer { hmacTemplates.give(c, algorithm) }
            var zero: UInt8 = 0
            var ok = true
            let out = [UInt8](unsafeUninitializedCapacity: algorithm.size) { buf, n in
                var len = 0
                ok = key.withUnsafeBytes { k in
                    data.withUnsafeBytes { d in
                        // A non-NULL key re-keys the context: the pads of the previous user are replaced.
                        EVP_MAC_init(c, k.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafePointer(to: &zero) { $0 }, k.count, nil) == 1
                            && EVP_MAC_update(c, d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count) == 1
                            && EVP_MAC_final(c, buf.baseAddress, &len, buf.count) == 1
                    }
                }
                n = ok ? len : 0
            }
            precondition(ok, "HMAC cannot fail for a built-in hash: \(opensslErrorString())")
            return out
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
        let c = hmacContext(algorithm, key: key)
        if c == nil { _ = opensslErrorString() }
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

/// A new HMAC context keyed with `key`, from the digest's template (no provider look-up);
/// nil if OpenSSL refuses. The caller frees it.
func hmacContext(_ algorithm: DigestAlgorithm, key: [UInt8]) -> OpaquePointer? {
    guard let c = hmacTemplates.duplicate(algorithm) else { return nil }
    var zero: UInt8 = 0
    let ok = key.withUnsafeBytes { k in
        EVP_MAC_init(c, k.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafePointer(to: &zero) { $0 }, k.count, nil) == 1
    }
    if ok { return c }
    EVP_MAC_CTX_free(c)
    return nil
}

/// One HMAC context per digest with the digest already fetched, plus a few idle keyed
/// contexts per digest for one-shot MACs: a one-shot call re-keys an idle context instead of
/// duplicating and freeing one (two allocations and three digest-context copies each), and the
/// provider look-ups (EVP_MAC_fetch, EVP_MD_fetch by name) run once per process.
private final class HMACTemplates: Sendable {
    /// An EVP_MAC_CTX owned by whoever holds the value (idle list or one caller at a time).
    private struct Owned: @unchecked Sendable { let ctx: OpaquePointer }
    private struct Idle: ~Copyable { var ctx: [DigestAlgorithm: [Owned]] = [:] }
    /// Idle contexts kept per digest; more concurrent users duplicate and free their own.
    private static let idleLimit = 8
    private let templates: Mutex<[DigestAlgorithm: Owned]>
    private let idle = Mutex(Idle())

    init() {
        var d: [DigestAlgorithm: Owned] = [:]
        if let mac = EVP_MAC_fetch(nil, "HMAC", nil) {
            for a in DigestAlgorithm.allCases {
                guard let c = EVP_MAC_CTX_new(mac) else { continue }
                let p = OSSLParamList()
                p.utf8("digest", a.rawValue.uppercased())
                if p.with({ EVP_MAC_CTX_set_params(c, $0) }) == 1 { d[a] = Owned(ctx: c) } else { EVP_MAC_CTX_free(c) }
            }
            EVP_MAC_free(mac)
        }
        templates = Mutex(d)
    }

    /// A fresh duplicate of the template (the caller keys and frees it).
    func duplicate(_ a: DigestAlgorithm) -> OpaquePointer? {
        let copy: Owned? = templates.withLock { t in
            guard let template = t[a], let c = EVP_MAC_CTX_dup(template.ctx) else { return nil }
            return Owned(ctx: c)
        }
        return copy?.ctx
    }

    /// An idle context or a new duplicate; to be keyed with a non-NULL key before use.
    func take(_ a: DigestAlgorithm) -> OpaquePointer? {
        if let c = idle.withLock({ $0.ctx[a]?.popLast() }) { return c.ctx }
        return duplicate(a)
    }

    /// Returns a context taken with `take`.
    func give(_ c: OpaquePointer, _ a: DigestAlgorithm) {
        let owned = Owned(ctx: c)
        let kept = idle.withLock { s -> Bool in
            guard s.ctx[a, default: []].count < Self.idleLimit else { return false }
            s.ctx[a, default: []].append(owned)
            return true
        }
        if !kept { EVP_MAC_CTX_free(c) }
    }
}
private let hmacTemplates = HMACTemplates()
