import Foundation
import Crypto

/// Runs Debian's eapol_test (an EAP peer that talks RADIUS itself) with an external SIM,
/// answering its UMTS-AUTH requests over the control socket.
struct EapolTestRunner {
    struct Run {
        var exitCode: Int32
        var output: String
        var sim: SIMResponder
        /// The MSK eapol_test derived (from its "MSK - hexdump" line), if printed.
        var msk: [UInt8]?
        var succeeded: Bool { exitCode == 0 && output.contains("\nSUCCESS") }
    }

    static let path = "/usr/bin/eapol_test"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }
    // nonisolated(unsafe): XCTest runs these tests serially on one thread; only names temp dirs.
    nonisolated(unsafe) static var counter = 0

    /// `method` is the eap= value ("AKA" or "AKA'").
    static func run(method: String, identity: String, sim: SIMResponder, serverPort: UInt16, secret: String,
                    timeout: Int = 8) throws -> Run {
        counter += 1
        let dir = "/tmp/aaa-eapol-\(getpid())-\(counter)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["AAA_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let conf = """
            ctrl_interface=\(dir)/ctrl
            external_sim=1
            network={
              ssid="vowifi-test"
              key_mgmt=WPA-EAP
              eap=\(method)
              identity="\(identity)"
            }

            """
        try conf.write(toFile: "\(dir)/eapol.conf", atomically: true, encoding: .utf8)
        let out = FileHandle(forWritingAtPath: "\(dir)/out.txt") ?? {
            _ = FileManager.default.createFile(atPath: "\(dir)/out.txt", contents: nil)
            return FileHandle(forWritingAtPath: "\(dir)/out.txt")!
        }()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-c", "\(dir)/eapol.conf", "-a", "127.0.0.1", "-p", "\(serverPort)", "-s", secret,
                       "-W", "-t", "\(timeout)"]
        p.standardOutput = out
        p.standardError = out
        try p.run()
        var sim = sim
        do {
            let ctrl = try WPACtrlClient(path: "\(dir)/ctrl/test", localPath: "\(dir)/client")
            _ = try ctrl.request("ATTACH")
            let deadline = Date().addingTimeInterval(Double(timeout) + 5)
            while p.isRunning && Date() < deadline {
                guard let m = ctrl.receive(timeout: 0.1) else { continue }
                if let rsp = sim.answer(m) { ctrl.send(rsp) }
            }
        } catch {
            p.terminate()
            p.waitUntilExit()
            throw error
        }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        try? out.close()
        let text = (try? String(contentsOfFile: "\(dir)/out.txt", encoding: .utf8)) ?? ""
        return Run(exitCode: p.terminationStatus, output: text, sim: sim, msk: parseMSK(text))
    }

    /// eapol_test prints keys as "EAP-SIM: keying material (MSK) - hexdump(len=64): 01 02 …".
    static func parseMSK(_ text: String) -> [UInt8]? {
        for line in text.split(separator: "\n") where line.contains("MSK") && !line.contains("EMSK")
            && line.contains("hexdump(len=64):") {
            guard let r = line.range(of: "):") else { continue }
            if let b = Hex.decode(String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)), b.count == 64 {
                return b
            }
        }
        return nil
    }
}
