import AKA
import Crypto
import Foundation
import Glibc
import HSS
import IKEv2
import Synchronization
import Wire

/// `vowifi bench ike`: full attaches per second per core (IKE_SA_INIT, IKE_AUTH with
/// EAP-AKA, MSK AUTH, CFG_REPLY, Child SA) for MODP-2048 and ECP-256, in process and over
/// loopback UDP, beside `openssl speed` for the same key agreements. The responder's CPU
/// time is measured apart from the initiator's, so the figure is per core of ePDG work.
enum BenchIKE {
    struct Options {
        var seconds = 3.0
        var concurrency = 64
        var groups: [DHGroup] = [.modp2048, .ecp256]
        var inProcess = true
        var udp = true
        /// In-process only: a fixed number of attaches instead of a duration (for profilers).
        var attaches: Int?
        var openssl = true
        var subscribers = 1024
        /// Runs every measurement this many times and keeps the best: on a shared machine the
        /// least-disturbed window is the closest to what one core can do.
        var repeats = 1
    }

    static func run(_ args: [String]) -> Int32 {
        var o = Options()
        var i = 0
        func value() -> String? { i += 1; return i < args.count ? args[i] : nil }
        while i < args.count {
            switch args[i] {
            case "--seconds": guard let v = value().flatMap(Double.init), v > 0 else { return usage() }; o.seconds = v
            case "--concurrency": guard let v = value().flatMap(Int.init), v > 0 else { return usage() }; o.concurrency = v
            case "--attaches": guard let v = value().flatMap(Int.init), v > 0 else { return usage() }; o.attaches = v
            case "--group":
                switch value() {
                case "14": o.groups = [.modp2048]
                case "19": o.groups = [.ecp256]
                default: return usage()
                }
            case "--mode":
                switch value() {
                case "inproc": o.udp = false
                case "udp": o.inProcess = false
                default: return usage()
                }
            case "--repeat": guard let v = value().flatMap(Int.init), v > 0 else { return usage() }; o.repeats = v
            case "--no-openssl": o.openssl = false
            default: return usage()
            }
            i += 1
        }
        o.subscribers = max(o.subscribers, o.concurrency)
        let world: World
        do { world = try World(subscribers: o.subscribers) } catch {
            FileHandle.standardError.write(Data("vowifi bench ike: setup failed: \(error)\n".utf8))
            return 1
        }
        print("IKEv2 full attaches (IKE_SA_INIT + IKE_AUTH: EAP-AKA, MSK AUTH, CFG, Child SA), \(OpenSSLSpeed.machine())")
        print("suite AES-CBC-128/HMAC-SHA2-256-128/PRF-HMAC-SHA2-256, ESP AES-CBC-128/HMAC-SHA1-96, \(o.subscribers) subscribers in the HSS (Milenage)")
        print("each figure: best of \(o.repeats) run(s) of \(o.seconds) s; CPU times are per thread (CLOCK_THREAD_CPUTIME_ID); ePDG IKE log level: error")

        // The DH ceiling of this machine in this run: openssl's derive rate, and our own
        // keygen + derive through the Crypto wrapper (what the responder really calls).
        var ceilings: [DHGroup: DHFigures] = [:]
        for g in o.groups {
            let name = g == .ecp256 ? "ecdhp256" : "ffdh2048"
            var speed: Double?
            var kg = 0.0, dv = 0.0
            for _ in 0..<o.repeats {
                if o.openssl, let v = OpenSSLSpeed.keyAgreement(name, seconds: 1) { speed = max(speed ?? 0, v) }
                let (k, d) = wrapperDH(g, seconds: 1)
                kg = max(kg, k); dv = max(dv, d)
            }
            ceilings[g] = DHFigures(openssl: speed, opensslName: name, keygen: kg, derive: dv)
        }

        var rows: [Row] = []
        for g in o.groups {
            if o.inProcess {
                let r = best((0..<o.repeats).map { _ in inProcess(group: g, world: world, seconds: o.seconds, count: o.attaches) })
                rows.append(Row(group: g, mode: "in-process", r: r))
            }
            if o.udp {
                do {
                    let r = best(try (0..<o.repeats).map { _ in try UDPBench.run(group: g, world: world, seconds: o.seconds, concurrency: o.concurrency) })
                    rows.append(Row(group: g, mode: "UDP c=\(o.concurrency)", r: r))
                } catch {
                    print("\(g) UDP: \(error)")
                    return 1
                }
            }
        }
        printTable(rows, ceilings: ceilings)
        return rows.allSatisfy({ $0.r.attaches > 0 && $0.r.failures == 0 }) ? 0 : 1
    }

