import Config
import Foundation
import IKEv2
import Runtime
import UESim
import Wire

/// `vowifi demo`: the main job. Starts the ePDG, HSS and IMS from the default configs on
/// loopback (ephemeral ports, in-process inner path), drives simulated phones through the
/// whole flow, prints the call-flow ladder with per-step timing and verdicts, and exits 0
/// only when every step of every phone passed.
enum DemoCommand {
    struct Options {
        var core = CoreOptions(innerPath: .inProcess)
        var profile = "android"
        var ues = 1
        var imsi: String?
        var media = 3.0
        var out = "/tmp/vowifi-demo"
        var target = "tel:666"
        var quiet = false
        var tun = false
    }

    static func run(_ args: [String]) -> Int32 {
        var o = Options()
        var i = 0
        while i < args.count {
            let a = args[i]
            let v: String? = i + 1 < args.count ? args[i + 1] : nil
            switch a {
            case "-c", "--config": guard let v else { return usage(a) }; o.core.mmeConfigPath = v; i += 1
            case "--ims": guard let v else { return usage(a) }; o.core.imsConfigPath = v; i += 1
            case "--profile": guard let v else { return usage(a) }; o.profile = v; i += 1
            case "--ues": guard let v, let n = Int(v), n > 0 else { return usage(a) }; o.ues = n; i += 1
            case "--imsi": guard let v else { return usage(a) }; o.imsi = v; i += 1
            case "--media": guard let v, let s = Double(v) else { return usage(a) }; o.media = s; i += 1
            case "--call": guard let v else { return usage(a) }; o.target = v; i += 1
            case "--out": guard let v else { return usage(a) }; o.out = v; i += 1
            case "--capture": guard let v else { return usage(a) }; o.core.capturePath = v; i += 1
            case "--quiet": o.quiet = true
            case "--tun": o.tun = true
            case "-h", "--help": return usage(nil)
            default: return usage(a)
            }
            i += 1
        }
        if o.tun {
            guard o.ues == 1 else { return usage("--ues with --tun (one phone)") }
            return DemoTUN.run(o)
        }
        return demo(o)
    }

    static func usage(_ bad: String?) -> Int32 {
        let text = """
        usage: vowifi demo [-c config/mme-ims.cfg] [--ims config/ims.cfg] [--profile NAME] [--ues N]
                           [--imsi IMSI] [--media SECONDS] [--call tel:666] [--out DIR] [--capture FILE] [--quiet]
                           [--tun]   (root: the core with a TUN device in one network namespace, the phone in another)
        profiles: \(HandsetProfile.all.map(\.name).joined(separator: ", "))
        """
        if let bad { FileHandle.standardError.write(Data("vowifi demo: bad or incomplete option \(bad)\n".utf8)) }
        print(text)
        return bad == nil ? 0 : 2
    }

