import COpenSSL

/// Runs `body` with a read-only memory BIO over `bytes`.
func withMemoryBIO<R>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { raw in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
            throw CryptoError.openssl(operation: "BIO_new_mem_buf", detail: opensslErrorString())
        }
        defer { BIO_free(bio) }
        return try body(bio)
    }
}

/// Runs `body` with a writable memory BIO and returns what it wrote.
func collectingBIO(_ body: (OpaquePointer) throws -> Void) throws -> [UInt8] {
    guard let bio = BIO_new(BIO_s_mem()) else {
        throw CryptoError.openssl(operation: "BIO_new(mem)", detail: opensslErrorString())
    }
    defer { BIO_free(bio) }
    try body(bio)
    let n = Int(BIO_ctrl_pending(bio))
    var out = [UInt8](repeating: 0, count: n)
    if n > 0 { _ = BIO_read(bio, &out, Int32(n)) }
    return out
}

/// DER of an object through an i2d_* function (called once for the size, once to write).
func derEncode(_ i2d: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32, what: String) throws -> [UInt8] {
    let n = i2d(nil)
    guard n > 0 else { throw CryptoError.openssl(operation: "i2d(\(what))", detail: opensslErrorString()) }
    var out = [UInt8](repeating: 0, count: Int(n))
    let written = out.withUnsafeMutableBufferPointer { buf -> Int32 in
        var p: UnsafeMutablePointer<UInt8>? = buf.baseAddress
        return i2d(&p)
    }
    guard written == n else { throw CryptoError.openssl(operation: "i2d(\(what))", detail: opensslErrorString()) }
    return out
}
