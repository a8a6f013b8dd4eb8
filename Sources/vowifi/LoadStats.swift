import Foundation
import UESim

/// What `vowifi load` measures, fed with the phones' events on the phone loop: counts, the
/// times of each attach/registration/call (for rates), step latencies and failures by cause.
struct LoadStats: Sendable {
    var started = 0
    var attached = 0
    var registered = 0
    var callsPlaced = 0
    /// INVITEs that ended (answered or failed), whoever started them.
    var invites = 0
    var callsUp = 0
    var callsDone = 0
    var failures = 0
    var failuresByCause: [String: Int] = [:]
    /// Pass durations per step, seconds.
    var latencies: [PhoneStep: [Double]] = [:]
    var firstStart: Double?
    var lastAttach: Double?
    var lastRegister: Double?
    var firstCall: Double?
    var lastCallUp: Double?
    var lastCallDone: Double?

    mutating func record(_ e: PhoneEvent) {
        guard e.step != .note else { return }
        if e.step == .invite { firstCall = min(firstCall ?? e.start, e.start); invites += 1 }
        switch e.verdict {
        case .pass:
            latencies[e.step, default: []].append(e.duration)
            switch e.step {
            case .childSA: attached += 1; lastAttach = e.end
            case .register: registered += 1; lastRegister = e.end
            case .invite: callsUp += 1; lastCallUp = e.end
            case .bye: callsDone += 1; lastCallDone = e.end
            default: break
            }
        case .fail(let why):
            failures += 1
            failuresByCause[Self.cause(step: e.step, why), default: 0] += 1
        case .info:
            break
        }
    }

    mutating func callPlaced(at t: Double) { callsPlaced += 1 }

    /// A failure reason without the per-phone details (SPIs, addresses, counts, times), so equal
    /// causes group; SIP status codes ("404 Not Found") stay.
    static func cause(step: PhoneStep, _ why: String) -> String {
        var text = String(why.prefix(160))
        for (pattern, template) in [("\\b[0-9]+(?! [A-Z][a-z])", "N"), ("(0x)?[0-9a-fA-F.:]*[0-9][0-9a-fA-F.:]{3,}", "…")] {
            guard let re = try? NSRegularExpression(pattern: pattern) else { continue }
            text = re.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
        }
        return "\(step.rawValue): \(text)"
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }
}

/// The final figures of a load run, printed as a table and written as JSON.
struct LoadReport: Codable {
    struct Machine: Codable { var nproc: Int; var cpu: String; var kernel: String; var build: String }
    struct Run: Codable {
        var ues: Int; var rate: Double?; var callRate: Double?; var calls: Int; var scenario: String; var profile: String
        var target: String; var mediaSeconds: Double
    }
    struct Counts: Codable {
        var started: Int; var attached: Int; var registered: Int; var callsPlaced: Int; var callsUp: Int; var callsCompleted: Int
        var failures: Int; var unfinished: Int
    }
    /// Each rate is a count over the span from the first start (first INVITE for calls) to the last such event.
    struct Rates: Codable {
        var attachesPerSecond: Double; var registrationsPerSecond: Double
        /// Calls answered (INVITE to 200 OK) per second, and calls ended with BYE per second (media time included).
        var callsPerSecond: Double; var callsCompletedPerSecond: Double
    }
    struct Latency: Codable { var step: String; var count: Int; var p50ms: Double; var p95ms: Double; var p99ms: Double; var maxms: Double }
    struct Failure: Codable { var cause: String; var count: Int }

    var date: String
    var machine: Machine
    var run: Run
    var durationSeconds: Double
    var counts: Counts
    var rates: Rates
    var latency: [Latency]
    var failures: [Failure]
    var passed: Bool

