import Foundation

/// A self-contained HTML page: per UE an inline SVG sequence diagram (UE, ePDG, IMS
/// lifelines, one arrow per message, step bands coloured by verdict) and the step table
/// with explanations. No scripts, no external resources.
public enum HTMLRenderer {
    /// A left gutter of 190 px holds the step names; labels are cut to the span of their arrow.
    static let laneX = [250, 540, 830]
    static let rowHeight = 26
    static let width = 960

    public static func render(_ report: AnalysisReport) -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>VoWiFi flow: \(esc(report.source))</title>
        <style>
        body{font-family:sans-serif;margin:24px;color:#222;background:#fff}
        h1{font-size:20px} h2{font-size:17px;margin-top:32px}
        table{border-collapse:collapse;margin:12px 0} td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top;text-align:left}
        .PASS{background:#e3f6e3} .FAIL{background:#fbe0e0} .MISSING{background:#f0f0f0} .skip{background:#fafafa;color:#777}
        .problem{border:2px solid #c33;background:#fff3f3;padding:8px 12px;margin:12px 0}
        .ok{border:2px solid #393;background:#f3fff3;padding:8px 12px;margin:12px 0}
        svg text{font-family:monospace;font-size:12px}
        </style></head><body>
        <h1>VoWiFi flow analysis: \(esc(report.source))</h1>
        <p>\(report.passed ? "All steps passed." : "Some steps failed or are missing.") \(report.flows.count) UE flow(s).</p>

        """
        for f in report.flows { h += flowSection(f) }
        if !report.notes.isEmpty {
            h += "<h2>Notes</h2><ul>" + report.notes.map { "<li>\(esc($0))</li>" }.joined() + "</ul>\n"
        }
        h += "</body></html>\n"
        return h
    }

    static func flowSection(_ f: UEFlow) -> String {
        var h = "<h2>UE \(esc(f.ue)) — outer \(esc(f.ueAddress)), ePDG \(esc(f.epdgAddress))"
        if !f.innerAddresses.isEmpty { h += ", inner \(esc(f.innerAddresses.joined(separator: ", ")))" }
        if !f.pcscf.isEmpty { h += ", P-CSCF \(esc(f.pcscf.joined(separator: ", ")))" }
        h += "</h2>\n"
        if let p = f.firstProblem {
            h += "<div class=\"problem\"><b>\(esc(p.kind.rawValue)) \(p.verdict.rawValue):</b> \(esc(p.explanation ?? p.summary))</div>\n"
        } else {
            h += "<div class=\"ok\"><b>All steps passed.</b></div>\n"
        }
        h += svg(f)
        h += "<table><tr><th>step</th><th>verdict</th><th>what was seen</th><th>why</th></tr>\n"
        for s in f.steps {
            let cls = s.verdict == .pass ? "PASS" : s.isProblem ? s.verdict.rawValue : "skip"
            h += "<tr class=\"\(cls)\"><td>\(esc(s.kind.rawValue))</td><td>\(cls == "skip" ? "optional, not seen" : s.verdict.rawValue)</td><td>\(esc(s.summary))</td><td>\(esc(s.explanation ?? ""))</td></tr>\n"
        }
        h += "</table>\n"
        return h
    }

    static func svg(_ f: UEFlow) -> String {
        let top = 50
        let height = top + max(1, f.events.count) * rowHeight + 30
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"sequence diagram\">\n"
        s += """
        <defs><marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker>
        <marker id="ahr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c33"/></marker></defs>
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>

        """
        // Step bands behind the rows of each step.
        let verdicts = Dictionary(f.steps.map { ($0.kind, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < f.events.count {
            var j = i
            while j + 1 < f.events.count && f.events[j + 1].step == f.events[i].step { j += 1 }
            let st = verdicts[f.events[i].step]
            let fill = st?.verdict == .pass ? "#e3f6e3" : st?.verdict == .fail ? "#fbe0e0" : "#f0f0f0"
            let y = top + i * rowHeight
            s += "<rect x=\"0\" y=\"\(y)\" width=\"\(width)\" height=\"\((j - i + 1) * rowHeight)\" fill=\"\(fill)\" stroke=\"#fff\"/>\n"
            s += "<text x=\"4\" y=\"\(y + 14)\" fill=\"#555\">\(esc(f.events[i].step.rawValue)) \(st?.verdict.rawValue ?? "")</text>\n"
            i = j + 1
        }
        for (k, name) in ["UE", "ePDG", "IMS"].enumerated() {
            let x = laneX[k]
            s += "<rect x=\"\(x - 40)\" y=\"8\" width=\"80\" height=\"26\" rx=\"4\" fill=\"#246\" />"
            s += "<text x=\"\(x)\" y=\"26\" fill=\"#fff\" text-anchor=\"middle\" font-weight=\"bold\">\(name)</text>\n"
            s += "<line x1=\"\(x)\" y1=\"34\" x2=\"\(x)\" y2=\"\(height - 10)\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n"
        }
        let t0 = f.events.first?.time ?? 0
        for (n, e) in f.events.enumerated() {
            let y = top + n * rowHeight + 18
            let x1 = laneX[e.from.rawValue], x2 = laneX[e.to.rawValue]
            let color = e.isError ? "#c33" : "#333"
            s += "<text x=\"\(width - 4)\" y=\"\(y - 4)\" fill=\"#777\" text-anchor=\"end\">\(String(format: "%.3f", e.time - t0))s</text>\n"
            s += "<line x1=\"\(x1)\" y1=\"\(y)\" x2=\"\(x2)\" y2=\"\(y)\" stroke=\"\(color)\" stroke-width=\"1.5\" marker-end=\"url(#\(e.isError ? "ahr" : "ah"))\"/>\n"
            let fit = max(8, (abs(x2 - x1) - 24) * 10 / 72)   // monospace 12 px ≈ 7.2 px per character
            let label = e.label.count > fit ? String(e.label.prefix(fit - 1)) + "…" : e.label
            s += "<text x=\"\((x1 + x2) / 2)\" y=\"\(y - 4)\" fill=\"\(color)\" text-anchor=\"middle\"><title>\(esc(e.label)) (frame \(e.frame))</title>\(esc(label))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    static func esc(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}
