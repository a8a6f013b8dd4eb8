/// Test hook of the callbox `ike_generate_error` object: at one step of the exchange, ignore the
/// phone's message or reject it with given Notify payloads, optionally only `ttl` times and only
/// for some APNs.
public struct IKEErrorInjection: Sendable, Equatable {
    public enum Exchange: String, Sendable, CaseIterable {
        case none
        case ike_sa_init
        /// First IKE_AUTH request (identities).
        case ike_auth_step1
        /// IKE_AUTH carrying the EAP response.
        case ike_auth_step2
        /// IKE_AUTH carrying AUTH.
        case ike_auth_step3
        /// A liveness check (empty INFORMATIONAL) from the phone.
        case dpd
        case mobike
    }
    public var exchange: Exchange
    /// nil: the message is ignored. Otherwise each entry becomes a Notify in the reply.
    public var rejectNotifies: [NotifyPayload]?
    /// Apply only this many times; nil = until changed.
    public var ttl: Int?
    /// Only for these APNs (IDr); empty = any.
    public var apns: [String]

    public init(exchange: Exchange, rejectNotifies: [NotifyPayload]? = nil, ttl: Int? = nil, apns: [String] = []) {
        self.exchange = exchange; self.rejectNotifies = rejectNotifies; self.ttl = ttl; self.apns = apns
    }
}

enum InjectedError {
    case ignore
    case reject([NotifyPayload])
}