    /// The run with the least responder CPU per attach.
    static func best(_ runs: [Result]) -> Result {
        runs.min { $0.responderHandleCPU / Double(max($0.attaches, 1)) < $1.responderHandleCPU / Double(max($1.attaches, 1)) } ?? Result()
    }

    static func usage() -> Int32 {
        FileHandle.standardError.write(Data("usage: vowifi bench ike [--seconds S] [--concurrency N] [--group 14|19] [--mode inproc|udp] [--attaches N] [--repeat N] [--no-openssl]\n".utf8))
        return 2
    }

    // MARK: Figures

    struct DHFigures {
        /// `openssl speed` derive operations per second (one core).
        var openssl: Double?
        var opensslName: String
        /// DHKeyPair(group:) and sharedSecret(peerPublicValue:) per second of thread CPU.
        var keygen: Double
        var derive: Double
        /// The brief's ceiling: a full attach costs the responder 1 keygen + 1 derive, each
        /// counted at openssl's derive price.
        var opensslCeiling: Double? { openssl.map { $0 / 2 } }
        /// The same through our wrapper, each operation at its own measured price.
        var wrapperCeiling: Double { 1 / (1 / keygen + 1 / derive) }
    }

    struct Result {
        var attaches = 0
        var failures = 0
        var wall = 0.0
        /// CPU seconds inside `IKEResponder.handle` (includes the HSS vector).
        var responderHandleCPU = 0.0
        /// CPU seconds of the whole responder thread (UDP: with the socket calls); in
        /// process: the same as `responderHandleCPU`.
        var responderThreadCPU = 0.0
        /// CPU seconds of the initiators (creation, start, handle; UDP: with the socket calls).
        var initiatorCPU = 0.0
        /// Attaches completed within the timed window, for the wall-clock rate.
        var attachesInWindow = 0
    }

    struct Row { var group: DHGroup; var mode: String; var r: Result }

    static func printTable(_ rows: [Row], ceilings: [DHGroup: DHFigures]) {
        print("")
        print("DH per core     openssl speed derive/s   wrapper keygen/s   wrapper derive/s   ceiling A = openssl/2   ceiling B = 1/(1/kg+1/dv)")
        for (g, c) in ceilings.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            print(pad("\(g)", 16) + pad(c.openssl.map { fmt($0) + " (\(c.opensslName))" } ?? "-", 25) + pad(fmt(c.keygen), 19) + pad(fmt(c.derive), 19)
                  + pad(c.opensslCeiling.map(fmt) ?? "-", 24) + fmt(c.wrapperCeiling))
        }
        print("")
        print(pad("group", 10) + pad("mode", 16) + pad("attaches", 10) + pad("wall att/s", 12) + pad("resp µs/att", 13)
              + pad("resp att/s/core", 17) + pad("(thread)", 10) + pad("init att/s/core", 17) + pad("% ceil A", 10) + "% ceil B")
        for row in rows {
            let r = row.r
            let resp = Double(r.attaches) / max(r.responderHandleCPU, 1e-9)
            let respThread = Double(r.attaches) / max(r.responderThreadCPU, 1e-9)
            let ini = Double(r.attaches) / max(r.initiatorCPU, 1e-9)
            let c = ceilings[row.group]
            let a = c?.opensslCeiling.map { String(format: "%.0f %%", 100 * resp / $0) } ?? "-"
            let b = c.map { String(format: "%.0f %%", 100 * resp / $0.wrapperCeiling) } ?? "-"
            print(pad("\(row.group)", 10) + pad(row.mode, 16) + pad("\(r.attaches)" + (r.failures > 0 ? " (\(r.failures) failed)" : ""), 10)
                  + pad(fmt(Double(r.attachesInWindow) / max(r.wall, 1e-9)), 12)
                  + pad(String(format: "%.0f", 1e6 * r.responderHandleCPU / Double(max(r.attaches, 1))), 13)
                  + pad(fmt(resp), 17) + pad(fmt(respThread), 10) + pad(fmt(ini), 17) + pad(a, 10) + b)
        }
        print("""

        resp att/s/core = attaches / CPU seconds inside IKEResponder.handle (HSS vector included);
        (thread) = attaches / CPU seconds of the responder thread (UDP: recvfrom/sendto included).
        ceiling A = openssl speed derive/s ÷ 2 (1 keygen + 1 derive per attach, both priced as a derive);
        ceiling B = the same two operations each at its price measured through Crypto.DHKeyPair.
        """)
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func fmt(_ v: Double) -> String { v >= 1e6 ? String(format: "%.2fM", v / 1e6) : v >= 1e4 ? String(format: "%.1fk", v / 1e3) : String(format: "%.0f", v) }

