import Foundation
import Glibc
import Runtime

/// `vowifi bench sip`: SIPp drives the IMS of the assembled core on 127.0.0.1 (two-step MD5
/// REGISTER per second over many users, then INVITE-to-echo calls per second), and the same
/// REGISTER scenario drives Kamailio (registrar + auth_db over db_text, usrloc in memory) on
/// another loopback port, started here with a generated kamailio.cfg. Prints both side by side.
enum BenchSIP {
    struct Options {
        var users = 5000
        var calls = 2000
        var concurrency = 50
        var scenarios = ""
        var kamailio = true
        var keep = false
        /// IMS event loops (shards); nil: one per core, as `vowifi run`.
        var loops: Int? = nil
    }

    static func run(_ args: [String]) -> Int32 {
        var o = Options()
        var i = 0
        while i < args.count {
            let a = args[i], v = i + 1 < args.count ? args[i + 1] : ""
            switch a {
            case "--users": o.users = Int(v) ?? o.users; i += 1
            case "--calls": o.calls = Int(v) ?? o.calls; i += 1
            case "--concurrency": o.concurrency = Int(v) ?? o.concurrency; i += 1
            case "--scenarios": o.scenarios = v; i += 1
            case "--loops": o.loops = Int(v).map { max(1, $0) }; i += 1
            case "--no-kamailio": o.kamailio = false
            case "--keep": o.keep = true
            default:
                FileHandle.standardError.write(Data("usage: vowifi bench sip [--users N] [--calls N] [--concurrency N] [--loops N] [--scenarios DIR] [--no-kamailio] [--keep]\n".utf8))
                return 2
            }
            i += 1
        }
        guard FileManager.default.isExecutableFile(atPath: sipp) else {
            print("SIPp is missing (/usr/bin/sipp, Debian package sip-tester): nothing to drive the bench")
            return 1
        }
        if o.scenarios.isEmpty { o.scenarios = findScenarios() ?? "" }
        guard FileManager.default.fileExists(atPath: o.scenarios + "/bench_register_md5.xml") else {
            print("scenarios not found (Tests/IMSInteropTests/scenarios): run from the repository or pass --scenarios DIR")
            return 1
        }
        let dir = "/tmp/vowifi-bench-sip-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if !o.keep { try? FileManager.default.removeItem(atPath: dir) } }

        let users = (1...max(1, o.users)).map { ("bench\($0)", "pw\($0)") }
        var csv = "SEQUENTIAL\n"
        for (u, p) in users { csv += "\(u);\(p)\n" }
        try? csv.write(toFile: dir + "/users.csv", atomically: true, encoding: .utf8)

        print("SIP bench on 127.0.0.1 (UDP), SIPp \(sippVersion()) as the client, \(o.users) MD5 users, \(o.concurrency) calls in parallel")
        print("machine: \(machine())")

        // VoWiFi Core.
        var ours = (register: Result(), calls: Result())
        var loops = 1
        do {
            let port = try freePort()
            let core = try startCore(dir: dir, port: port, users: users, loops: o.loops)
            defer { core.stop() }
            loops = core.group?.loops.count ?? 1
            ours.register = runSIPp(o.scenarios + "/bench_register_md5.xml", port: port, dir: dir, tag: "ims-reg", calls: o.users,
                                    concurrency: o.concurrency, extra: ["-inf", dir + "/users.csv", "-au", "[field0]", "-ap", "[field1]"])
            ours.calls = runSIPp(o.scenarios + "/bench_echo_call.xml", port: port, dir: dir, tag: "ims-call", calls: o.calls,
                                 concurrency: o.concurrency, extra: ["-key", "user", users[0].0, "-key", "callee", "tel:666"])
        } catch {
            print("VoWiFi Core: cannot start: \(error)")
            return 1
        }

        // Kamailio.
        var kam: Result? = nil
        var kamNote = ""
        if !o.kamailio {
            kamNote = "not run (--no-kamailio)"
        } else if !FileManager.default.isExecutableFile(atPath: kamailioPath) {
            kamNote = "missing: \(kamailioPath) is not installed (Debian package kamailio; scripts/setup.sh --test)"
        } else {
            do {
                let port = try freePort()
                let k = try startKamailio(dir: dir, port: port, users: users)
                defer { Spawn.stop(k) }
                kam = runSIPp(o.scenarios + "/bench_register_md5.xml", port: port, dir: dir, tag: "kam-reg", calls: o.users,
                              concurrency: o.concurrency, extra: ["-inf", dir + "/users.csv", "-au", "[field0]", "-ap", "[field1]"])
            } catch {
                kamNote = "could not start: \(error)"
            }
        }

        print("")
        print(pad("server", 34) + pad("MD5 REGISTER/s (2-step)", 26) + pad("ok/failed", 12) + pad("echo calls/s", 14) + "ok/failed")
        print(pad("VoWiFi Core IMS (\(loops) loop\(loops == 1 ? "" : "s"))", 34) + pad(ours.register.rateText, 26) + pad(ours.register.countText, 12)
              + pad(ours.calls.rateText, 14) + ours.calls.countText)
        if let kam {
            print(pad("Kamailio \(kamailioVersion()) (2 UDP workers)", 34) + pad(kam.rateText, 26) + pad(kam.countText, 12) + pad("-", 14) + "-")
        } else {
            print(pad("Kamailio", 34) + kamNote)
        }
        print("")
        print("REGISTER: REGISTER, 401 (MD5 challenge, qop=auth), REGISTER with the digest, 200 per SIPp call.")
        print("calls: INVITE to tel:666, 100/180/200 (echo answer, media port opened), ACK, BYE, 200 per SIPp call.")
        let failed = ours.register.failed + ours.calls.failed + (kam?.failed ?? 0)
        if let e = [ours.register.error, ours.calls.error, kam?.error].compactMap({ $0 }).first { print("SIPp: \(e)") }
        return failed == 0 && ours.register.ok > 0 ? 0 : 1
    }

