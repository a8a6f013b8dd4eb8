import Foundation
import Glibc
import XCTest

/// One charon daemon in a network namespace, with its own strongswan.conf, swanctl.conf,
/// credentials, vici socket and /run (a private mount namespace binds `dir/run` over /run, so
/// its pid file never meets a system charon or another test's).
final class Charon {
    let ns: String
    let dir: String
    var process: Process?
    var vici: String { "unix://\(dir)/run/charon.vici" }
    var conf: String { dir + "/strongswan.conf" }
    var logPath: String { dir + "/charon.log" }

    /// `plugins` are loaded explicitly (Debian's include files are not read); `pluginConfig`
    /// goes into charon.plugins.
    init(ns: String, dir: String, plugins: [String], pluginConfig: String, charonExtra: String = "") throws {
        self.ns = ns; self.dir = dir
        for sub in ["run", "swanctl/x509", "swanctl/x509ca", "swanctl/private"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        let text = """
        charon {
          load = \(plugins.joined(separator: " "))
          retransmit_timeout = 2
          retransmit_tries = 3
          \(charonExtra)
          filelog {
            log {
              path = \(logPath)
              default = 1
              ike = 2
              cfg = 2
              knl = 1
              enc = 1
              flush_line = yes
              time_format = %T
            }
          }
          plugins {
            vici { socket = \(vici) }
            \(pluginConfig)
          }
        }
        swanctl { load = pem pkcs1 pkcs8 x509 revocation constraints pubkey random }
        """
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
    }

    func start() throws {
        let charon = Shell.which("charon") ?? "/usr/lib/ipsec/charon"
        let script = "mount --bind \(dir)/run /run && exec \(charon)"
        process = try Shell.spawn(NetnsPair.exec(ns, ["unshare", "-m", "sh", "-c", script]),
                                  env: ["STRONGSWAN_CONF": conf], logPath: dir + "/charon.out")
        guard Shell.waitUntil(10, { FileManager.default.fileExists(atPath: dir + "/run/charon.vici") }) else {
            throw ShellError.failed("charon did not start", -1, Shell.read(dir + "/charon.out") + Shell.read(logPath))
        }
    }

    /// `swanctl <command> --uri ... args`.
    @discardableResult
    func swanctl(_ command: String, _ args: [String] = [], timeout: Int = 30) -> Shell.Result {
        Shell.run(["swanctl", command, "--uri", vici] + args, env: ["STRONGSWAN_CONF": conf], timeout: timeout)
    }

    func load(swanctlConf: String) throws {
        let path = dir + "/swanctl/swanctl.conf"
        try swanctlConf.write(toFile: path, atomically: true, encoding: .utf8)
        let r = swanctl("--load-all", ["--file", path, "--noprompt"])
        guard r.status == 0 else { throw ShellError.failed("swanctl --load-all", r.status, r.output) }
    }

    var log: String { Shell.read(logPath) }

    func stop() {
        guard let p = process, p.isRunning else { return }
        p.terminate() // SIGTERM to charon itself (ip netns exec, unshare and sh exec into it)
        if !Shell.waitUntil(5, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }
}
