/// Errors raised by the Crypto layer. Each names the operation and, where OpenSSL
/// gave one, its error string, so a failure in the field can be traced.
public enum CryptoError: Error, Equatable, CustomStringConvertible, Sendable {
    /// OpenSSL returned failure; `operation` says which call, `detail` is ERR_error_string.
    case openssl(operation: String, detail: String)
    /// A key, IV or nonce of the wrong size was given.
    case invalidLength(what: String, expected: String, got: Int)
    /// The algorithm is not available in this OpenSSL build (e.g. Blowfish without the legacy provider).
    case unsupported(String)
    /// An authentication tag or ICV did not verify.
    case authenticationFailed
    /// A peer's public value was out of range or not on the curve.
    case invalidPublicValue(String)
    /// Input could not be parsed (PEM, DER, hex).
    case invalidEncoding(String)

    public var description: String {
        switch self {
        case let .openssl(op, detail): return "OpenSSL \(op) failed: \(detail)"
        case let .invalidLength(what, expected, got): return "\(what): expected \(expected) bytes, got \(got)"
        case let .unsupported(s): return "unsupported on this system: \(s)"
        case .authenticationFailed: return "authentication tag did not verify"
        case let .invalidPublicValue(s): return "invalid peer public value: \(s)"
        case let .invalidEncoding(s): return "invalid encoding: \(s)"
        }
    }
}
