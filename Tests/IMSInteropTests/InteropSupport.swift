import Foundation
import Glibc
import IMS
import SIP
import TestSupport
import XCTest
@testable import Runtime

/// The core on loopback for real SIP peers: a temporary ims.cfg whose only `sip_addr` is
/// 127.0.0.1 on a free high port (so Via, Record-Route and the echo SDP name that address),
/// the repo's ue_db with extra test users appended, and the repo's mme-ims.cfg for the HSS.
final class LoopbackIMS {
    let dir: String
    let port: UInt16
    let mediaPortMin: UInt16
    let core: VoWiFiCore
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"

    /// `extraUsers`: ue_db entries (config text) appended to the repo's list.
    /// `pcscfFirst`: list the P-CSCF address 192.168.4.1 (not on this host) before 127.0.0.1,
    /// as config/ims.cfg does.
    /// `extraConfig`: more ims.cfg properties (e.g. `session_expires: {...},`).
    /// `loops`: event loops, i.e. IMS shards (two by default, so every interop test crosses shards).
    /// `extraSIPAddr`: more `sip_addr` entries (config text, `PORT` replaced by the SIP port).
    init(extraUsers: [String] = [], pcscfFirst: Bool = false, extraConfig: String = "", loops: Int = 2, extraSIPAddr: String = "") throws {
        dir = NSTemporaryDirectory() + "vowifi-interop-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = try LoopbackIMS.freePort()
        mediaPortMin = UInt16.random(in: 20000...31000) & ~1   // below the ephemeral range (32768+)
        let repo = Vectors.repoRoot
        let ueDB = try String(contentsOf: repo.appendingPathComponent("config/ue_db-ims.cfg"), encoding: .utf8)
        guard let close = ueDB.range(of: "]", options: .backwards) else { throw XCTSkip("config/ue_db-ims.cfg has no ue_db list") }
        let merged = ueDB[..<close.lowerBound] + extraUsers.map { "  " + $0 + ",\n" }.joined() + ueDB[close.lowerBound...]
        try String(merged).write(toFile: dir + "/ue_db.cfg", atomically: true, encoding: .utf8)
        let ims = """
        sip_addr: [ \(pcscfFirst ? "{ addr: \"192.168.4.1:\(port)\", port_min: \(mediaPortMin), port_max: \(mediaPortMin + 400) }, " : "")\
        { addr: "127.0.0.1:\(port)", port_min: \(mediaPortMin), port_max: \(mediaPortMin + 400) }\
        \(extraSIPAddr.isEmpty ? "" : ", " + extraSIPAddr.replacingOccurrences(of: "PORT", with: String(port))) ],
        domain: "\(LoopbackIMS.domain)",
        echo: [ "tel:666", "tel:+666", { impu: "tel:404", code: 404 } ],
        precondition: "on",
        "100rel": true,
        binding_expires: 3600,
        \(extraConfig)
        include "ue_db.cfg",

        """
        try ims.write(toFile: dir + "/ims.cfg", atomically: true, encoding: .utf8)
        var o = CoreOptions(mmeConfigPath: repo.appendingPathComponent("config/mme-ims.cfg").path,
                            imsConfigPath: dir + "/ims.cfg", innerPath: .inProcess)
        o.epdgHost = "127.0.0.1"; o.ikePort = 0; o.natTPort = 0
        o.sqnDatabase = dir + "/sqn.sqlite"
        o.logFile = dir + "/core.log"
        o.logOptions = "all.level=debug"
        o.loops = loops
        core = try VoWiFiCore(options: o)
        try core.start()
    }