    // MARK: Clocks

    /// CPU seconds of the calling thread (the machine is shared; wall time would count others' work).
    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Keygen/s and derive/s through `DHKeyPair`, per second of thread CPU.
    static func wrapperDH(_ g: DHGroup, seconds: Double) -> (Double, Double) {
        guard let peer = try? DHKeyPair(group: g) else { return (0, 0) }
        var n = 0
        var c0 = threadCPU()
        while threadCPU() - c0 < seconds / 2 {
            for _ in 0..<16 { _ = try? DHKeyPair(group: g) }
            n += 16
        }
        let kg = Double(n) / (threadCPU() - c0)
        guard let mine = try? DHKeyPair(group: g) else { return (kg, 0) }
        n = 0
        c0 = threadCPU()
        while threadCPU() - c0 < seconds / 2 {
            for _ in 0..<16 { _ = try? mine.sharedSecret(peerPublicValue: peer.publicValue) }
            n += 16
        }
        return (kg, Double(n) / (threadCPU() - c0))
    }

    // MARK: In-process

    /// Initiator and responder in this thread, bytes handed over directly, one attach at a time.
    static func inProcess(group: DHGroup, world: World, seconds: Double, count: Int?) -> Result {
        var responder = world.makeResponder()
        let ueEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, 50), 500)
        let epdgEnd = IKEEndpoint(IPAddress(v4: 203, 0, 113, 1), 500)
        var r = Result()
        let w0 = monotonic(), c0 = threadCPU()
        var now = 1000.0
        var next = 0
        while count.map({ r.attaches + r.failures < $0 }) ?? (monotonic() - w0 < seconds) {
            // A real ePDG keeps its SAs; bound memory by starting over every few thousand.
            if responder.count >= 4096 { responder = world.makeResponder() }
            let sub = next % world.subscribers
            next += 1
            now += 0.001
            let ue = IKEInitiator(config: world.config(sub, group: group), usim: world.usims[sub], local: ueEnd, remote: epdgEnd, now: now)
            var toEPDG = sends(ue.start(now: now))
            var childInstalled = false
            var rounds = 0
            while !toEPDG.isEmpty && rounds < 16 {
                rounds += 1
                var toUE: [[UInt8]] = []
                for m in toEPDG {
                    let t = threadCPU()
                    let actions = responder.handle(datagram: m, from: ueEnd, to: epdgEnd, now: now)
                    r.responderHandleCPU += threadCPU() - t
                    for a in actions {
                        switch a {
                        case let .send(bytes, _, _): toUE.append(bytes)
                        case .installChildSA: childInstalled = true
                        default: break
                        }
                    }
                }
                toEPDG = []
                for m in toUE { toEPDG += sends(ue.handle(datagram: m, from: epdgEnd, to: ueEnd, now: now)) }
            }
            if ue.state == .established, ue.childSA != nil, childInstalled { r.attaches += 1 } else {
                r.failures += 1
                if r.failures == 1 { print("attach failed: \(ue.state)") }
            }
        }
        r.wall = monotonic() - w0
        r.attachesInWindow = r.attaches
        r.responderThreadCPU = r.responderHandleCPU
        r.initiatorCPU = threadCPU() - c0 - r.responderHandleCPU
        return r
    }

    static func sends(_ actions: [IKEAction]) -> [[UInt8]] {
        actions.compactMap { if case let .send(b, _, _) = $0 { b } else { nil } }
    }
}

/// The subscribers, HSS and ePDG policy both benchmarks share. Sendable: the HSS locks,
/// the rest is immutable; each thread builds its own IKEResponder or initiators from it.
final class World: Sendable {
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")

    let subscribers: Int
    let hss: HSS
    let imsis: [String]
    let usims: [USIM]
    let policy: IKEResponderPolicy

