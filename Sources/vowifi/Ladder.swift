import Foundation
import UESim

/// Prints the call-flow ladder of a demo run: each message between UE, ePDG and IMS with
/// its time, and a verdict per step; the first failure explained.
final class Ladder: @unchecked Sendable {
    // @unchecked: `event` is called on the phone loop only; `finish` after it stopped.
    let quiet: Bool
    private var printedSteps = 0

    init(quiet: Bool) { self.quiet = quiet }

    func event(phone: Int, _ e: PhoneEvent) {
        guard !quiet, e.step != .note else { return }
        printedSteps += 1
    }

    /// Prints the ladder and the verdict table; true when every step of every phone passed.
    func finish(results: [PhoneHost.Result], out: String?) -> Bool {
        var allPassed = !results.isEmpty
        if results.count == 1, !quiet, let r = results.first {
            print("")
            print(pad("", 10) + pad("UE \(r.imsi)", 30) + pad("ePDG", 34) + "IMS")
            let t0 = r.traces.first?.at ?? 0
            for t in r.traces {
                let ms = String(format: "%7.1f ms", (t.at - t0) * 1000)
                let toIMS = t.layer == "SIP" || t.layer == "RTP"
                let arrow: String
                if t.direction == .sent {
                    arrow = toIMS ? "|--------------------------------------------------------->|" : "|------------------------->|"
                } else {
                    arrow = toIMS ? "|<---------------------------------------------------------|" : "|<-------------------------|"
                }
                print("\(ms)  \(arrow)  [\(t.layer)] \(t.summary)")
            }
        }
        print("")
        print(pad("step", 26) + pad("verdict", 9) + pad("time", 10) + "detail")
        for (i, r) in results.enumerated() {
            if results.count > 1 { print("UE \(i + 1) IMSI \(r.imsi):") }
            for e in r.events where e.step != .note {
                let v: String
                switch e.verdict { case .pass: v = "PASS"; case .fail: v = "FAIL"; case .info: v = "INFO" }
                var detail = e.detail
                if case let .fail(why) = e.verdict { detail = why + (detail.isEmpty ? "" : " — " + detail) }
                print(pad(e.step.rawValue, 26) + pad(v, 9) + pad(String(format: "%.0f ms", e.duration * 1000), 10) + detail)
                if case .fail = e.verdict { allPassed = false }
            }
            for e in r.events where e.step == .note { print("  note: \(e.detail)") }
            if !r.finished { print("  UE \(r.imsi) did not finish in time"); allPassed = false }
            else if !r.success { allPassed = false }
        }
        print("")
        print(allPassed ? "RESULT: PASS — every step passed" : "RESULT: FAIL — see the failed step above" + (out.map { " and \($0)/vowifi.log" } ?? ""))
        return allPassed
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
