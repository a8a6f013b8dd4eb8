import Crypto
import Foundation
import IKEv2
import Runtime
import UESim
import Wire

/// `vowifi ue`: the simulated phone against any ePDG/IMS given by address (this core run by
/// `vowifi run`, or another one): attach, register, call, as `vowifi demo` does, printing the
/// same ladder; exit status 0 only when every step passed.
enum UECommand {
    struct Options {
        var epdg: String?
        var natTPort: UInt16 = 4500
        var forceNATT = true
        var imsi: String?
        var k: [UInt8]?
        var op: [UInt8]?
        var opc: [UInt8]?
        var amf: [UInt8] = [0x90, 0x01]
        var sqn: UInt64 = 0
        var algo: SIMCredentials.Algorithm = .milenage
        var resLength = 8
        var mcc: String?
        var mnc: String?
        var apn = "ims"
        var profile = "android"
        var target = "tel:666"
        var media = 3.0
        var scenario: PhoneConfig.Scenario = .call
        var local: String?
        var capture: String?
        var sipPassword: String?
        var pdnUser: String?
        var pdnPassword: String?
        var imei: String?
        var stepTimeout = 30.0
        var quiet = false
    }

    static let usageText = """
    usage: vowifi ue --epdg HOST[:PORT] [--natt-port 4500] [--no-force-natt] --imsi IMSI --k HEX (--op HEX | --opc HEX)
                     [--amf 9001] [--sqn N] [--algo milenage|xor] [--res-len 8] [--mcc 001 --mnc 01] [--apn ims]
                     [--profile NAME] [--call tel:666] [--media SECONDS] [--scenario attach|register|call]
                     [--local HOST[:PORT]] [--capture FILE] [--password PWD] [--pdn-user U --pdn-password P] [--imei IMEI] [--step-timeout S] [--quiet]
    --pdn-user/--pdn-password answer an ePDG's second authentication (MULTIPLE_AUTH_SUPPORTED: EAP-GTC or EAP-MD5).
    The phone binds an ephemeral local port unless --local gives one (500/4500 need root).
    MCC/MNC default to the IMSI's first 3 and next 2 digits.
    profiles: \(HandsetProfile.all.map(\.name).joined(separator: ", "))
    """