    // MARK: the servers

    static func startCore(dir: String, port: UInt16, users: [(String, String)], loops: Int?) throws -> VoWiFiCore {
        var db = "ue_db: [\n"
        for (u, p) in users { db += "  { impi: \"\(u)\", pwd: \"\(p)\", authent_type: \"MD5\", impu: [\"\(u)\"] },\n" }
        db += "],\n"
        try db.write(toFile: dir + "/ue_db.cfg", atomically: true, encoding: .utf8)
        let media = UInt16.random(in: 20000...28000) & ~1   // below the ephemeral range (32768+)
        let ims = """
        sip_addr: [ { addr: "127.0.0.1:\(port)", port_min: \(media), port_max: \(media + 4000) } ],
        domain: "\(domain)",
        echo: [ "tel:666" ],
        binding_expires: 3600,
        include "ue_db.cfg",

        """
        try ims.write(toFile: dir + "/ims.cfg", atomically: true, encoding: .utf8)
        var o = CoreOptions(mmeConfigPath: repoFile("config/mme-ims.cfg"), imsConfigPath: dir + "/ims.cfg", innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0
        o.sqnDatabase = dir + "/sqn.sqlite"
        o.logFile = dir + "/core.log"
        o.logOptions = "all.level=error"
        o.loops = loops
        let core = try VoWiFiCore(options: o)
        try core.start()
        return core
    }

    static let kamailioPath = "/usr/sbin/kamailio"
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"

    /// A minimal registrar: MD5 digest from auth_db over db_text (the password column, HA1
    /// computed per request as our IMS does), bindings in usrloc memory (db_mode 0).
    static func startKamailio(dir: String, port: UInt16, users: [(String, String)]) throws -> pid_t {
        let kdir = dir + "/kamailio"
        try FileManager.default.createDirectory(atPath: kdir + "/db", withIntermediateDirectories: true)
        let modules = ["/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules"]
            .first { FileManager.default.fileExists(atPath: $0 + "/auth_db.so") } ?? "/usr/lib/x86_64-linux-gnu/kamailio/modules"
        let cfg = """
        #!KAMAILIO
        debug=0
        log_stderror=yes
        children=2
        listen=udp:127.0.0.1:\(port)
        auto_aliases=no
        mpath="\(modules)/"
        loadmodule "db_text.so"
        loadmodule "tm.so"
        loadmodule "sl.so"
        loadmodule "pv.so"
        loadmodule "maxfwd.so"
        loadmodule "textops.so"
        loadmodule "usrloc.so"
        loadmodule "registrar.so"
        loadmodule "auth.so"
        loadmodule "auth_db.so"
        modparam("usrloc", "db_mode", 0)
        modparam("auth_db", "db_url", "text://\(kdir)/db")
        modparam("auth_db", "calculate_ha1", yes)
        modparam("auth_db", "password_column", "password")
        modparam("auth_db", "load_credentials", "")
        modparam("auth_db", "use_domain", 0)
        request_route {
            if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
            if (is_method("REGISTER")) {
                if (!auth_check("$fd", "subscriber", "1")) { auth_challenge("$fd", "1"); exit; }
                consume_credentials();
                if (!save("location")) { sl_reply_error(); }
                exit;
            }
            sl_send_reply("404", "Not Here");
        }

        """
        try cfg.write(toFile: kdir + "/kamailio.cfg", atomically: true, encoding: .utf8)
        try "table_name(str) table_version(int)\nsubscriber:7\n".write(toFile: kdir + "/db/version", atomically: true, encoding: .utf8)
        var sub = "id(int,auto) username(str) domain(str) password(str) ha1(str,null) ha1b(str,null)\n"
        for (n, (u, p)) in users.enumerated() { sub += "\(n + 1):\(u):\(domain):\(p)::\n" }
        try sub.write(toFile: kdir + "/db/subscriber", atomically: true, encoding: .utf8)

        let pid = try Spawn.start(kamailioPath, ["-f", kdir + "/kamailio.cfg", "-DD", "-E", "-Y", kdir, "-P", kdir + "/kamailio.pid",
                                                 "-m", "128", "-M", "16"], output: kdir + "/kamailio.log")
        // Listening once the port is taken (or give up after 5 s).
        let until = Date().addingTimeInterval(5)
        while Date() < until, Spawn.running(pid), canBind(port) { usleep(50_000) }
        guard Spawn.running(pid), !canBind(port) else {
            Spawn.stop(pid)
            let text = (try? String(contentsOfFile: kdir + "/kamailio.log", encoding: .utf8)) ?? ""
            throw BenchError("kamailio did not start: \(text.suffix(600))")
        }
        return pid
    }

    // MARK: SIPp

    struct Result {
        var ok = 0
        var failed = 0
        var seconds = 0.0
        var error: String? = nil
        var rate: Double { seconds > 0 ? Double(ok) / seconds : 0 }
        var rateText: String { ok > 0 ? String(format: "%.0f", rate) : "-" }
        var countText: String { "\(ok)/\(failed)" }
    }

    static let sipp = "/usr/bin/sipp"

    /// One SIPp run of `calls` calls with `concurrency` in parallel (-l), no rate cap that
    /// matters (-r far above what is reached); the rate is successful calls over the wall time.
    /// SIPp's socket buffers are 4 MiB (`-buff_size`; its default 64 KiB overflowed under the
    /// burst of answers, and each lost datagram stalls a call for a 500 ms retransmission).
    static func runSIPp(_ scenario: String, port: UInt16, dir: String, tag: String, calls: Int, concurrency: Int, extra: [String]) -> Result {
        var r = Result()
        let stat = dir + "/\(tag).csv"
        let args: [String]
        do {
            args = ["-sf", scenario, "127.0.0.1:\(port)", "-i", "127.0.0.1", "-mi", "127.0.0.1",
                    "-p", String(try freePort()), "-mp", String(try freePort() & ~1),
                    "-key", "domain", domain, "-m", String(calls), "-l", String(concurrency), "-r", "100000",
                    "-buff_size", String(4 << 20),
                    "-nostdin", "-trace_err", "-error_file", dir + "/\(tag)-errors.log",
                    "-trace_stat", "-stf", stat, "-timeout", "120s"] + extra
        } catch { r.error = "\(error)"; return r }
        let t0 = Date()
        let status: Int32
        do {
            let pid = try Spawn.start(sipp, args, output: dir + "/\(tag).out")
            status = Spawn.wait(pid)
        } catch { r.error = "\(error)"; return r }
        r.seconds = Date().timeIntervalSince(t0)
        // The last row of the statistics file holds the cumulative counters.
        if let text = try? String(contentsOfFile: stat, encoding: .utf8) {
            let rows = text.split(separator: "\n").map { $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init) }
            if let head = rows.first, let last = rows.last, rows.count > 1 {
                func col(_ name: String) -> Int? { head.firstIndex(of: name).flatMap { $0 < last.count ? Int(last[$0]) : nil } }
                r.ok = col("SuccessfulCall(C)") ?? 0
                r.failed = col("FailedCall(C)") ?? 0
                // SIPp's own clock (epoch seconds, the third tab-separated part): first call
                // to the last answer, without SIPp's start-up and exit.
                func epoch(_ name: String) -> Double? {
                    head.firstIndex(of: name).flatMap { $0 < last.count ? last[$0].split(separator: "\t").last.flatMap { Double($0) } : nil }
                }
                if let a = epoch("StartTime"), let b = epoch("CurrentTime"), b > a { r.seconds = b - a }
            }
        }
        if status != 0 && r.failed == 0 { r.error = "\(tag): SIPp exit \(status) (see \(dir)/\(tag)-errors.log)" }
        return r
    }

