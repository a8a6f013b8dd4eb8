/// The result of one check in a UE's flow.
public enum Verdict: String, Sendable, Equatable {
    case pass = "PASS", fail = "FAIL", missing = "MISSING"
}

/// The three columns of the ladder.
public enum Lane: Int, Sendable, Equatable, Comparable {
    case ue = 0, epdg = 1, ims = 2
    public static func < (a: Lane, b: Lane) -> Bool { a.rawValue < b.rawValue }
    public var title: String { switch self { case .ue: "UE"; case .epdg: "ePDG"; case .ims: "IMS" } }
}

/// The steps of an attach, registration and call, in the order a phone goes through them.
public enum StepKind: String, Sendable, CaseIterable, Equatable {
    case ikeSAInit = "IKE_SA_INIT"
    case eapAKA = "EAP-AKA"
    case ikeAuth = "IKE_AUTH"
    case childSA = "Child SA"
    case cfgReply = "CFG_REPLY"
    case register = "SIP REGISTER"
    case subscribe = "SIP SUBSCRIBE"
    case invite = "SIP INVITE"
    case rtp = "RTP echo"
    case bye = "SIP BYE"
    case delete = "INFORMATIONAL DELETE"

    /// Steps a phone may skip without anything being wrong.
    public var isOptional: Bool { self == .subscribe }
}

/// One arrow of the ladder.
public struct FlowEvent: Sendable, Equatable {
    /// Seconds since 1970 (capture time).
    public var time: Double
    public var from: Lane
    public var to: Lane
    public var label: String
    public var step: StepKind
    /// An error answer (rendered red).
    public var isError: Bool
    /// Capture frame number, for looking the packet up in Wireshark.
    public var frame: Int

    public init(time: Double, from: Lane, to: Lane, label: String, step: StepKind, isError: Bool = false, frame: Int = 0) {
        self.time = time; self.from = from; self.to = to; self.label = label; self.step = step; self.isError = isError; self.frame = frame
    }
}

/// One checked step: its verdict, what was seen, and in words why it failed.
public struct FlowStep: Sendable, Equatable {
    public var kind: StepKind
    public var verdict: Verdict
    /// What was seen (algorithms, SPIs, addresses, counts).
    public var summary: String
    /// Why it failed or is missing, and what to check; nil when it passed.
    public var explanation: String?
    public var time: Double?

    public init(kind: StepKind, verdict: Verdict, summary: String, explanation: String? = nil, time: Double? = nil) {
        self.kind = kind; self.verdict = verdict; self.summary = summary; self.explanation = explanation; self.time = time
    }

    /// A failed or missing step that is not optional.
    public var isProblem: Bool { verdict != .pass && !(kind.isOptional && verdict == .missing) }
}

/// Everything rebuilt for one phone.
public struct UEFlow: Sendable, Equatable {
    /// IMSI from IDi or the capture comment, else the outer address.
    public var ue: String
    public var imsi: String?
    public var ueAddress: String
    public var epdgAddress: String
    public var innerAddresses: [String]
    public var pcscf: [String]
    public var events: [FlowEvent]
    public var steps: [FlowStep]

    public func step(_ k: StepKind) -> FlowStep? { steps.first { $0.kind == k } }
    /// The first step that failed or is missing (optional steps excepted).
    public var firstProblem: FlowStep? { steps.first { $0.isProblem } }
    public var passed: Bool { firstProblem == nil }
}

/// The analysis of a whole capture.
public struct AnalysisReport: Sendable, Equatable {
    public var source: String
    public var flows: [UEFlow]
    /// Things the reader should know (unusable key rows, undecryptable packets).
    public var notes: [String]
    public var passed: Bool { !flows.isEmpty && flows.allSatisfy(\.passed) }
}
