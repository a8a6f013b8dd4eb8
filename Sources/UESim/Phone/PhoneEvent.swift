import IKEv2

/// The steps of one UE's run, in the order a call-flow ladder shows them.
public enum PhoneStep: String, Sendable, CaseIterable {
    case ikeSAInit = "IKE_SA_INIT"
    case ikeAuth = "IKE_AUTH (EAP-AKA)"
    case childSA = "CHILD_SA + CFG_REPLY"
    case register = "SIP REGISTER (IMS AKA)"
    case subscribe = "SUBSCRIBE reg event"
    case notify = "NOTIFY reg event"
    case invite = "INVITE"
    case media = "RTP echo"
    case bye = "BYE"
    case ikeDelete = "IKE DELETE"
    /// Not a step: a note about the run (profile features not expressible, etc.).
    case note = "note"
}

/// How a step ended.
public enum PhoneVerdict: Sendable, Equatable {
    case pass
    case fail(String)
    case info(String)
    public var passed: Bool { if case .pass = self { return true }; return false }
}

/// One finished step: what, when (seconds on the caller's clock), outcome, details for the ladder.
public struct PhoneEvent: Sendable, Equatable, CustomStringConvertible {
    public var step: PhoneStep
    public var start: Double
    public var end: Double
    public var verdict: PhoneVerdict
    public var detail: String

    public init(step: PhoneStep, start: Double, end: Double, verdict: PhoneVerdict, detail: String = "") {
        self.step = step; self.start = start; self.end = end; self.verdict = verdict; self.detail = detail
    }

    public var duration: Double { end - start }

    public var description: String {
        let v: String
        switch verdict { case .pass: v = "PASS"; case .fail(let r): v = "FAIL (\(r))"; case .info(let s): v = "INFO (\(s))" }
        return "\(step.rawValue): \(v) \(Int((duration * 1000).rounded())) ms" + (detail.isEmpty ? "" : " — " + detail)
    }
}

/// One message on the wire, for the ladder (every IKE and SIP message; RTP only summarised).
public struct PhoneTrace: Sendable, Equatable, CustomStringConvertible {
    public enum Direction: String, Sendable { case sent = "->", received = "<-" }
    public var at: Double
    public var direction: Direction
    /// "IKEv2", "SIP", "RTP".
    public var layer: String
    public var summary: String
    public var description: String { "\(direction.rawValue) [\(layer)] \(summary)" }
}

/// What the phone asks its host to do.
public enum PhoneAction: Sendable, Equatable {
    /// Send this UDP payload from `from` to `to` (an IKE message, with the 4-byte non-ESP
    /// marker already in front when the ports are not 500, RFC 3948 §2.2).
    case sendIKE([UInt8], from: IKEEndpoint, to: IKEEndpoint)
    /// Send this ESP packet: as a UDP payload when `udpEncapsulated` (port 4500), else as IP protocol 50.
    case sendESP([UInt8], from: IKEEndpoint, to: IKEEndpoint, udpEncapsulated: Bool)
    case event(PhoneEvent)
    case trace(PhoneTrace)
    /// A log line from the IKE layers.
    case log(String)
    /// Call `timer(now:)` at this time.
    case wake(at: Double)
    /// The run is over.
    case done(success: Bool)
}