    // MARK: helpers

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static func findScenarios() -> String? {
        let rel = "Tests/IMSInteropTests/scenarios"
        var candidates = [FileManager.default.currentDirectoryPath + "/" + rel]
        // .build/<config>/vowifi → the package root.
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(rel).path)
        candidates.append(exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(rel).path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/bench_register_md5.xml") }
    }

    static func repoFile(_ rel: String) -> String {
        guard let s = findScenarios() else { return rel }
        return URL(fileURLWithPath: s).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(rel).path
    }

    static func freePort() throws -> UInt16 {
        for _ in 0..<50 {
            let p = UInt16.random(in: 41000...59000)
            if canBind(p) && canBind(p, stream: true) { return p }
        }
        throw BenchError("no free loopback port")
    }

    static func canBind(_ port: UInt16, stream: Bool = false) -> Bool {
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    static func capture(_ path: String, _ args: [String]) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe; p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "" }
        let d = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: d, as: UTF8.self)
    }

    static func sippVersion() -> String {
        let t = capture(sipp, ["-v"])
        return t.split(separator: "\n").first { $0.contains("SIPp v") }.map { String($0.split(separator: " ").first { $0.hasPrefix("v") } ?? "") } ?? "?"
    }

    static func kamailioVersion() -> String {
        let t = capture(kamailioPath, ["-v"])
        return t.split(separator: "\n").first.flatMap { $0.split(separator: " ").dropFirst(2).first.map(String.init) } ?? "?"
    }

    static func machine() -> String {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        return "\(OpenSSLSpeed.machine()), Linux \(release), load average \(load)"
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}