    static func run(_ args: [String]) -> Int32 {
        var o = Options()
        var i = 0
        while i < args.count {
            let a = args[i]
            let v: String? = i + 1 < args.count ? args[i + 1] : nil
            var takes = true
            func hex(_ n: Int?) -> [UInt8]? { v.flatMap(Hex.decode).flatMap { n == nil || $0.count == n! ? $0 : nil } }
            switch a {
            case "--epdg": guard let v else { return usage(a) }; o.epdg = v
            case "--natt-port": guard let v, let p = UInt16(v) else { return usage(a) }; o.natTPort = p
            case "--imsi": guard let v, (6...15).contains(v.count), v.allSatisfy(\.isNumber) else { return usage(a, "an IMSI is 6 to 15 digits") }; o.imsi = v
            case "--k", "-k", "--K": guard let b = hex(16) else { return usage(a, "K is 16 bytes of hex") }; o.k = b
            case "--op": guard let b = hex(16) else { return usage(a, "OP is 16 bytes of hex") }; o.op = b
            case "--opc": guard let b = hex(16) else { return usage(a, "OPc is 16 bytes of hex") }; o.opc = b
            case "--amf": guard let b = hex(2) else { return usage(a, "AMF is 2 bytes of hex (9001)") }; o.amf = b
            case "--sqn":
                guard let v, let n = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v), n < 1 << 48 else { return usage(a, "SQN is a 48-bit number") }
                o.sqn = n
            case "--algo": guard let v, let al = SIMCredentials.Algorithm(rawValue: v) else { return usage(a, "milenage or xor") }; o.algo = al
            case "--res-len": guard let v, let n = Int(v), (4...16).contains(n) else { return usage(a) }; o.resLength = n
            case "--mcc": guard let v, v.count == 3, v.allSatisfy(\.isNumber) else { return usage(a) }; o.mcc = v
            case "--mnc": guard let v, (2...3).contains(v.count), v.allSatisfy(\.isNumber) else { return usage(a) }; o.mnc = v
            case "--apn": guard let v else { return usage(a) }; o.apn = v
            case "--profile": guard let v else { return usage(a) }; o.profile = v
            case "--call": guard let v else { return usage(a) }; o.target = v
            case "--media": guard let v, let s = Double(v), s >= 0 else { return usage(a) }; o.media = s
            case "--scenario": guard let v, let s = PhoneConfig.Scenario(rawValue: v) else { return usage(a, "attach, register or call") }; o.scenario = s
            case "--local": guard let v else { return usage(a) }; o.local = v
            case "--no-force-natt": o.forceNATT = false; takes = false
            case "--capture": guard let v else { return usage(a) }; o.capture = v
            case "--password": guard let v else { return usage(a) }; o.sipPassword = v
            case "--pdn-user": guard let v else { return usage(a) }; o.pdnUser = v
            case "--pdn-password": guard let v else { return usage(a) }; o.pdnPassword = v
            case "--imei": guard let v else { return usage(a) }; o.imei = v
            case "--step-timeout": guard let v, let s = Double(v), s > 0 else { return usage(a) }; o.stepTimeout = s
            case "--quiet": o.quiet = true; takes = false
            case "-h", "--help": print(usageText); return 0
            default: return usage(a, "unknown option")
            }
            i += takes ? 2 : 1
        }
        return ue(o)
    }

    static func usage(_ bad: String, _ why: String? = nil) -> Int32 {
        FileHandle.standardError.write(Data("vowifi ue: bad or incomplete option \(bad)\(why.map { ": " + $0 } ?? "")\n\(usageText)\n".utf8))
        return 2
    }

    static func fail(_ text: String) -> Int32 {
        FileHandle.standardError.write(Data("vowifi ue: \(text)\n".utf8))
        return 2
    }

    static func ue(_ o: Options) -> Int32 {
        guard let epdgText = o.epdg else { return fail("--epdg HOST[:PORT] is required") }
        guard let imsi = o.imsi else { return fail("--imsi is required") }
        guard let k = o.k else { return fail("--k is required") }
        if o.algo == .milenage, o.op == nil, o.opc == nil { return fail("a Milenage SIM needs --op or --opc") }
        guard let profile = HandsetProfile.named(o.profile) else {
            return fail("no profile '\(o.profile)'; known: \(HandsetProfile.all.map(\.name).joined(separator: ", "))")
        }
        let epdg: IKEEndpoint, local: IKEEndpoint
        do {
            epdg = try HostPort.endpoint(epdgText, defaultPort: 500)
            if let l = o.local {
                local = try HostPort.endpoint(l, defaultPort: 0)
            } else {
                guard let src = HostPort.sourceAddress(toward: epdg.address) else { return fail("no route to \(epdg.address)") }
                local = IKEEndpoint(src, 0)
            }
        } catch { return fail("\(error)") }
        guard local.address.isIPv4 == epdg.address.isIPv4 else { return fail("--local and --epdg are of different address families") }
        let sim = SIMCredentials(imsi: imsi, k: k, op: o.op, opc: o.opc, amf: o.amf, sqn: o.sqn, algorithm: o.algo, resLength: o.resLength)
        let digits = Array(imsi)
        let mcc = o.mcc ?? String(digits.prefix(3))
        let mnc = o.mnc ?? String(digits.dropFirst(3).prefix(profile.mncDigits ?? 2))
        var c = PhoneConfig(sim: sim, mcc: mcc, mnc: mnc, apn: o.apn, profile: profile, local: local, epdg: epdg, scenario: o.scenario,
                            callTarget: o.target, mediaDuration: o.media, sipPassword: o.sipPassword, stepTimeout: o.stepTimeout)
        c.natTPort = o.natTPort
        // Without forced NAT-T the phone moves to UDP 4500 only when NAT detection says so.
        c.forceUDPEncapsulation = o.forceNATT
        if let imei = o.imei { c.imei = imei }
        if (o.pdnUser == nil) != (o.pdnPassword == nil) { return fail("--pdn-user and --pdn-password go together") }
        c.pdnUsername = o.pdnUser; c.pdnPassword = o.pdnPassword
        let logger: Logger
        do { logger = try Logger(options: "all.level=error") } catch { return fail("\(error)") }
        var capture: PhoneCapture?
        if let path = o.capture {
            do { capture = try PhoneCapture(path: path) } catch { return fail("cannot write the capture \(path): \(error)") }
        }
        defer { capture?.close() }
        if !o.quiet {
            print("VoWiFi UE: IMSI \(imsi) (\(o.algo.rawValue)), profile \(profile.name), ePDG \(epdg) NAT-T port \(o.natTPort), "
                  + "from \(local.address), APN \(o.apn), scenario \(o.scenario.rawValue)")
        }
        let (ok, results) = PhoneRunner.run([c], logger: logger, timeout: 30 + o.stepTimeout * 4 + o.media * 2, capture: capture)
        guard ok else { return 1 }
        let ladder = Ladder(quiet: o.quiet)
        return ladder.finish(results: results, out: nil) ? 0 : 1
    }
}

/// Runs phones on their own event loop until they are done (or the timeout passes).
enum PhoneRunner {
    static func run(_ configs: [PhoneConfig], logger: Logger, timeout: Double, capture: PhoneCapture? = nil,
                    onEvent: ((Int, PhoneEvent) -> Void)? = nil) -> (Bool, [PhoneHost.Result]) {
        let group: EventLoopGroup
        do { group = try EventLoopGroup(loopCount: 1, name: "vowifi-phones") } catch { print("cannot start the phone loop: \(error)"); return (false, []) }
        defer { group.shutdown() }
        let loop = group.loops[0]
        let host = PhoneHost()
        host.onEvent = onEvent
        if let capture {
            let imsis = configs.map(\.sim.imsi)
            host.onWire = { sent, local, remote, payload in
                capture.record(sent: sent, local: local, remote: remote, payload: payload, imsi: imsis.count == 1 ? imsis[0] : nil)
            }
        }
        do {
            try loop.submit { [host] in try host.start(configs, on: loop, logger: logger) }
        } catch {
            print("cannot start the phones: \(error)")
            return (false, [])
        }
        let results = host.wait(timeout: timeout, loop: loop)
        _ = try? loop.submit { [host] in host.stop() }
        return (true, results)
    }
}
