import Foundation
import Analysis

/// `vowifi analyze FILE [--keys DIR] [--log FILE] [--html OUT.html]`: prints the ladder of
/// each UE in a capture; exit 0 when every step passed, 1 otherwise, 2 on usage errors.
enum AnalyzeCommand {
    static let usage = "usage: vowifi analyze CAPTURE.pcapng [--keys DIR|FILE] [--log EPDG.log] [--html OUT.html]\n  DIR holds ikev2_decryption_table and esp_sa (or wireshark/ with them); default: next to the capture\n  --log: the core's log; with ikev2.key=1,ipsec.key=1 its key lines decrypt the capture without key files\n"

    static func run(_ args: [String]) -> Int32 {
        var file: String?, keys: String?, html: String?, log: String?
        var i = 0
        while i < args.count {
            let a = args[i]
            func value() -> String? { i += 1; return i < args.count ? args[i] : nil }
            switch a {
            case "--keys": guard let v = value() else { return fail("--keys needs a directory") }; keys = v
            case "--html": guard let v = value() else { return fail("--html needs a file name") }; html = v
            case "--log": guard let v = value() else { return fail("--log needs a file name") }; log = v
            case "-h", "--help": print(usage, terminator: ""); return 0
            default:
                if a.hasPrefix("-") || file != nil { return fail("unexpected argument '\(a)'") }
                file = a
            }
            i += 1
        }
        guard let file else { return fail("no capture file given") }
        var logText: String?
        if let log {
            guard let t = try? String(contentsOfFile: log, encoding: .utf8) else { return fail("cannot read \(log)") }
            logText = t
        }
        // --keys may also name a log file that quotes the key rows.
        var isDir: ObjCBool = false
        if let k = keys, FileManager.default.fileExists(atPath: k, isDirectory: &isDir), !isDir.boolValue {
            guard let t = try? String(contentsOfFile: k, encoding: .utf8) else { return fail("cannot read \(k)") }
            logText = (logText ?? "") + "\n" + t
            keys = nil
        }
        let report: AnalysisReport
        do { report = try FlowAnalyzer.analyze(path: file, keysDirectory: keys, logText: logText) } catch {
            FileHandle.standardError.write(Data("vowifi analyze: \(file): \(error)\n".utf8))
            return 2
        }
        print(LadderRenderer.render(report), terminator: "")
        if let html {
            do { try HTMLRenderer.render(report).write(toFile: html, atomically: true, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("vowifi analyze: cannot write \(html): \(error)\n".utf8))
                return 2
            }
        }
        return report.passed ? 0 : 1
    }

    static func fail(_ m: String) -> Int32 {
        FileHandle.standardError.write(Data("vowifi analyze: \(m)\n\(usage)".utf8))
        return 2
    }
}