/// posix_spawn and waitpid: the bench times SIPp to the millisecond, and Foundation's Process
/// noticed a child's exit only minutes later here once another child (Kamailio) was running.
enum Spawn {
    static func start(_ path: String, _ args: [String], output: String) throws -> pid_t {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child starts with no blocked signal and default handlers, whatever ours are.
        var none = sigset_t(); sigemptyset(&none)
        var all = sigset_t(); sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        // Its own process group, so `stop` reaches the workers Kamailio forks as well.
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &fa, &attr, argv, environ)
        guard rc == 0 else { throw BenchSIP.BenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Exit status (128 + signal when killed).
    static func wait(_ pid: pid_t) -> Int32 {
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        return st & 0x7f == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
    }

    static func running(_ pid: pid_t) -> Bool {
        var st: Int32 = 0
        return waitpid(pid, &st, WNOHANG) == 0
    }

    /// SIGTERM to the child's process group, SIGKILL to the group after 5 s: a Kamailio main
    /// process killed alone left its forked workers running (holding the port) once it was slow
    /// to stop.
    static func stop(_ pid: pid_t) {
        kill(-pid, SIGTERM)
        let until = Date().addingTimeInterval(5)
        var st: Int32 = 0
        while Date() < until {
            if waitpid(pid, &st, WNOHANG) != 0 { kill(-pid, SIGKILL); return }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &st, 0)
    }
}
