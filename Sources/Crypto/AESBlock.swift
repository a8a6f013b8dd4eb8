import COpenSSL

/// A single-block AES encryptor (ECB on exactly 16 bytes), the kernel E_K of Milenage
/// (TS 35.206) and of XCBC/CMAC constructions. Holds one EVP context per key so that
/// repeated blocks under the same key (f1..f5*) do not re-run the key schedule.
public final class AESBlockCipher: @unchecked Sendable {
    // @unchecked: the context is only touched inside `encrypt`, which callers must not
    // share across threads concurrently; each AKA computation makes its own instance.
    private let ctx: OpaquePointer

    public init(key: [UInt8]) throws {
        guard [16, 24, 32].contains(key.count) else {
            throw CryptoError.invalidLength(what: "AES key", expected: "16, 24 or 32", got: key.count)
        }
        // Fetched once per process: a static EVP_aes_128_ecb() is looked up by name on every init.
        let cipher = fetchedCiphers.aes("ECB", bits: key.count * 8)
        guard let c = EVP_CIPHER_CTX_new() else { throw CryptoError.openssl(operation: "EVP_CIPHER_CTX_new", detail: opensslErrorString()) }
        ctx = c
        try check(EVP_EncryptInit_ex(ctx, cipher, nil, key, nil), "EVP_EncryptInit_ex(AES-ECB)")
        EVP_CIPHER_CTX_set_padding(ctx, 0)
    }

    deinit { EVP_CIPHER_CTX_free(ctx) }

    /// E_K(block) for one 16-byte block.
    public func encrypt(_ block: [UInt8]) -> [UInt8] {
        precondition(block.count == 16, "AES block must be 16 bytes, got \(block.count)")
        var out = [UInt8](repeating: 0, count: 32)
        var outLen: Int32 = 0
        let rc = EVP_EncryptUpdate(ctx, &out, &outLen, block, 16)
        precondition(rc == 1 && outLen == 16, "AES-ECB block encryption failed: \(opensslErrorString())")
        return Array(out.prefix(16))
    }
}