    func stop() {
        core.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    var log: String { (try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "" }

    /// The IMS shards (one per loop); each view below gathers every shard's state on its loop.
    var cluster: IMSCluster { get throws { guard let c = core.imsCluster else { throw XCTSkip("core not started") }; return c } }

    var registeredIMPIs: [String] { ((try? cluster.registrations) ?? []).filter { !$0.bindings.isEmpty }.map(\.impi) }
    var dialogs: [IMSDialogInfo] { (try? cluster.dialogs()) ?? [] }
    var events: [String] { ((try? cluster.events()) ?? []).map { "\($0)" } }

    /// A port free for both UDP and TCP on 127.0.0.1 (bound then released).
    static func freePort() throws -> UInt16 {
        for _ in 0..<20 {
            let p = UInt16.random(in: 41000...59000)
            if canBind(p, stream: false) && canBind(p, stream: true) { return p }
        }
        throw XCTSkip("no free loopback port")
    }

    static func canBind(_ port: UInt16, stream: Bool) -> Bool {
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}

/// One SIPp run (Debian's `sipp`): scenario from Tests/IMSInteropTests/scenarios, keywords
/// by `-key`, its own error and message traces in a temp dir, killed after `timeout`.
struct SIPpRun {
    var status: Int32
    var output: String
    var errors: String
    var messages: String
    var summary: String { "SIPp exit \(status)\n--- errors:\n\(errors.suffix(3000))\n--- messages:\n\(messages.suffix(6000))\n--- output:\n\(output.suffix(2000))" }

    static let path = "/usr/bin/sipp"
    static var scenarios: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scenarios") }

    static func requireSIPp() throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("SIPp is not installed (/usr/bin/sipp, Debian package sip-tester: scripts/setup.sh --test)")
        }
    }

    /// Starts SIPp; `wait()` on the returned handle collects the result.
    final class Handle: @unchecked Sendable {
        // @unchecked: the Process is only touched by the test thread.
        let process = Process()
        let dir: String
        let outFile: String
        init(dir: String) { self.dir = dir; self.outFile = dir + "/stdout.txt" }

        func wait(timeout: Double) -> SIPpRun {
            let until = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < until { usleep(20_000) }
            if process.isRunning { process.terminate(); usleep(200_000); if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            process.waitUntilExit()
            let read = { (name: String) -> String in
                let files = (try? FileManager.default.contentsOfDirectory(atPath: self.dir)) ?? []
                return files.filter { $0.hasSuffix(name) }.compactMap { try? String(contentsOfFile: self.dir + "/" + $0, encoding: .utf8) }.joined()
            }
            let r = SIPpRun(status: process.terminationStatus, output: read("stdout.txt"), errors: read("errors.log"), messages: read("messages.log"))
            try? FileManager.default.removeItem(atPath: dir)
            return r
        }
    }

    static func start(_ scenario: String, port: UInt16, localPort: UInt16? = nil, transport: String = "u1",
                      keys: [String: String] = [:], extra: [String] = [], calls: Int = 1) throws -> Handle {
        let dir = NSTemporaryDirectory() + "sipp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let h = Handle(dir: dir)
        var args = ["-sf", scenarios.appendingPathComponent(scenario).path, "127.0.0.1:\(port)",
                    "-i", "127.0.0.1", "-mi", "127.0.0.1", "-t", transport, "-m", String(calls),
                    "-nostdin", "-trace_err", "-error_file", dir + "/errors.log",
                    "-trace_msg", "-message_file", dir + "/messages.log", "-timeout", "30s", "-timeout_error"]
        // Explicit high ports: SIPp's defaults (5060, media 6000) may belong to someone else.
        args += ["-p", String(try localPort ?? LoopbackIMS.freePort()), "-mp", String(try LoopbackIMS.freePort() & ~1)]
        for (k, v) in keys.sorted(by: { $0.key < $1.key }) { args += ["-key", k, v] }
        args += extra
        h.process.executableURL = URL(fileURLWithPath: path)
        h.process.arguments = args
        h.process.currentDirectoryURL = URL(fileURLWithPath: dir)
        _ = FileManager.default.createFile(atPath: h.outFile, contents: nil)
        let out = FileHandle(forWritingAtPath: h.outFile)
        h.process.standardOutput = out
        h.process.standardError = out
        h.process.standardInput = FileHandle.nullDevice
        try h.process.run()
        return h
    }

    static func run(_ scenario: String, port: UInt16, localPort: UInt16? = nil, transport: String = "u1",
                    keys: [String: String] = [:], extra: [String] = [], timeout: Double = 40) throws -> SIPpRun {
        let r = try start(scenario, port: port, localPort: localPort, transport: transport, keys: keys, extra: extra).wait(timeout: timeout)
        // Seen once in ~100 runs: SIPp 3.6.1 exits with "Syntax error or invalid [keyword]" before
        // sending its first message (nothing in messages.log, nothing reached the IMS). That
        // run tested nothing, so it is started once more; a real fault fails the second run too.
        if r.status != 0, r.messages.isEmpty, (r.output + r.errors).contains("Syntax error") {
            return try start(scenario, port: port, localPort: localPort, transport: transport, keys: keys, extra: extra).wait(timeout: timeout)
        }
        return r
    }
}

/// The SIPp-compatible SIM of config/ue_db-ims.cfg (TS 35.208 test set 8). Its K and OP are
/// written in the AKA scenarios: SIPp takes no keyword inside `[authentication ...]`.
enum SIM8 {
    static let imsi = "001010000000002"
    static let impi = imsi + "@" + LoopbackIMS.domain
    static func keys() -> [String: String] { ["domain": LoopbackIMS.domain, "impi": impi, "impu": imsi] }
}

/// A blocking UDP socket on 127.0.0.1 that plays the phone's RTP endpoint.
final class RTPSocket {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw XCTSkip("cannot bind a UDP socket on 127.0.0.1") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: a.sin_port)
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], port: UInt16) {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    /// One datagram and its source port, or nil after `timeout` seconds.
    func receive(timeout: Double) -> ([UInt8], UInt16)? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 2048)
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buf.withUnsafeMutableBytes { b in
            withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) } }
        }
        guard n > 0 else { return nil }
        return (Array(buf[0..<n]), UInt16(bigEndian: a.sin_port))
    }

    /// An RTP packet (RFC 3550 §5.1): V=2, PT 0 (PCMU), sequence, timestamp, SSRC, 160 bytes.
    static func packet(seq: UInt16, ssrc: UInt32 = 0x5EED_CAFE) -> [UInt8] {
        let ts = UInt32(seq) * 160
        var p: [UInt8] = [0x80, 0x00, UInt8(seq >> 8), UInt8(seq & 0xff),
                          UInt8(ts >> 24), UInt8((ts >> 16) & 0xff), UInt8((ts >> 8) & 0xff), UInt8(ts & 0xff),
                          UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xff), UInt8((ssrc >> 8) & 0xff), UInt8(ssrc & 0xff)]
        p += (0..<160).map { UInt8(truncatingIfNeeded: Int(seq) &* 7 &+ $0) }
        return p
    }
}
