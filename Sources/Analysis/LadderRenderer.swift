import Foundation

/// The text ladder: UE | ePDG | IMS columns, one arrow per message with its time since
/// the flow's first packet, a header per step with its verdict, then the verdict list and
/// the explanation of the first failed step.
public enum LadderRenderer {
    static let columns = [12, 58, 88]

    public static func render(_ report: AnalysisReport) -> String {
        var out = "vowifi analyze \(report.source)\n"
        if report.flows.isEmpty { out += "no UE flow found\n" }
        for f in report.flows { out += "\n" + render(f) }
        for n in report.notes { out += "note: \(n)\n" }
        out += "\nresult: " + (report.passed ? "all steps passed" : "\(report.flows.filter { !$0.passed }.count) of \(report.flows.count) UE flow(s) with a failed or missing step") + "\n"
        return out
    }

    public static func render(_ f: UEFlow) -> String {
        var out = "UE \(f.ue)  outer \(f.ueAddress)"
        if !f.innerAddresses.isEmpty { out += "  inner \(f.innerAddresses.joined(separator: ", "))" }
        out += "\nePDG \(f.epdgAddress)"
        if !f.pcscf.isEmpty { out += "   P-CSCF \(f.pcscf.joined(separator: ", "))" }
        out += "\n\n"
        var header = Array(repeating: Character(" "), count: columns[2] + 6)
        for (i, t) in ["UE", "ePDG", "IMS"].enumerated() {
            let start = columns[i] - t.count / 2
            for (j, c) in t.enumerated() { header[start + j] = c }
        }
        out += "  time  " + String(header).dropFirst(8).description.trimmingTrailing() + "\n"
        let t0 = f.events.first?.time ?? 0
        var current: StepKind?
        let verdicts = Dictionary(f.steps.map { ($0.kind, $0.verdict) }, uniquingKeysWith: { a, _ in a })
        for e in f.events {
            if e.step != current {
                current = e.step
                let v = verdicts[e.step]?.rawValue ?? ""
                let title = "── \(e.step.rawValue) "
                out += "        " + title + String(repeating: "─", count: max(2, columns[2] - 8 - title.count)) + " \(v)\n"
            }
            out += String(format: "%6.3f  ", e.time - t0) + arrow(e).dropFirst(8) + "\n"
        }
        out += "\nsteps:\n"
        for s in f.steps {
            let mark = s.verdict == .pass ? "PASS" : s.isProblem ? s.verdict.rawValue : "skip"
            out += "  [\(mark)] \(s.kind.rawValue): \(s.summary)\n"
        }
        if let p = f.firstProblem {
            out += "\nfirst problem: \(p.kind.rawValue) \(p.verdict.rawValue)\n  \(p.explanation ?? p.summary)\n"
        } else {
            out += "\nall steps passed\n"
        }
        return out
    }

    /// One arrow line: lifelines as `|`, the arrow between the two lanes with the label in it
    /// (or after the last lifeline when it does not fit).
    static func arrow(_ e: FlowEvent) -> String {
        let width = columns[2] + 2
        var line = Array(repeating: Character(" "), count: width)
        for c in columns { line[c] = "|" }
        let a = columns[e.from.rawValue], b = columns[e.to.rawValue]
        let lo = min(a, b), hi = max(a, b)
        guard hi > lo else { return String(line) }
        for i in (lo + 1)..<hi { line[i] = e.isError ? "=" : "-" }
        if a < b { line[hi - 1] = ">" } else { line[lo + 1] = "<" }
        let label = " " + e.label + " "
        let room = hi - lo - 4
        var tail = ""
        if label.count <= room {
            let start = lo + 2 + (room - label.count) / 2
            for (j, c) in label.enumerated() { line[start + j] = c }
        } else {
            let short = " " + String(e.label.prefix(max(0, room - 3))) + "… "
            let start = lo + 2
            for (j, c) in short.enumerated() where start + j < hi - 1 { line[start + j] = c }
            tail = "  " + e.label
        }
        return String(line).trimmingTrailing() + tail
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
