import COpenSSL

/// Hash functions used by IKEv2, EAP-AKA, HTTP Digest and signatures.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case md5, sha1, sha256, sha384, sha512

    /// Output length in bytes.
    public var size: Int {
        switch self { case .md5: 16; case .sha1: 20; case .sha256: 32; case .sha384: 48; case .sha512: 64 }
    }

    /// OpenSSL's EVP_MD for this hash (static, never freed).
    var evp: OpaquePointer {
        switch self {
        case .md5: EVP_md5()
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }
}

public enum Digest {
    /// One-shot hash of `data`.
    public static func hash(_ algorithm: DigestAlgorithm, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        let rc = data.withUnsafeBytes { d in
            EVP_Digest(d.baseAddress, d.count, &out, &len, fetchedDigests.md[algorithm] ?? algorithm.evp, nil)
        }
        precondition(rc == 1, "EVP_Digest cannot fail for a built-in hash: \(opensslErrorString())")
        return Array(out.prefix(Int(len)))
    }
}

/// The digests fetched from the default provider once per process: a static `EVP_sha256()`
/// makes OpenSSL 3 fetch the implementation by name on every EVP_Digest call.
private final class FetchedDigests: @unchecked Sendable {
    // @unchecked: filled in init, only read afterwards; fetched EVP_MDs are immutable.
    let md: [DigestAlgorithm: OpaquePointer]
    init() {
        var d: [DigestAlgorithm: OpaquePointer] = [:]
        for a in DigestAlgorithm.allCases {
            if let m = EVP_MD_fetch(nil, a.openSSLName, nil) { d[a] = m }
        }
        md = d
    }
}
private let fetchedDigests = FetchedDigests()
