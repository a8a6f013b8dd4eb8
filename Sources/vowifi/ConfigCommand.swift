import Config
import Foundation

/// `vowifi config check FILE`: loads an MME or IMS config the way `run` would, and prints
/// it resolved (includes merged, defaults applied) or every error as `file:line:col: error: ...`.
enum ConfigCommand {
    static func run(_ args: [String]) -> Int32 {
        guard args.count == 2, args[0] == "check" else {
            err("usage: vowifi config check FILE\n")
            return 2
        }
        let path = args[1]
        do {
            let document = try ConfigDocument.load(path: path)
            switch ConfigKind.detect(document) {
            case .mme:
                let (config, warnings) = try MMEConfig.decode(document, path: path)
                printMME(config)
                printIgnored(warnings)
            case .ims:
                let (config, warnings) = try IMSConfig.decode(document, path: path)
                printIMS(config)
                printIgnored(warnings)
            case nil:
                err("\(path):1:1: error: not an MME config (no 'epdg' or 'pdn_list') nor an IMS config (no 'sip_addr')\n")
                return 1
            }
            return 0
        } catch let e as ConfigError {
            for one in e.all {
                if let loc = one.location {
                    err("\(loc): error: \(one.message)\n")
                } else {
                    err("error: \(one.message)\n")
                }
            }
            return 1
        } catch {
            err("\(path): error: \(error)\n")
            return 1
        }
    }

    private static func err(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }

    private static func printMME(_ c: MMEConfig) {
        print("# \(c.path): MME config (includes merged, defaults applied)")
        print("plmn: \"\(c.plmn)\" (MCC \(c.plmn.mcc), MNC \(c.plmn.mnc), NAI realm \(c.plmn.naiRealm))")
        print("log_options: \(c.logOptions.map { "\"\($0)\"" } ?? "(default)")")
        print("log_filename: \(c.logFilename.map { "\"\($0)\"" } ?? "(default)")")
        print("ims_vops_eps: \(c.imsVopsEps)")
        print("ims_vops_5gs_3gpp: \(c.imsVops5gs3gpp)")
        print("ims_vops_5gs_n3gpp: \(c.imsVops5gsN3gpp)")
        if let e = c.epdg {
            print("epdg:")
            for (name, value) in e.resolvedParameters { print("  \(name): \(value)") }
        } else {
            print("epdg: (absent: no ePDG)")
        }
        print("pdn_list: \(c.pdnList.count) PDN(s)")
        for (i, p) in c.pdnList.enumerated() { print("  [\(i)] \(p.summary)") }
        printUEDB(c.ueDB)
    }

    private static func printIMS(_ c: IMSConfig) {
        print("# \(c.filePath): IMS config (includes merged, defaults applied)")
        print("log_options: \(c.logOptions.map { "\"\($0)\"" } ?? "(default)")")
        print("log_filename: \(c.logFilename.map { "\"\($0)\"" } ?? "(default)")")
        print("sip_addr:")
        for s in c.sipAddr {
            print("  addr: \(s.addr), bind_addr: \(s.bindAddr), port_min: \(s.portMin), port_max: \(s.portMax)")
        }
        print("domain: \"\(c.domain)\"")
        print("echo:")
        for e in c.echo {
            var line = "  \(e.impu)"
            if let code = e.code { line += ", code: \(code)" }
            if e.anonymous { line += ", anonymous" }
            if !e.authentication { line += ", authentication: false" }
            print(line)
        }
        print("precondition: \"\(c.precondition.rawValue)\"")
        print("100rel: \(c.rel100)")
        print("binding_expires: \(c.bindingExpires)")
        let s = c.sessionExpires
        print("session_expires: {duration: \(s.duration), min: \(s.min), refresher: \"\(s.refresher)\", method: \"\(s.method)\", force: \(s.force)}")
        print("tcp_threshold: \(c.tcpThreshold)")
        print("tcp_keepalive: \(c.tcpKeepalive), tcp_keepcount: \(c.tcpKeepcount), tcp_idle_timeout: \(c.tcpIdleTimeout)")
        print("timer_t1: \(c.timerT1), timer_t2: \(c.timerT2), timer_t4: \(c.timerT4)")
        print("path: \(c.path.map { "\"\($0)\"" } ?? "(disabled)")")
        printUEDB(c.ueDB)
    }

    private static func printUEDB(_ db: [UEDBEntry]) {
        let sims = db.reduce(0) { $0 + $1.count }
        print("ue_db: \(db.count) entr\(db.count == 1 ? "y" : "ies") (\(sims) subscriber\(sims == 1 ? "" : "s"))")
        for (i, u) in db.enumerated() { print("  [\(i)] \(u.summary)") }
    }

    private static func printIgnored(_ warnings: [ConfigWarning]) {
        if warnings.isEmpty {
            print("ignored keys: none")
            return
        }
        print("ignored keys (not used by VoWiFi Core):")
        for w in warnings { print("  \(w.location): \(w.path)") }
    }
}
