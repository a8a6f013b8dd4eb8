/// Errors of the AKA layer: malformed inputs (lengths, encodings, parameters). A failed
/// MAC or SQN check on the USIM side is not an error but a `USIMResult`.
public enum AKAError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field (K, OP, RAND, AUTN, AUTS...) had the wrong size.
    case invalidLength(field: String, expected: String, got: Int)
    /// A parameter was out of range (res_len, r1..r5, IND bits, SQN > 48 bits...).
    case invalidParameter(String)
    /// Text that should carry AKA data (base64 nonce, hex) did not decode.
    case invalidEncoding(String)
    /// AUTS carried a MAC-S that does not verify (TS 33.102 §6.3.5).
    case resyncMACFailure

    public var description: String {
        switch self {
        case let .invalidLength(field, expected, got): return "\(field): expected \(expected) bytes, got \(got)"
        case let .invalidParameter(s): return "invalid AKA parameter: \(s)"
        case let .invalidEncoding(s): return "invalid encoding: \(s)"
        case .resyncMACFailure: return "AUTS MAC-S does not verify"
        }
    }
}

@inline(__always)
func requireLength(_ bytes: [UInt8], _ count: Int, _ field: String) throws {
    if bytes.count != count { throw AKAError.invalidLength(field: field, expected: "\(count)", got: bytes.count) }
}
