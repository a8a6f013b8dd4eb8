import Config
import Crypto
import Foundation
import Glibc
import UESim

/// `vowifi demo --tun` (root): the demo through the kernel. The core (`vowifi run --tun`) runs
/// in one network namespace with its TUN device (the IMS bound on the P-CSCF addresses of the
/// TUN, so SIP and RTP cross the kernel's routing), the phone (`vowifi ue`) in another, the two
/// joined by a veth pair on 198.51.100.0/24; the phone reaches the ePDG on 500/4500. The
/// namespaces (named with the pid) are made and removed here.
enum DemoTUN {
    static let coreAddress = "198.51.100.1"
    static let ueAddress = "198.51.100.2"

    struct Names {
        let coreNS: String, ueNS: String, coreVeth: String, ueVeth: String
        init(pid: Int32) {
            coreNS = "vowifi-\(pid)-core"; ueNS = "vowifi-\(pid)-ue"
            coreVeth = "vwc\(pid)"; ueVeth = "vwu\(pid)"   // interface names: at most 15 characters
        }
    }

    static func run(_ o: DemoCommand.Options) -> Int32 {
        guard geteuid() == 0 else {
            FileHandle.standardError.write(Data("vowifi demo --tun: needs root (network namespaces, veth, a TUN device)\n".utf8))
            return 2
        }
        guard let profile = HandsetProfile.named(o.profile) else {
            FileHandle.standardError.write(Data("vowifi demo: no profile '\(o.profile)'\n".utf8))
            return 2
        }
        let mme: MMEConfig
        do { mme = try MMEConfig.load(path: o.core.mmeConfigPath).config } catch {
            FileHandle.standardError.write(Data("vowifi demo --tun: \(o.core.mmeConfigPath): \(error)\n".utf8))
            return 1
        }
        guard let sim = DemoCommand.simCards(mme, imsi: o.imsi, count: 1, mncDigits: profile.mncDigits).first else {
            FileHandle.standardError.write(Data("vowifi demo --tun: no usable SIM in the ue_db\n".utf8))
            return 1
        }
        let out = URL(fileURLWithPath: o.out).standardizedFileURL.path
        try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: out + "/keys")
        let n = Names(pid: getpid())
        let tun = mme.epdg?.tunIfname ?? "vowifi0"

        // The core's config: the given one, bound on the veth address, its files in `out`.
        let abs = URL(fileURLWithPath: o.core.mmeConfigPath).standardizedFileURL.path
        var cfg = "/* Written by vowifi demo --tun. */\ninclude \"\(abs)\",\n"
        cfg += "epdg: { bind_addr: \"\(coreAddress):500\", nat_t_port: 4500, certificate: \"epdg_cert.pem\", private_key: \"epdg_private_key.pem\", "
        cfg += "sqn_db: \"ue_db.sqlite\"" + (profile.rejectsAuthInFirstAuthResponse ? ", omit_auth_in_first_auth_rsp: true" : "") + " },\n"
        let cfgPath = out + "/mme-tun.cfg"
        do { try cfg.write(toFile: cfgPath, atomically: true, encoding: .utf8) } catch {
            FileHandle.standardError.write(Data("vowifi demo --tun: cannot write \(cfgPath): \(error)\n".utf8))
            return 1
        }
        if profile.rejectsAuthInFirstAuthResponse, !o.quiet { print("note: profile \(profile.name) needs omit_auth_in_first_auth_rsp; it is on for this run") }

