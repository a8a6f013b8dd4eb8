import AKA

/// Errors of the HSS/AuC. Each names the subscriber and what is wrong, for the logs.
public enum HSSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No subscriber with this IMSI.
    case unknownIMSI(String)
    /// The subscriber lacks a credential the algorithm needs (K, or OP/OPc for MILENAGE).
    case missingKey(String, String)
    /// AUTS whose MAC-S does not verify: the re-synchronisation is refused.
    case resyncMACFailure
    /// A subscriber entry is malformed (IMSI digits, key length, res_len, count...).
    case invalidSubscriber(String, String)
    /// Two entries carry the same IMSI.
    case duplicateIMSI(String)
    /// The subscriber's SEQ space (2^43 with 5 IND bits) is used up.
    case sqnExhausted(String)
    /// SQLite failed (open, pragma, write); the message carries sqlite3_errmsg.
    case database(String)
    /// Malformed AKA input (RAND/AUTS length...).
    case aka(AKAError)

    public var description: String {
        switch self {
        case let .unknownIMSI(i): return "unknown IMSI \(i)"
        case let .missingKey(i, f): return "subscriber \(i) has no \(f)"
        case .resyncMACFailure: return "AUTS MAC-S does not verify"
        case let .invalidSubscriber(i, r): return "subscriber \(i): \(r)"
        case let .duplicateIMSI(i): return "IMSI \(i) appears twice in ue_db"
        case let .sqnExhausted(i): return "subscriber \(i) has no SQN left"
        case let .database(m): return "SQN database: \(m)"
        case let .aka(e): return e.description
        }
    }
}
