import Config
import Foundation
import IKEv2
import Runtime
import UESim
import Wire

/// `vowifi load`: N simulated phones attach and register (and optionally call) against the
/// core started in-process on loopback, or against an ePDG given by address; a live progress
/// line on stderr, then rates, per-step latency percentiles and failures by cause, as a table
/// and as JSON. Exit status 0 only when every phone passed.
enum LoadCommand {
    struct Options {
        var core = CoreOptions(innerPath: .inProcess)
        var ues = 1000
        var rate: Double = 100
        var scenario: PhoneConfig.Scenario = .register
        var callRate: Double?
        var calls: Int?
        var target = "tel:666"
        var media = 1.0
        var profile = "android"
        var epdg: String?
        var natTPort: UInt16 = 4500
        var local: String?
        var json: String?
        var out = "/tmp/vowifi-load"
        var timeout: Double?
        var detach = true
        var stepTimeout = 30.0
    }

    static let usageText = """
    usage: vowifi load [--ues 1000] [--rate 100] [--scenario attach|register|call] [--call-rate R] [--calls N]
                       [--call tel:666] [--media SECONDS] [--profile NAME] [--json FILE] [--out DIR] [--timeout S] [--keep]
                       [-c config/mme-ims.cfg] [--ims config/ims.cfg] [--log-options OPTS] [--capture FILE]
                       [--epdg HOST[:PORT] [--natt-port 4500] [--local HOST]]
    Phones attach at --rate per second (0: all at once) and stay registered. --scenario call makes each
    phone call once registered; --call-rate R places --calls N calls (default: one per UE) at R per second
    on idle registered phones instead. Without --epdg the core runs in this process on loopback; with
    --epdg the SIMs still come from the -c config's ue_db (the load-test SIMs first).
    """

    static func run(_ args: [String]) -> Int32 {
        var o = Options()
        var i = 0
        while i < args.count {
            let a = args[i]
            let v: String? = i + 1 < args.count ? args[i + 1] : nil
            var takes = true
            switch a {
            case "--ues": guard let v, let n = Int(v), n > 0 else { return usage(a) }; o.ues = n
            case "--rate": guard let v, let r = Double(v), r >= 0 else { return usage(a) }; o.rate = r
            case "--scenario": guard let v, let s = PhoneConfig.Scenario(rawValue: v) else { return usage(a) }; o.scenario = s
            case "--call-rate": guard let v, let r = Double(v), r > 0 else { return usage(a) }; o.callRate = r
            case "--calls": guard let v, let n = Int(v), n >= 0 else { return usage(a) }; o.calls = n
            case "--call": guard let v else { return usage(a) }; o.target = v
            case "--media": guard let v, let s = Double(v), s >= 0 else { return usage(a) }; o.media = s
            case "--profile": guard let v else { return usage(a) }; o.profile = v
            case "--epdg": guard let v else { return usage(a) }; o.epdg = v
            case "--natt-port": guard let v, let p = UInt16(v) else { return usage(a) }; o.natTPort = p
            case "--local": guard let v else { return usage(a) }; o.local = v
            case "--json": guard let v else { return usage(a) }; o.json = v
            case "--out": guard let v else { return usage(a) }; o.out = v
            case "--timeout": guard let v, let s = Double(v), s > 0 else { return usage(a) }; o.timeout = s
            case "--step-timeout": guard let v, let s = Double(v), s > 0 else { return usage(a) }; o.stepTimeout = s
            case "--keep": o.detach = false; takes = false
            case "-c", "--config": guard let v else { return usage(a) }; o.core.mmeConfigPath = v
            case "--ims": guard let v else { return usage(a) }; o.core.imsConfigPath = v
            case "--log-options": guard let v else { return usage(a) }; o.core.logOptions = v
            case "--capture": guard let v else { return usage(a) }; o.core.capturePath = v
            case "-h", "--help": print(usageText); return 0
            default: return usage(a)
            }
            i += takes ? 2 : 1
        }
        return load(o)
    }

