import AKA
import Crypto

/// Answers wpa_supplicant's external-SIM requests (`external_sim=1`) from a software USIM:
///   "<3>CTRL-REQ-SIM-<id>:UMTS-AUTH:<RAND>:<AUTN> needed for SSID <ssid>"
/// is answered with "CTRL-RSP-SIM-<id>:UMTS-AUTH:<IK>:<CK>:<RES>", "…:UMTS-AUTS:<AUTS>",
/// or, when MAC-A fails, a malformed answer, which makes the peer send
/// AKA-Authentication-Reject.
struct SIMResponder {
    var usim: USIM
    /// What the USIM said to each request, in order ("auth", "auts", "mac-failure").
    var outcomes: [String] = []

    /// The reply to send for an event, or nil if the event is not a SIM request.
    mutating func answer(_ event: String) -> String? {
        guard let r = event.range(of: "CTRL-REQ-SIM-") else { return nil }
        let body = event[r.upperBound...]
        let fields = body.split(separator: ":", maxSplits: 3).map(String.init)
        guard fields.count >= 4, fields[1] == "UMTS-AUTH" else { return nil }
        let id = fields[0]
        let rand = Hex.decode(fields[2]) ?? []
        let autn = Hex.decode(String(fields[3].prefix(32))) ?? []
        let result = (try? usim.authenticate(rand: rand, autn: autn)) ?? .macFailure
        switch result {
        case let .success(res, ck, ik):
            outcomes.append("auth")
            return "CTRL-RSP-SIM-\(id):UMTS-AUTH:\(ik.hex):\(ck.hex):\(res.hex)"
        case let .syncFailure(auts):
            outcomes.append("auts")
            return "CTRL-RSP-SIM-\(id):UMTS-AUTS:\(auts.hex)"
        case .macFailure:
            outcomes.append("mac-failure")
            return "CTRL-RSP-SIM-\(id):UMTS-FAIL"
        }
    }
}
