import COpenSSL

/// A pointer to an immortal NUL-terminated C string; OSSL_PARAM and OSSL_PARAM_BLD keep
/// key pointers without copying them, so keys must be static literals.
@inline(__always)
func cKey(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// An OSSL_PARAM array that owns copies of its values until it is freed, so the array
/// stays valid for the whole OpenSSL call it is passed to (which copies what it keeps).
final class OSSLParamList {
    private var storage: [UnsafeMutableRawPointer] = []
    private var params: [OSSL_PARAM] = []

    init() {}
    deinit { for p in storage { p.deallocate() } }

    private func copy(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: bytes.count) } }
        storage.append(p)
        return p
    }

    func utf8(_ key: StaticString, _ value: String) {
        let p = copy(Array(value.utf8) + [0])
        params.append(OSSL_PARAM_construct_utf8_string(cKey(key), p.assumingMemoryBound(to: CChar.self), 0))
    }

    func octets(_ key: StaticString, _ value: [UInt8]) {
        let p = copy(value)
        params.append(OSSL_PARAM_construct_octet_string(cKey(key), p, value.count))
    }

    /// An unsigned integer given big-endian; OSSL_PARAM integers are native-endian.
    func bigEndianInteger(_ key: StaticString, _ value: [UInt8]) {
        let native = 1.littleEndian == 1 ? Array(value.reversed()) : value
        let p = copy(native)
        params.append(OSSL_PARAM_construct_BN(cKey(key), p.assumingMemoryBound(to: UInt8.self), native.count))
    }

    func int32(_ key: StaticString, _ value: Int32) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 4)
        p.storeBytes(of: value, as: Int32.self)
        storage.append(p)
        params.append(OSSL_PARAM_construct_int(cKey(key), p.assumingMemoryBound(to: Int32.self)))
    }

    func with<R>(_ body: (UnsafeMutablePointer<OSSL_PARAM>) throws -> R) rethrows -> R {
        var all = params
        all.append(OSSL_PARAM_construct_end())
        return try all.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

/// EVP_PKEY_fromdata selections (the C macros are compound and not imported by Swift).
enum KeySelection {
    static let parameters: Int32 = 0x84   // EVP_PKEY_KEY_PARAMETERS
    static let publicKey: Int32 = 0x86    // EVP_PKEY_PUBLIC_KEY
    static let keyPair: Int32 = 0x87      // EVP_PKEY_KEYPAIR
}

/// Builds an EVP_PKEY of `type` ("DH", "EC", ...) from an OSSL_PARAM list.
func pkeyFromData(type: StaticString, selection: Int32, _ params: OSSLParamList) throws -> OpaquePointer {
    guard let ctx = EVP_PKEY_CTX_new_from_name(nil, cKey(type), nil) else {
        throw CryptoError.openssl(operation: "EVP_PKEY_CTX_new_from_name(\(type))", detail: opensslErrorString())
    }
    defer { EVP_PKEY_CTX_free(ctx) }
    try check(EVP_PKEY_fromdata_init(ctx), "EVP_PKEY_fromdata_init(\(type))")
    var pkey: OpaquePointer? = nil
    let rc = params.with { EVP_PKEY_fromdata(ctx, &pkey, selection, $0) }
    guard rc == 1, let k = pkey else {
        throw CryptoError.openssl(operation: "EVP_PKEY_fromdata(\(type))", detail: opensslErrorString())
    }
    return k
}

/// Reads a BIGNUM parameter of a key as big-endian bytes left-padded to `length` (or minimal if nil).
func pkeyBigEndianParam(_ pkey: OpaquePointer, _ name: StaticString, length: Int? = nil) throws -> [UInt8] {
    var bn: OpaquePointer? = nil
    guard EVP_PKEY_get_bn_param(pkey, cKey(name), &bn) == 1, let b = bn else {
        throw CryptoError.openssl(operation: "EVP_PKEY_get_bn_param(\(name))", detail: opensslErrorString())
    }
    defer { BN_clear_free(b) }
    let n = length ?? Int((BN_num_bits(b) + 7) / 8)
    var out = [UInt8](repeating: 0, count: n)
    guard BN_bn2binpad(b, &out, Int32(n)) == Int32(n) else {
        throw CryptoError.openssl(operation: "BN_bn2binpad(\(name))", detail: opensslErrorString())
    }
    return out
}

/// Process-wide OpenSSL objects fetched once. Sendable because OpenSSL's fetched
/// algorithm objects are immutable and reference counted thread-safely.
struct FetchedAlgorithm: @unchecked Sendable {
    let pointer: OpaquePointer?
}

enum Providers {
    /// Loads "default" and "legacy" into the default library context once. Loading any
    /// provider explicitly stops the implicit default one, hence both.
    static let legacyAvailable: Bool = {
        guard OSSL_PROVIDER_load(nil, "default") != nil else { return false }
        guard OSSL_PROVIDER_load(nil, "legacy") != nil else { _ = opensslErrorString(); return false }
        return true
    }()
}
