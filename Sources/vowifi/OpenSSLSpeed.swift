import Foundation

/// Runs `openssl speed` in the same process tree as a benchmark, so every recorded
/// figure sits beside the crypto ceiling of the same machine in the same run.
enum OpenSSLSpeed {
    /// Bytes/s of an EVP cipher or digest at one buffer size (`openssl speed -evp NAME -bytes N`).
    static func evp(_ name: String, bytes: Int, seconds: Int = 1, extra: [String] = []) -> Double? {
        guard let out = run(["speed", "-mr", "-seconds", String(seconds), "-bytes", String(bytes)] + extra + ["-evp", name]) else { return nil }
        // Machine-readable line: "+F:<n>:<name>:<bytes/s>"
        for line in out.split(separator: "\n") where line.hasPrefix("+F:") {
            if let v = line.split(separator: ":").last.flatMap({ Double($0) }) { return v }
        }
        return nil
    }

    /// Operations/s of a key agreement (`openssl speed ecdhp256`, `ffdh2048`, `ecdhx25519`).
    static func keyAgreement(_ name: String, seconds: Int = 1) -> Double? {
        guard let out = run(["speed", "-mr", "-seconds", String(seconds), name]) else { return nil }
        // "+F5:<k>:<bits>:<ops per s>:<s per op>" (ECDH), "+F8:..." (FFDH).
        for line in out.split(separator: "\n") where line.hasPrefix("+F") && !line.hasPrefix("+F:") {
            let f = line.split(separator: ":")
            if f.count >= 5, let v = Double(f[3]) { return v }
        }
        return nil
    }

    private static func run(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// The CPU model and core count, for the header of recorded figures.
    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
}
