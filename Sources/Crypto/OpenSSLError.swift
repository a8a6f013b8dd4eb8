import COpenSSL

/// Drains OpenSSL's thread-local error queue into one readable string.
func opensslErrorString() -> String {
    var parts: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        parts.append(String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return parts.isEmpty ? "no OpenSSL error queued" : parts.joined(separator: "; ")
}

/// Throws `CryptoError.openssl` unless `rc == 1` (OpenSSL's success convention).
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != 1 { throw CryptoError.openssl(operation: operation(), detail: opensslErrorString()) }
}