        defer { teardown(n) }
        // Ctrl-C or kill: the children stop on the same signal; the namespaces must not outlive us.
        var signalSources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler {
                FileHandle.standardError.write(Data("vowifi demo --tun: interrupted, removing the namespaces\n".utf8))
                for pid in children.all { kill(pid, SIGTERM) }
                usleep(500_000)
                teardown(n)
                exit(130)
            }
            src.resume()
            signalSources.append(src)
        }
        defer { signalSources.forEach { $0.cancel() } }
        do { try setup(n) } catch {
            FileHandle.standardError.write(Data("vowifi demo --tun: cannot set up the namespaces: \(error)\n".utf8))
            return 1
        }
        let me = selfPath()
        let ims = URL(fileURLWithPath: o.core.imsConfigPath).standardizedFileURL.path
        let core = Process()
        core.executableURL = URL(fileURLWithPath: ipTool)
        core.arguments = ["netns", "exec", n.coreNS, me, "run", "--tun", "-c", cfgPath, "--ims", ims, "--log", out + "/vowifi.log",
                          "--log-options", o.core.logOptions ?? "all.level=info,ikev2.level=debug,eap.level=debug,sip.level=debug,ikev2.key=1",
                          "--keys", out + "/keys"]
        let coreOut = Pipe()
        core.standardOutput = coreOut; core.standardError = coreOut
        do { try core.run() } catch {
            FileHandle.standardError.write(Data("vowifi demo --tun: cannot start the core: \(error)\n".utf8))
            return 1
        }
        children.add(core.processIdentifier)
        defer { if core.isRunning { kill(core.processIdentifier, SIGTERM); core.waitUntilExit() } }
        var text = ""
        let until = Date().addingTimeInterval(30)
        while !text.contains("running;"), core.isRunning, Date() < until {
            let chunk = coreOut.fileHandleForReading.availableDataNow()
            if chunk.isEmpty { usleep(20_000) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        guard text.contains("running;") else {
            print(text)
            FileHandle.standardError.write(Data("vowifi demo --tun: the core did not start\n".utf8))
            return 1
        }
        if !o.quiet {
            print("VoWiFi Core demo through TUN: core in netns \(n.coreNS) (ePDG \(coreAddress):500/4500, TUN \(tun), IMS on its P-CSCF addresses), "
                  + "phone in netns \(n.ueNS) (\(ueAddress)), veth \(n.coreVeth)/\(n.ueVeth), profile \(profile.name)")
            print("logs: \(out)/vowifi.log   Wireshark keys: \(out)/keys/")
        }
        let before = tunCounters(ns: n.coreNS, dev: tun)

        // The phone: `vowifi ue` in its namespace, on 500 like a phone without NAT.
        var ueArgs = ["netns", "exec", n.ueNS, me, "ue", "--epdg", "\(coreAddress):500", "--natt-port", "4500", "--local", "\(ueAddress):500",
                      "--imsi", sim.imsi, "--k", sim.k.hex, "--amf", sim.amf.hex, "--algo", sim.algorithm.rawValue, "--res-len", "\(sim.resLength)",
                      "--mcc", mme.plmn.mcc, "--mnc", profile.mncDigits == 3 ? mme.plmn.mnc3 : mme.plmn.mnc,
                      "--profile", profile.name, "--call", o.target, "--media", "\(o.media)"]
        if let op = sim.op { ueArgs += ["--op", op.hex] }
        if let opc = sim.opc { ueArgs += ["--opc", opc.hex] }
        if o.quiet { ueArgs.append("--quiet") }
        if let c = o.core.capturePath { ueArgs += ["--capture", c] }
        let ue = Process()
        ue.executableURL = URL(fileURLWithPath: ipTool)
        ue.arguments = ueArgs
        ue.standardOutput = FileHandle.standardOutput
        ue.standardError = FileHandle.standardError
        fflush(nil)
        do { try ue.run() } catch {
            FileHandle.standardError.write(Data("vowifi demo --tun: cannot start the phone: \(error)\n".utf8))
            return 1
        }
        children.add(ue.processIdentifier)
        ue.waitUntilExit()
        let after = tunCounters(ns: n.coreNS, dev: tun)
        if let a = after {
            let b = before ?? (0, 0)
            print("TUN \(tun) in \(n.coreNS): \(a.rx - b.rx) packets from the phone into the kernel, \(a.tx - b.tx) from the kernel to the phone")
        }
        kill(core.processIdentifier, SIGTERM)
        core.waitUntilExit()
        let rest = String(decoding: coreOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if let line = rest.split(separator: "\n").last(where: { $0.hasPrefix("stopped") }), !o.quiet { print("core: \(line)") }
        return ue.terminationStatus
    }

    /// The children (`ip netns exec` of the core and the phone) the signal handler must stop.
    final class Children: @unchecked Sendable {
        // @unchecked: guarded by `lock`.
        private let lock = NSLock()
        private var pids: [Int32] = []
        func add(_ pid: Int32) { lock.lock(); pids.append(pid); lock.unlock() }
        var all: [Int32] { lock.lock(); defer { lock.unlock() }; return pids }
    }
    static let children = Children()

    // MARK: namespaces

    static var ipTool: String {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/sbin/ip"
    }

    struct CommandError: Error, CustomStringConvertible {
        var command: String, output: String
        var description: String { "\(command): \(output)" }
    }

    @discardableResult
    static func ip(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ipTool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw CommandError(command: "ip " + args.joined(separator: " "), output: text) }
        return text
    }

    static func setup(_ n: Names) throws {
        try ip(["netns", "add", n.coreNS])
        try ip(["netns", "add", n.ueNS])
        try ip(["link", "add", n.coreVeth, "type", "veth", "peer", "name", n.ueVeth])
        try ip(["link", "set", n.coreVeth, "netns", n.coreNS])
        try ip(["link", "set", n.ueVeth, "netns", n.ueNS])
        for (ns, dev, addr) in [(n.coreNS, n.coreVeth, coreAddress), (n.ueNS, n.ueVeth, ueAddress)] {
            try ip(["-n", ns, "addr", "add", addr + "/24", "dev", dev])
            try ip(["-n", ns, "link", "set", dev, "up"])
            // A fresh namespace has loopback down; the core's 127.0.0.1 SIP socket and Foundation need it.
            try ip(["-n", ns, "link", "set", "lo", "up"])
        }
    }

    /// Removes both namespaces (the veth pair and the TUN go with them).
    static func teardown(_ n: Names) {
        _ = try? ip(["netns", "del", n.coreNS])
        _ = try? ip(["netns", "del", n.ueNS])
    }

    /// The TUN device's packet counters, as the kernel names them: rx = written by the ePDG
    /// (the phone's decrypted packets), tx = routed by the kernel to the device (toward the phone).
    static func tunCounters(ns: String, dev: String) -> (rx: Int, tx: Int)? {
        func read(_ what: String) -> Int? {
            guard let s = try? ip(["netns", "exec", ns, "cat", "/sys/class/net/\(dev)/statistics/\(what)"]) else { return nil }
            return Int(s.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let rx = read("rx_packets"), let tx = read("tx_packets") else { return nil }
        return (rx, tx)
    }

    static func selfPath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension FileHandle {
    /// Whatever is readable now, without blocking.
    func availableDataNow() -> Data {
        var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) == 1 else { return Data() }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = Glibc.read(fileDescriptor, &buf, buf.count)
        return n > 0 ? Data(buf.prefix(n)) : Data()
    }
}