    init(subscribers: Int) throws {
        self.subscribers = subscribers
        // 00101 + 10 digits: test PLMN 001/01.
        imsis = (0..<subscribers).map { i in "00101" + String(repeating: "0", count: 10 - String(i).count) + String(i) }
        hss = try HSS(subscribers: imsis.map { Subscriber(imsi: $0, algorithm: .milenage, k: World.k, opc: World.opc, amf: 0x0000) })
        let alg = AuthenticationAlgorithm.milenage(try Milenage(k: World.k, opc: World.opc))
        // A fresh USIM per attach accepts any SQN above zero: every attach is a first attach.
        usims = try (0..<subscribers).map { _ in try USIM(algorithm: alg) }
        policy = IKEResponderPolicy(apns: [APNPolicy(name: "ims", dnsServers: [IPAddress("198.51.100.53")!],
                                                     pcscfAddresses: [IPAddress("198.51.100.1")!])])
    }

    func config(_ sub: Int, group: DHGroup) -> IKEInitiatorConfig {
        IKEInitiatorConfig(imsi: imsis[sub], mcc: "001", mnc: "01",
                           ikeSuites: [IKESuite(encryption: .ENCR_AES_CBC(keyBits: 128), integrity: .AUTH_HMAC_SHA2_256_128,
                                                prf: .PRF_HMAC_SHA2_256, dhGroup: group)])
    }

    func makeResponder() -> IKEResponder {
        let r = IKEResponder(policy: policy, vectors: HSSVectorSource(hss), pool: BenchAddressPool())
        // As an ePDG logging with all.level=error: info/debug text is never built.
        r.logLevel = .error
        return r
    }
}

/// The HSS as the ePDG's vector source (the runtime will have its own adapter).
final class HSSVectorSource: AuthenticationVectorSource {
    let hss: HSS
    init(_ hss: HSS) { self.hss = hss }
    func vector(imsi: String) throws -> AuthenticationVector {
        do { return try hss.vector(imsi: imsi) } catch HSSError.unknownIMSI { throw AuthenticationVectorError.userUnknown } catch {
            throw AuthenticationVectorError.failure("\(error)")
        }
    }
    func resync(imsi: String, rand: [UInt8], auts: [UInt8]) throws {
        do { try hss.resync(imsi: imsi, rand: rand, auts: auts) } catch HSSError.unknownIMSI { throw AuthenticationVectorError.userUnknown } catch {
            throw AuthenticationVectorError.resyncFailed
        }
    }
}

/// Hands out 198.18.0.0/15 round-robin; nothing is ever exhausted in a benchmark.
final class BenchAddressPool: InnerAddressPool {
    var next: UInt32 = 1
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        defer { next = next &+ 1 }
        let n = next & 0x1ffff
        return InnerAddresses(ipv4: wantIPv4 ? IPAddress(v4: 198, UInt8(18 + (n >> 16)), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)) : nil, ipv6: nil)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) {}
}

/// Errors of the loopback benchmark's socket setup.
struct SocketSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
}

