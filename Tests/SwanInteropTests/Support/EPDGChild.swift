import Foundation
import Glibc
import Runtime
import XCTest

/// Our ePDG (the whole `VoWiFiCore`, TUN inner path) in a network namespace: this test binary
/// re-run under `ip netns exec` with SWAN_EPDG_DIR set, so the process, its sockets, its TUN
/// device and the `ip` commands it runs all live in the namespace. It writes `ready` once
/// listening, `status` twice a second (IKE SAs and Child SAs it holds), and stops on SIGTERM
/// (IKE SAs deleted first, as `vowifi run` does).
enum EPDGChild {
    static let envKey = "SWAN_EPDG_DIR"

    static var childDirectory: String? { ProcessInfo.processInfo.environment[envKey] }

    /// The child's body: returns when SIGTERM arrives.
    static func run(dir: String) throws {
        Signals.blockInCurrentThread([SIGINT, SIGTERM])
        var o = CoreOptions(mmeConfigPath: dir + "/mme.cfg", imsConfigPath: dir + "/ims.cfg", innerPath: .tun)
        o.peerCertificateAuthorities = FileManager.default.fileExists(atPath: dir + "/peer-ca.pem") ? dir + "/peer-ca.pem" : nil
        o.keyLogDirectory = dir + "/keys"
        try? FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
        let core = try VoWiFiCore(options: o)
        try core.start()
        guard let group = core.group else { throw ShellError.failed("no event loop group", -1, "") }
        try core.summary().write(toFile: dir + "/ready", atomically: true, encoding: .utf8)
        let stop = StopFlag()
        let statusThread = Thread {
            while !stop.isSet {
                // The ePDG is sharded over the loops: sum what every shard holds.
                var established = 0, ikeSAs = 0, childSAs = 0, imsis: [String] = []
                for (i, e) in (core.cluster?.shards ?? []).enumerated() {
                    guard let r = try? group.loops[i].submit({ () -> (Int, Int, Int, [String]) in
                        let est = e.responder.allSAs.filter(\.isEstablished)
                        return (e.established, est.count, est.reduce(0) { $0 + $1.children.count }, est.map(\.imsi))
                    }) else { continue }
                    established += r.0; ikeSAs += r.1; childSAs += r.2; imsis += r.3
                }
                let s: String? = "established=\(established) ikeSAs=\(ikeSAs) childSAs=\(childSAs) inner=" + imsis.joined(separator: ",") + "\n"
                try? s?.write(toFile: dir + "/status", atomically: true, encoding: .utf8)
                usleep(500_000)
            }
        }
        statusThread.start()
        _ = try group.waitForSignal()
        stop.set()
        core.stop()
        try "stopped\n".write(toFile: dir + "/stopped", atomically: true, encoding: .utf8)
    }

    /// Parent side: starts the child for `testID` ("Class/method") in `ns`.
    static func start(ns: String, dir: String, testID: String) throws -> Process {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var args = NetnsPair.exec(ns, [exe])
        if exe.hasSuffix("/xctest") || exe.hasSuffix("swift-testing-helper") {
            args.append(CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? "")
        }
        args.append("SwanInteropTests.\(testID)")
        let p = try Shell.spawn(args, env: [envKey: dir], logPath: dir + "/child.out")
        guard Shell.waitUntil(30, { FileManager.default.fileExists(atPath: dir + "/ready") || !p.isRunning }), p.isRunning else {
            throw ShellError.failed("ePDG child did not start", -1, Shell.read(dir + "/child.out") + Shell.read(dir + "/vowifi.log").suffix(3000))
        }
        return p
    }

    static func stop(_ p: Process?) {
        guard let p, p.isRunning else { return }
        p.terminate()
        if !Shell.waitUntil(10, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }
}

final class StopFlag: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