    init(stats s: LoadStats, run: Run, end: Double, unfinished: Int) {
        let f = ISO8601DateFormatter()
        date = f.string(from: Date())
        machine = Self.machine()
        self.run = run
        let t0 = s.firstStart ?? 0
        durationSeconds = max(0, end - t0)
        counts = Counts(started: s.started, attached: s.attached, registered: s.registered, callsPlaced: max(s.callsPlaced, s.invites),
                        callsUp: s.callsUp, callsCompleted: s.callsDone, failures: s.failures, unfinished: unfinished)
        func rate(_ n: Int, _ from: Double?, _ to: Double?) -> Double {
            guard n > 0, let from, let to, to > from else { return 0 }
            return Double(n) / (to - from)
        }
        rates = Rates(attachesPerSecond: rate(s.attached, s.firstStart, s.lastAttach),
                      registrationsPerSecond: rate(s.registered, s.firstStart, s.lastRegister),
                      callsPerSecond: rate(s.callsUp, s.firstCall, s.lastCallUp),
                      callsCompletedPerSecond: rate(s.callsDone, s.firstCall, s.lastCallDone))
        latency = PhoneStep.allCases.compactMap { step in
            guard let v = s.latencies[step], !v.isEmpty else { return nil }
            let sorted = v.sorted()
            return Latency(step: step.rawValue, count: v.count, p50ms: LoadStats.percentile(sorted, 50) * 1000,
                           p95ms: LoadStats.percentile(sorted, 95) * 1000, p99ms: LoadStats.percentile(sorted, 99) * 1000,
                           maxms: (sorted.last ?? 0) * 1000)
        }
        var fails = s.failuresByCause.map { Failure(cause: $0.key, count: $0.value) }
        if unfinished > 0 { fails.append(Failure(cause: "did not finish before the timeout", count: unfinished)) }
        failures = fails.sorted { $0.count != $1.count ? $0.count > $1.count : $0.cause < $1.cause }
        passed = s.failures == 0 && unfinished == 0 && s.started == run.ues
    }

    static func machine() -> Machine {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        var u = utsname()
        uname(&u)
        let kernel = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return Machine(nproc: ProcessInfo.processInfo.activeProcessorCount, cpu: cpu, kernel: kernel, build: build)
    }

    var table: String {
        var t = "\n"
        t += "load: \(run.ues) UEs (\(run.profile)), scenario \(run.scenario), against \(run.target)"
        t += run.rate.map { String(format: ", ramp %.0f attaches/s", $0) } ?? ", all at once"
        if let r = run.callRate { t += String(format: ", %d calls at %.1f/s", run.calls, r) }
        t += "\nmachine: nproc \(machine.nproc), \(machine.cpu), Linux \(machine.kernel), \(machine.build) build\n\n"
        t += pad("", 24) + rpad("count", 8) + rpad("per s", 10) + "\n"
        t += pad("attaches", 24) + rpad("\(counts.attached)", 8) + rpad(String(format: "%.1f", rates.attachesPerSecond), 10) + "\n"
        t += pad("registrations", 24) + rpad("\(counts.registered)", 8) + rpad(String(format: "%.1f", rates.registrationsPerSecond), 10) + "\n"
        t += pad("calls set up", 24) + rpad("\(counts.callsUp)", 8) + rpad(String(format: "%.1f", rates.callsPerSecond), 10) + "\n"
        t += pad("calls completed (BYE)", 24) + rpad("\(counts.callsCompleted)", 8) + rpad(String(format: "%.1f", rates.callsCompletedPerSecond), 10) + "\n"
        t += pad("failures", 24) + rpad("\(counts.failures + counts.unfinished)", 8) + "\n"
        t += String(format: "duration %.1f s\n\n", durationSeconds)
        t += pad("step latency (ms)", 26) + rpad("n", 6) + rpad("p50", 9) + rpad("p95", 9) + rpad("p99", 9) + rpad("max", 9) + "\n"
        for l in latency {
            t += pad(l.step, 26) + rpad("\(l.count)", 6) + rpad(String(format: "%.1f", l.p50ms), 9) + rpad(String(format: "%.1f", l.p95ms), 9)
                + rpad(String(format: "%.1f", l.p99ms), 9) + rpad(String(format: "%.1f", l.maxms), 9) + "\n"
        }
        if !failures.isEmpty {
            t += "\nfailures by cause:\n"
            for f in failures.prefix(12) { t += rpad("\(f.count)", 7) + "  " + f.cause + "\n" }
            if failures.count > 12 { t += "  … and \(failures.count - 12) more causes (see the JSON)\n" }
        }
        t += "\n" + (passed ? "RESULT: PASS — no failures" : "RESULT: FAIL — \(counts.failures + counts.unfinished) failures") + "\n"
        return t
    }

    func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    private func rpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