/// Loopback UDP: a responder thread owns one socket and the IKEResponder; this thread owns
/// another socket and `concurrency` initiators in flight. Plain Glibc sockets, no event loop.
enum UDPBench {
    /// Set by the initiator side when it is done; read by the responder thread.
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let responder = Mutex<(handleCPU: Double, threadCPU: Double, children: Int)>((0, 0, 0))
    }

    static func makeSocket() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SocketSetupError("socket") }
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var a = loopback(port: 0)
        let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw SocketSetupError("bind 127.0.0.1") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return a
    }

    /// Sends one IKE message with the 4-byte non-ESP marker (ports are not 500, RFC 3948).
    static func send(_ fd: Int32, _ bytes: [UInt8], to: IKEEndpoint) {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = to.port.bigEndian
        let b = to.address.bytes
        guard b.count == 4 else { return }
        a.sin_addr.s_addr = (UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])).bigEndian
        let out = [0, 0, 0, 0] + bytes
        _ = out.withUnsafeBytes { p in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
    }

    /// Receives one datagram; nil on timeout or a datagram without the non-ESP marker.
    static func receive(_ fd: Int32, _ buf: inout [UInt8], flags: Int32 = 0) -> (bytes: [UInt8], from: IKEEndpoint)? {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buf.withUnsafeMutableBytes { p in
            withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, p.baseAddress, p.count, flags, $0, &len) } }
        }
        guard n >= 4 + 28, buf[0] == 0, buf[1] == 0, buf[2] == 0, buf[3] == 0 else { return nil }
        let h = UInt32(bigEndian: a.sin_addr.s_addr)
        let from = IKEEndpoint(IPAddress(v4: UInt8(h >> 24), UInt8((h >> 16) & 0xff), UInt8((h >> 8) & 0xff), UInt8(h & 0xff)), UInt16(bigEndian: a.sin_port))
        return (Array(buf[4..<n]), from)
    }

    static func run(group: DHGroup, world: World, seconds: Double, concurrency: Int) throws -> BenchIKE.Result {
        let (rfd, rport) = try makeSocket()
        defer { close(rfd) }
        let (ifd, iport) = try makeSocket()
        defer { close(ifd) }
        let shared = Shared()
        let done = DispatchSemaphore(value: 0)
        let epdgEnd = IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), rport)
        let ueEnd = IKEEndpoint(IPAddress(v4: 127, 0, 0, 1), iport)

        let thread = Thread {
            let responder = world.makeResponder()
            let c0 = BenchIKE.threadCPU()
            var handleCPU = 0.0
            var children = 0
            var buf = [UInt8](repeating: 0, count: 65536)
            while !shared.stop.load(ordering: .relaxed) {
                guard let (bytes, from) = receive(rfd, &buf) else { continue }
                let t = BenchIKE.threadCPU()
                let actions = responder.handle(datagram: bytes, from: from, to: epdgEnd, now: BenchIKE.monotonic())
                handleCPU += BenchIKE.threadCPU() - t
                for a in actions {
                    switch a {
                    case let .send(b, _, to): send(rfd, b, to: to)
                    case .installChildSA: children += 1
                    default: break
                    }
                }
            }
            let total = BenchIKE.threadCPU() - c0
            shared.responder.withLock { $0 = (handleCPU, total, children) }
            done.signal()
        }
        thread.name = "ike-responder"
        thread.start()

        // Initiator side: `concurrency` attaches in flight, each replaced when it completes.
        var r = BenchIKE.Result()
        var slots: [IKEInitiator?] = Array(repeating: nil, count: concurrency)
        var bySPI: [UInt64: Int] = [:]
        var next = 0
        let c0 = BenchIKE.threadCPU()
        let w0 = BenchIKE.monotonic()
        let deadline = w0 + seconds
        func startAttach(_ slot: Int, now: Double) {
            // Distinct subscribers among those in flight: slot s uses s, s + c, s + 2c...
            let sub = (slot + concurrency * (next / concurrency)) % world.subscribers
            next += 1
            let ue = IKEInitiator(config: world.config(sub, group: group), usim: world.usims[sub], local: ueEnd, remote: epdgEnd, now: now)
            slots[slot] = ue
            bySPI[ue.spiI] = slot
            for b in BenchIKE.sends(ue.start(now: now)) { send(ifd, b, to: epdgEnd) }
        }
        for s in 0..<concurrency { startAttach(s, now: w0) }
        var buf = [UInt8](repeating: 0, count: 65536)
        var lastPoll = w0
        var inFlight = concurrency
        while inFlight > 0 {
            let now = BenchIKE.monotonic()
            if now > deadline + 10 { break } // something is stuck; report what finished
            if let (bytes, from) = receive(ifd, &buf) {
                let spiI = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard let slot = bySPI[spiI], let ue = slots[slot] else { continue }
                for b in BenchIKE.sends(ue.handle(datagram: bytes, from: from, to: ueEnd, now: now)) { send(ifd, b, to: epdgEnd) }
                var finished = false
                switch ue.state {
                case .established:
                    finished = true
                    r.attaches += 1
                    if now <= deadline { r.attachesInWindow += 1 }
                case .failed:
                    finished = true
                    r.failures += 1
                    if r.failures == 1 { print("UDP attach failed: \(ue.state)") }
                default: break
                }
                if finished {
                    bySPI[spiI] = nil
                    slots[slot] = nil
                    if now < deadline { startAttach(slot, now: now) } else { inFlight -= 1 }
                }
            }
            if now - lastPoll > 0.1 {
                // Retransmissions, should a datagram have been dropped.
                lastPoll = now
                for case let ue? in slots where (ue.wakeup ?? .infinity) <= now {
                    for b in BenchIKE.sends(ue.poll(now: now)) { send(ifd, b, to: epdgEnd) }
                }
            }
        }
        r.wall = seconds
        r.initiatorCPU = BenchIKE.threadCPU() - c0
        shared.stop.store(true, ordering: .relaxed)
        done.wait()
        let s = shared.responder.withLock { $0 }
        r.responderHandleCPU = s.handleCPU
        r.responderThreadCPU = s.threadCPU
        if s.children != r.attaches { print("note: responder installed \(s.children) Child SAs for \(r.attaches) attaches") }
        return r
    }
}
