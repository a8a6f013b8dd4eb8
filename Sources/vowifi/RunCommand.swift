import Foundation
import Glibc
import Runtime

/// `vowifi run [-c config/mme-ims.cfg] [--ims config/ims.cfg] [--in-process] [--keys DIR] [--peer-ca PEM]
/// [--capture FILE [--capture-max-size N]] [--events]`: starts the ePDG, HSS and IMS from the
/// configs, prints a summary, and stops cleanly on SIGINT/SIGTERM (IKE SAs deleted first,
/// SQNs already persisted). `--capture` writes a pcapng of the outer IKE/ESP and the
/// decrypted inner traffic; `--events` prints one line per attach, detach, registration and
/// call start/end on stdout.
enum RunCommand {
    static func run(_ args: [String]) -> Int32 {
        var o = CoreOptions()
        var i = 0
        var inProcessAsked = false
        while i < args.count {
            let a = args[i]
            func value() -> String? { i + 1 < args.count ? args[i + 1] : nil }
            switch a {
            case "-c", "--config": guard let v = value() else { return usage("\(a) needs a file") }; o.mmeConfigPath = v; i += 1
            case "--ims": guard let v = value() else { return usage("--ims needs a file") }; o.imsConfigPath = v; i += 1
            case "--in-process": inProcessAsked = true
            case "--tun": o.innerPath = .tun
            case "--peer-ca": guard let v = value() else { return usage("--peer-ca needs a PEM file") }; o.peerCertificateAuthorities = v; i += 1
            case "--keys": guard let v = value() else { return usage("--keys needs a directory") }; o.keyLogDirectory = v; i += 1
            case "--log": guard let v = value() else { return usage("--log needs a file") }; o.logFile = v; i += 1
            case "--log-options": guard let v = value() else { return usage("--log-options needs a value") }; o.logOptions = v; i += 1
            case "--capture": guard let v = value() else { return usage("--capture needs a file") }; o.capturePath = v; i += 1
            case "--capture-max-size":
                guard let v = value(), let n = LogOptions.parseSize(v), n > 0 else { return usage("--capture-max-size needs a size (bytes, or with k/M/G)") }
                o.captureMaxSize = n; i += 1
            case "--events":
                // One write(2) per line, unbuffered, so a reader of the pipe sees it at once.
                o.events = { e in FileHandle.standardOutput.write(Data((e.line + "\n").utf8)) }
            default: return usage("unknown option \(a)")
            }
            i += 1
        }
        // Without root (or CAP_NET_ADMIN) there is no TUN: fall back to the in-process path.
        if inProcessAsked || geteuid() != 0 {
            if !inProcessAsked { print("note: not root, so no TUN device: the inner path is in-process (run as root for a TUN)") }
            o.innerPath = .inProcess
        }
        Signals.blockInCurrentThread([SIGINT, SIGTERM])
        let core: VoWiFiCore
        do {
            core = try VoWiFiCore(options: o)
            try core.start()
        } catch {
            FileHandle.standardError.write(Data("vowifi run: cannot start:\n\(error)\n".utf8))
            return 1
        }
        print(core.summary())
        if let c = core.capture { print("  capture   \(c.path)\(c.maxSize.map { " (rotates every \($0) bytes)" } ?? "")") }
        print("running; SIGINT or SIGTERM stops")
        fflush(nil)
        guard let group = core.group else { return 1 }
        let signo = (try? group.waitForSignal()) ?? SIGTERM
        core.stop()
        print("stopped on \(signo == SIGINT ? "SIGINT" : "SIGTERM"): IKE SAs deleted, sockets closed")
        return 0
    }

    static func usage(_ why: String) -> Int32 {
        FileHandle.standardError.write(Data("vowifi run: \(why)\nusage: vowifi run [-c config/mme-ims.cfg] [--ims config/ims.cfg] [--in-process|--tun] [--keys DIR] [--log FILE] [--log-options OPTS] [--capture FILE] [--capture-max-size N] [--events]\n".utf8))
        return 2
    }
}