    static func demo(_ o: Options) -> Int32 {
        guard let profile = HandsetProfile.named(o.profile) else {
            FileHandle.standardError.write(Data("vowifi demo: no profile '\(o.profile)'; known: \(HandsetProfile.all.map(\.name).joined(separator: ", "))\n".utf8))
            return 2
        }
        try? FileManager.default.createDirectory(atPath: o.out, withIntermediateDirectories: true)
        var opts = o.core
        if profile.rejectsAuthInFirstAuthResponse {
            // What a callbox user does for such phones: omit_auth_in_first_auth_rsp.
            opts.omitAuthInFirstAuthRsp = true
            if !o.quiet { print("note: profile \(profile.name) needs omit_auth_in_first_auth_rsp; it is on for this run") }
        }
        opts.epdgHost = "127.0.0.1"; opts.ikePort = 0; opts.natTPort = 0
        opts.sipSocketAddresses = []
        opts.logFile = o.out + "/vowifi.log"
        opts.logOptions = opts.logOptions ?? "all.level=info,ikev2.level=debug,eap.level=debug,sip.level=debug,ikev2.key=1"
        opts.keyLogDirectory = o.out + "/keys"
        try? FileManager.default.removeItem(atPath: o.out + "/keys")
        let core: VoWiFiCore
        do {
            core = try VoWiFiCore(options: opts)
            try core.start()
        } catch {
            FileHandle.standardError.write(Data("vowifi demo: cannot start the core:\n\(error)\n".utf8))
            return 1
        }
        defer { core.stop() }
        guard let group = core.group, let (ike, natt) = try? group.loops[0].submit({ [core] in (core.epdg!.ikeAddress, core.epdg!.natTAddress) }) else { return 1 }
        if !o.quiet {
            print("VoWiFi Core demo: ePDG IKE \(ike) NAT-T \(natt), IMS in-process on \(core.ims.sipAddr.first.map { "\($0.addr)" } ?? "-"), profile \(profile.name)")
            print("logs: \(o.out)/vowifi.log   Wireshark keys: \(o.out)/keys/")
        }
        // SIMs: the chosen IMSI, else the first Milenage demo SIM, then the load-test SIMs.
        let sims = simCards(core.mme, imsi: o.imsi, count: o.ues, mncDigits: profile.mncDigits)
        guard sims.count == o.ues else {
            FileHandle.standardError.write(Data("vowifi demo: the ue_db has \(sims.count) usable SIMs, \(o.ues) asked\n".utf8))
            return 1
        }
        var configs: [PhoneConfig] = []
        for sim in sims {
            var c = PhoneConfig(sim: sim, mcc: core.mme.plmn.mcc, mnc: core.mme.plmn.mnc, profile: profile,
                                local: IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), 0),
                                epdg: IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), ike.port),
                                callTarget: o.target, mediaDuration: o.media)
            c.natTPort = natt.port
            // With additional_ue_auth_type the demo phone knows its PDN's username/password.
            if let t = core.mme.epdg?.additionalUEAuthType, t != .none, let pdn = core.mme.pdn(named: c.apn) {
                c.pdnUsername = pdn.username; c.pdnPassword = pdn.password
            }
            configs.append(c)
        }
        let phoneGroup: EventLoopGroup
        do { phoneGroup = try EventLoopGroup(loopCount: 1, name: "vowifi-phones") } catch { print("\(error)"); return 1 }
        defer { phoneGroup.shutdown() }
        let host = PhoneHost()
        let ladder = Ladder(quiet: o.quiet || o.ues > 1)
        host.onEvent = { i, e in ladder.event(phone: i, e) }
        do {
            let cfgs = configs
            try phoneGroup.loops[0].submit { [host, core] in try host.start(cfgs, on: phoneGroup.loops[0], logger: core.logger) }
        } catch {
            print("vowifi demo: cannot start the phones: \(error)")
            return 1
        }
        let timeout = 60 + o.media * 2 + Double(o.ues) * 0.05
        let results = host.wait(timeout: timeout, loop: phoneGroup.loops[0])
        _ = try? phoneGroup.loops[0].submit { [host] in host.stop() }
        return ladder.finish(results: results, out: o.out) ? 0 : 1
    }

    /// SIM credentials for the demo phones, from the ue_db of the MME config.
    static func simCards(_ mme: MMEConfig, imsi: String?, count: Int, mncDigits: Int? = nil) -> [SIMCredentials] {
        // A phone that reads the IMSI with a d-digit MNC needs a SIM of the configured PLMN read that way.
        func preferPLMN(_ list: [UEDBEntry]) -> [UEDBEntry] {
            guard let d = mncDigits, imsi == nil else { return list }
            let want = mme.plmn.mcc + (d == 3 ? mme.plmn.mnc3 : mme.plmn.mnc)
            return list.filter { $0.imsi!.hasPrefix(want) } + list.filter { !$0.imsi!.hasPrefix(want) }
        }
        let entries = preferPLMN(mme.ueDB.flatMap { $0.expanded() }.filter { $0.imsi != nil && $0.k != nil })
        var ordered = entries
        if let imsi {
            ordered = entries.filter { $0.imsi == imsi } + entries.filter { $0.imsi != imsi }
        } else if count == 1 {
            ordered = preferPLMN(entries.filter { $0.simAlgo == .milenage } + entries.filter { $0.simAlgo != .milenage })
        } else {
            // Many phones: the load-test SIMs (a `count` entry) first.
            let many = mme.ueDB.filter { $0.count > 1 }.flatMap { $0.expanded() }
            ordered = many + entries.filter { e in !many.contains { $0.imsi == e.imsi } }
        }
        return ordered.prefix(count).compactMap { e in
            guard let imsi = e.imsi, let k = e.k else { return nil }
            return SIMCredentials(imsi: imsi, k: k, op: e.op, opc: e.opc, amf: [UInt8(e.amf >> 8), UInt8(e.amf & 0xFF)],
                                  sqn: 0, algorithm: e.simAlgo == .milenage ? .milenage : .xor, resLength: e.resLen)
        }
    }
}