    static func usage(_ bad: String) -> Int32 {
        FileHandle.standardError.write(Data("vowifi load: bad or incomplete option \(bad)\n\(usageText)\n".utf8))
        return 2
    }

    static func fail(_ text: String) -> Int32 {
        FileHandle.standardError.write(Data("vowifi load: \(text)\n".utf8))
        return 1
    }

    // MARK: the run

    static func load(_ o: Options) -> Int32 {
        guard let profile = HandsetProfile.named(o.profile) else { return fail("no profile '\(o.profile)'") }
        let limit = HostPort.raiseFileLimit()
        if limit.soft > 0, UInt64(o.ues) + 64 > limit.soft {
            return fail("\(o.ues) phones need \(o.ues + 64) file descriptors; the limit is \(limit.soft) (hard \(limit.hard)): raise `ulimit -n`")
        }
        try? FileManager.default.createDirectory(atPath: o.out, withIntermediateDirectories: true)
        let mme: MMEConfig
        do { mme = try MMEConfig.load(path: o.core.mmeConfigPath).config } catch { return fail("\(o.core.mmeConfigPath): \(error)") }

        // The core (in-process) or the remote ePDG.
        var core: VoWiFiCore?
        let epdg: IKEEndpoint, natTPort: UInt16, local: IPAddress, targetText: String
        if let remote = o.epdg {
            do {
                epdg = try HostPort.endpoint(remote, defaultPort: 500)
                if let l = o.local { local = try HostPort.resolve(HostPort.split(l, defaultPort: 0).host) }
                else if let s = HostPort.sourceAddress(toward: epdg.address) { local = s } else { return fail("no route to \(epdg.address)") }
            } catch { return fail("\(error)") }
            natTPort = o.natTPort
            targetText = "ePDG \(epdg)"
        } else {
            var opts = o.core
            if let overlay = widenPoolIfNeeded(mme: mme, path: o.core.mmeConfigPath, ues: o.ues, profile: profile, out: o.out) {
                opts.mmeConfigPath = overlay
                print("note: the IPv4 pool of APN ims is smaller than \(o.ues) phones: this run widens it to 198.18.0.2-198.19.255.254 (\(overlay))")
            }
            if profile.rejectsAuthInFirstAuthResponse { opts.omitAuthInFirstAuthRsp = true }
            opts.epdgHost = "127.0.0.1"; opts.ikePort = 0; opts.natTPort = 0
            opts.sipSocketAddresses = []
            opts.logFile = o.out + "/vowifi.log"
            opts.logOptions = opts.logOptions ?? "all.level=warning"
            do {
                let c = try VoWiFiCore(options: opts)
                try c.start()
                core = c
            } catch { return fail("cannot start the core:\n\(error)") }
            guard let c = core, let group = c.group,
                  let (ike, natt) = try? group.loops[0].submit({ () -> (SocketAddress, SocketAddress)? in c.epdg.map { ($0.ikeAddress, $0.natTAddress) } }) ?? nil else {
                return fail("the core has no ePDG")
            }
            epdg = IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), ike.port)
            natTPort = natt.port
            local = IPAddress(v4: 127, 0, 0, 1)
            targetText = "in-process core (ePDG \(ike), NAT-T \(natt.port))"
        }
        defer { core?.stop() }

        let sims = DemoCommand.simCards(mme, imsi: nil, count: o.ues, mncDigits: profile.mncDigits)
        guard sims.count == o.ues else { return fail("the ue_db of \(o.core.mmeConfigPath) has \(sims.count) usable SIMs, \(o.ues) asked") }
        let placesCalls = o.callRate != nil
        let totalCalls = placesCalls ? (o.calls ?? o.ues) : 0
        let configs: [PhoneConfig] = sims.map { sim in
            var c = PhoneConfig(sim: sim, mcc: mme.plmn.mcc, mnc: mme.plmn.mnc, profile: profile, local: IKEEndpoint(local, 0), epdg: epdg,
                                scenario: placesCalls ? .register : o.scenario, callTarget: o.target, mediaDuration: o.media,
                                stepTimeout: o.stepTimeout, teardown: false)
            c.natTPort = natTPort
            c.traces = false
            return c
        }

        let group: EventLoopGroup
        do { group = try EventLoopGroup(loopCount: 1, name: "vowifi-phones") } catch { return fail("\(error)") }
        defer { group.shutdown() }
        let loop = group.loops[0]
        let host = PhoneHost()
        host.keepTraces = false
        let state = LoadState()
        host.onEvent = { _, e in state.stats.record(e) }
        if let r = o.callRate {
            host.onTick = { now in state.placeCalls(host: host, rate: r, total: totalCalls, target: nil, now: now) }
        }
        // Against a remote ePDG there is no core to capture: the phones' side is written instead.
        var phoneCapture: PhoneCapture?
        if core == nil, let path = o.core.capturePath {
            do { phoneCapture = try PhoneCapture(path: path) } catch { return fail("cannot write the capture \(path): \(error)") }
            host.onWire = { [phoneCapture] sent, local, remote, payload in phoneCapture?.record(sent: sent, local: local, remote: remote, payload: payload) }
        }
        defer { phoneCapture?.close() }
        let logger = core?.logger ?? ((try? Logger(options: "all.level=error")) ?? nil)
        guard let logger else { return fail("no logger") }
        let rate: Double? = o.rate > 0 ? o.rate : nil
        let t0: Double
        do {
            t0 = try loop.submit { [host] in
                let t = host.now()
                state.stats.firstStart = t
                try host.start(configs, on: loop, logger: logger, rate: rate)
                return t
            }
        } catch { return fail("cannot start the phones: \(error)") }
        print("load: \(o.ues) UEs (\(profile.name)) against \(targetText)" + (rate.map { String(format: ", %.0f attaches/s", $0) } ?? ", all at once"))
        fflush(nil)

        // Progress, about twice a second, until every phone (and call) is done or the timeout.
        let timeout = o.timeout ?? (60 + Double(o.ues) / max(o.rate, 1) + (o.callRate.map { Double(totalCalls) / $0 } ?? 0) + o.media * 2 + o.stepTimeout)
        let tty = isatty(STDERR_FILENO) == 1
        var last = Snapshot(t: t0, stats: LoadStats(), started: 0, remaining: o.ues)
        var lastPrinted = 0.0
        var end = t0
        while true {
            usleep(500_000)
            guard let snap = try? loop.submit({ [host] in
                Snapshot(t: host.now(), stats: state.stats, started: host.started, remaining: host.remaining,
                         idle: host.phones.reduce(0) { $0 + (($1?.isIdleRegistered ?? false) ? 1 : 0) })
            }) else { break }
            let line = progressLine(snap, previous: last, ues: o.ues, t0: t0)
            if tty {
                FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
            } else if snap.t - lastPrinted >= 2 {
                FileHandle.standardError.write(Data((line + "\n").utf8))
                lastPrinted = snap.t
            }
            last = snap
            end = snap.t
            // Calls are over when all were placed, or when no phone is left that could place one.
            let callsDone = !placesCalls || snap.stats.callsPlaced >= totalCalls || snap.idle == 0
            if snap.started == o.ues && snap.remaining == 0 && callsDone { break }
            if snap.t - t0 > timeout { break }
        }
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        guard var final = try? loop.submit({ [host] in (state.stats, host.results) }) else { return fail("the phone loop stopped") }
        final.0.started = last.started
        let unfinished = final.1.filter { !$0.finished }.count

        // Detach every phone (INFORMATIONAL Delete, not retransmitted) and give the ePDG a moment to read them.
        if o.detach {
            _ = try? loop.submit { [host] in host.detachAll() }
            usleep(300_000)
        }
        _ = try? loop.submit { [host] in host.stop() }

        let report = LoadReport(stats: final.0, run: .init(ues: o.ues, rate: rate, callRate: o.callRate, calls: totalCalls, scenario: placesCalls ? "register + calls" : o.scenario.rawValue,
                                                           profile: profile.name, target: o.epdg ?? "in-process", mediaSeconds: o.media),
                                end: end, unfinished: unfinished)
        print(report.table)
        if let path = o.json {
            do { try report.json().write(to: URL(fileURLWithPath: path)) } catch { return fail("cannot write \(path): \(error)") }
            print("JSON: \(path)")
        }
        if core != nil { print("logs: \(o.out)/vowifi.log") }
        return report.passed ? 0 : 1
    }

    struct Snapshot: Sendable { var t: Double; var stats: LoadStats; var started: Int; var remaining: Int; var idle = 0 }

    static func progressLine(_ s: Snapshot, previous p: Snapshot, ues: Int, t0: Double) -> String {
        let dt = max(0.001, s.t - p.t)
        let st = s.stats
        return String(format: "[%6.1fs] started %d/%d  attached %d  registered %d  calls %d up/%d done  failures %d  | %.0f att/s  %.0f reg/s  %.1f calls/s",
                      s.t - t0, s.started, ues, st.attached, st.registered, st.callsUp, st.callsDone, st.failures,
                      Double(st.attached - p.stats.attached) / dt, Double(st.registered - p.stats.registered) / dt,
                      Double(st.callsDone - p.stats.callsDone) / dt)
    }

    /// When the profile asks for IPv4 and the ims PDN's IPv4 pool is smaller than the number of
    /// phones, writes a config that includes the given one and widens that pool to 198.18.0.0/15
    /// (a benchmarking range); returns its path.
    static func widenPoolIfNeeded(mme: MMEConfig, path: String, ues: Int, profile: HandsetProfile, out: String) -> String? {
        guard profile.cpAttributes.contains(CPPayload.Attribute.INTERNAL_IP4_ADDRESS),
              let idx = mme.pdnList.firstIndex(where: { $0.accessPointNames.contains { $0.lowercased() == "ims" } }) else { return nil }
        let pdn = mme.pdnList[idx]
        if let f = pdn.firstIPAddr?.ipv4Value, let l = pdn.lastIPAddr?.ipv4Value, Int(l) - Int(f) + 1 >= ues { return nil }
        let abs = URL(fileURLWithPath: path).standardizedFileURL.path
        let epdg = mme.epdg
        var text = "/* Written by vowifi load: \(abs) with a wider IPv4 pool for APN ims. */\n"
        text += "include \"\(abs)\",\n"
        if let e = epdg {
            // Relative paths resolve against this file's directory: keep the original files.
            func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
            text += "epdg: { certificate: \"\(absolute(e.certificatePath))\", private_key: \"\(absolute(e.privateKeyPath))\", sqn_db: \"\(absolute(e.sqnDB))\" },\n"
        }
        text += "pdn_list: [" + String(repeating: "{}, ", count: idx) + "{ first_ip_addr: \"198.18.0.2\", last_ip_addr: \"198.19.255.254\" }],\n"
        let file = out + "/mme-load.cfg"
        do { try text.write(toFile: file, atomically: true, encoding: .utf8) } catch { return nil }
        return file
    }
}

/// The load driver's state on the phone loop: the statistics and the call scheduler.
final class LoadState: @unchecked Sendable {
    // @unchecked: used on the phone loop only (snapshots are copied out through `loop.submit`).
    var stats = LoadStats()
    private var credit = 0.0
    private var lastTick: Double?
    private var cursor = 0

    /// Places calls at `rate` per second on idle registered phones, round robin, `total` in all.
    func placeCalls(host: PhoneHost, rate: Double, total: Int, target: String?, now: Double) {
        defer { lastTick = now }
        guard stats.callsPlaced < total, let last = lastTick else { return }
        credit = min(credit + rate * (now - last), max(1, rate * 0.5))
        let n = host.phones.count
        while credit >= 1, stats.callsPlaced < total {
            var placed = false
            for k in 0..<n {
                let i = (cursor + k) % n
                if host.placeCall(i, target: target) {
                    cursor = i + 1
                    placed = true
                    break
                }
            }
            guard placed else { return }
            credit -= 1
            stats.callPlaced(at: now)
        }
    }
}
