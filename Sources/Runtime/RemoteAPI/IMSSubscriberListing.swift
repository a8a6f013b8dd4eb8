import IMS

/// Subscriber sources that can enumerate their IMPIs, for `users_get` (which lists every
/// subscriber, registered or not, as the callbox does). Lookups alone suffice for the IMS
/// itself, so this stays out of `IMSSubscriberSource`.
protocol IMSSubscriberListing {
    var impis: [String] { get }
}

extension IMSMemorySubscribers: IMSSubscriberListing {
    var impis: [String] { Array(entries.keys) }
}

extension HSSIMSSubscribers: IMSSubscriberListing {}
