import Foundation
import Crypto
import Wire
import IKEv2
import ESP
import SIP

/// Rebuilds each phone's flow from a capture: IKE_SA_INIT (proposals, retries), IKE_AUTH
/// (decrypted with the `ikev2_decryption_table` rows: EAP-AKA, AUTH, Child SA, CFG_REPLY),
/// then inside ESP (decrypted with `esp_sa` rows, or the capture's "inner" interface) SIP
/// REGISTER, SUBSCRIBE, INVITE, RTP echo and BYE, and the final INFORMATIONAL Delete.
/// Each step gets a verdict, and failed ones an explanation in words.
public struct FlowAnalyzer: Sendable {
    public struct Options: Sendable {
        public var keys: KeyTables
        /// The ePDG's accepted algorithms, to name them when IKE_SA_INIT gets NO_PROPOSAL_CHOSEN.
        public var policy: IKEResponderPolicy?
        /// The ePDG's log: key rows quoted in it are used, and its NO_PROPOSAL_CHOSEN lines
        /// name what it accepts.
        public var logText: String?
        public init(keys: KeyTables = KeyTables(), policy: IKEResponderPolicy? = nil, logText: String? = nil) {
            self.keys = keys; self.policy = policy; self.logText = logText
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
        if let log = options.logText { self.options.keys.addFromLog(log) }
    }

    /// Reads a capture file and analyzes it. Without `keysDirectory` the key files are
    /// looked for next to the capture.
    public static func analyze(path: String, keysDirectory: String? = nil, policy: IKEResponderPolicy? = nil,
                               logText: String? = nil) throws -> AnalysisReport {
        let reader = try PcapNGReader(path: path)
        let dir = keysDirectory ?? (path as NSString).deletingLastPathComponent
        var keys = KeyTables.load(directory: dir.isEmpty ? "." : dir)
        if let log = logText { keys.addFromLog(log) }
        let a = FlowAnalyzer(options: Options(keys: keys, policy: policy, logText: logText))
        return a.analyze(packets: reader.packets, source: path)
    }

    public func analyze(packets: [CapturedPacket], source: String = "capture") -> AnalysisReport {
        var notes = options.keys.problems
        // Flows are found by IKE SPIi, then by the UE's outer address and port (several phones
        // may share one address, as in the demo, and the ePDG may share it too), then by the
        // address alone for raw ESP.
        var flowList: [FlowBuilder] = []
        var bySPI: [UInt64: FlowBuilder] = [:]
        var byEndpoint: [Endpoint: FlowBuilder] = [:]
        var esp: [(CapturedPacket, IPView, UInt32, [UInt8])] = []
        var inner: [(CapturedPacket, IPView)] = []
        var openers: [String: SKOpener?] = [:]

        func opener(_ i: UInt64, _ r: UInt64) -> SKOpener? {
            let k = "\(i)-\(r)"
            if let o = openers[k] { return o }
            var o: SKOpener?
            if let row = options.keys.ikeRow(spiI: i, spiR: r) {
                do { o = try SKOpener(row: row) } catch { notes.append("key row for SPIs \(Hex.spi(i))/\(Hex.spi(r)) unusable: \(error)") }
            }
            openers[k] = o
            return o
        }

        let (ikePorts, natTPorts) = Self.ports(packets)
        for p in packets {
            guard let ipBytes = p.ipPacket, let ip = IPView(ipBytes) else { continue }
            if Self.isInner(p) {
                inner.append((p, ip)); continue
            }
            if ip.proto == 50 {
                guard ip.payload.count >= 8 else { continue }
                esp.append((p, ip, be32(ip.payload), ip.payload)); continue
            }
            guard let u = ip.udp else { continue }
            var ike: [UInt8]?
            if ikePorts.contains(u.sport) || ikePorts.contains(u.dport) { ike = u.payload }
            else if natTPorts.contains(u.sport) || natTPorts.contains(u.dport) {
                if u.payload.count == 1 && u.payload[0] == 0xFF { continue }          // NAT keepalive
                if u.payload.count >= 4 && u.payload[0..<4] == [0, 0, 0, 0] { ike = Array(u.payload[4...]) }
                else if u.payload.count >= 8 { esp.append((p, ip, be32(u.payload), u.payload)); continue }
            }
            guard let ikeBytes = ike, let m = try? IKEMessage(parsing: ikeBytes) else { continue }
            let h = m.header
            // The UE is the original initiator of the IKE SA: the I flag says who sent it.
            let fromInitiator = h.isInitiator
            let ueAddr = fromInitiator ? ip.src : ip.dst
            let epdgAddr = fromInitiator ? ip.dst : ip.src
            let ueEnd = Endpoint(address: ueAddr, port: fromInitiator ? u.sport : u.dport)
            let flow: FlowBuilder
            if let f = bySPI[h.spiI] ?? byEndpoint[ueEnd] { flow = f } else {
                flow = FlowBuilder(ue: ueAddr, epdg: epdgAddr)
                flowList.append(flow)
            }
            bySPI[h.spiI] = flow
            if byEndpoint[ueEnd] == nil { byEndpoint[ueEnd] = flow }
            flow.ueEndpoints.insert(ueEnd)
            if let c = p.comment { flow.noteComment(c) }
            var payloads: [Payload]? = m.payloads
            var undecrypted: String?
            if m.payloads.sk != nil || m.payloads.skf != nil {
                payloads = nil
                if let o = opener(h.spiI, h.spiR) {
                    do {
                        switch try o.open(raw: ikeBytes, message: m) {
                        case let .payloads(pl): payloads = pl
                        case .fragmentPending: continue
                        }
                    } catch { undecrypted = "\(error)" }
                } else {
                    undecrypted = "no key row for SPIs \(Hex.spi(h.spiI))/\(Hex.spi(h.spiR))"
                }
            }
            flow.ike.append(IKERecord(time: p.time, frame: p.index, header: h, fromUE: fromInitiator,
                                      payloads: payloads, undecrypted: undecrypted))
        }

        // ESP: attribute by outer address, decrypt with esp_sa rows.
        var sas: [String: [ESPSecurityAssociation]] = [:]
        var undecryptedSPIs: Set<UInt32> = []
        for (p, ip, spi, bytes) in esp {
            let flow: FlowBuilder
            let fromUE: Bool
            if let u = ip.udp, let f = byEndpoint[Endpoint(address: ip.src, port: u.sport)] { flow = f; fromUE = true }
            else if let u = ip.udp, let f = byEndpoint[Endpoint(address: ip.dst, port: u.dport)] { flow = f; fromUE = false }
            else if let f = flowList.first(where: { $0.ueAddress == ip.src }) { flow = f; fromUE = true }
            else if let f = flowList.first(where: { $0.ueAddress == ip.dst }) { flow = f; fromUE = false }
            else { continue }
            flow.espCount[fromUE, default: 0] += 1
            flow.espSPIs.insert(spi)
            if flow.firstESP == nil { flow.firstESP = p.time }
            flow.lastESP = p.time
            let src = ip.src.description, dst = ip.dst.description
            let key = "\(spi)|\(src)|\(dst)"
            if sas[key] == nil {
                let rows = options.keys.esp.filter { $0.spi == spi && $0.matches(source: src, destination: dst) }
                let fallback = rows.isEmpty ? options.keys.esp.filter { $0.spi == spi } : rows
                sas[key] = fallback.flatMap { $0.makeSAs() }
            }
            var opened = false
            for sa in sas[key] ?? [] {
                var buf = bytes
                let outcome = buf.withUnsafeMutableBytes { ESPPacket.open($0, sa: sa) }
                if case let .inner(range, nh, _) = outcome {
                    opened = true
                    if (nh == 4 || nh == 41), let iv = IPView(Array(buf[range])) {
                        flow.inner.append(InnerRecord(time: p.time, frame: p.index, fromUE: fromUE, ip: iv))
                    }
                    break
                }
            }
            if opened { flow.espDecrypted += 1 } else { undecryptedSPIs.insert(spi) }
        }
        if !undecryptedSPIs.isEmpty {
            notes.append("ESP SPIs without a working esp_sa row: " + undecryptedSPIs.sorted().map { "0x" + hex8($0) }.joined(separator: ", "))
        }

        let built = flowList
        for f in built { f.analyzeIKE(policy: options.policy, logText: options.logText) }
        // Inner-interface packets go to the flow whose inner address they carry (or to the
        // only flow), unless that flow already has decrypted ESP.
        for (p, ip) in inner {
            let owner = built.first { $0.innerAddresses.contains(ip.src) || $0.innerAddresses.contains(ip.dst) } ?? (built.count == 1 ? built[0] : nil)
            guard let f = owner, f.espDecrypted == 0 else { continue }
            f.usedInnerInterface = true
            let fromUE = f.innerAddresses.isEmpty ? nil : f.innerAddresses.contains(ip.src)
            f.inner.append(InnerRecord(time: p.time, frame: p.index, fromUE: fromUE, ip: ip))
        }
        let result = built.map { $0.finish() }
        if built.isEmpty { notes.append("no IKEv2 traffic found (UDP 500/4500)") }
        return AnalysisReport(source: source, flows: result, notes: notes)
    }
}

extension FlowAnalyzer {
    static func isInner(_ p: CapturedPacket) -> Bool {
        p.interfaceName.lowercased().contains("inner") || p.interfaceName.lowercased().hasPrefix("tun")
    }

    /// The IKE and NAT-T ports of the capture: 500 and 4500, plus the ports of an ePDG that
    /// listens elsewhere (the demo and tests use ephemeral ports), found by the messages
    /// themselves: an IKE_SA_INIT request names its destination as an IKE port; an IKE
    /// message after a non-ESP marker names both its ports as NAT-T ports.
    static func ports(_ packets: [CapturedPacket]) -> (ike: Set<UInt16>, natT: Set<UInt16>) {
        var ike: Set<UInt16> = [500], natT: Set<UInt16> = [4500]
        for p in packets where !isInner(p) {
            guard let b = p.ipPacket, let ip = IPView(b), let u = ip.udp, u.payload.count >= IKEHeader.size else { continue }
            if let h = try? IKEMessage.peekHeader(u.payload), h.majorVersion == 2, Int(h.length) == u.payload.count,
               h.exchangeType == .IKE_SA_INIT, !h.isResponse, h.spiR == 0 {
                ike.insert(u.dport)
            } else if u.payload.count >= 4 + IKEHeader.size, u.payload[0..<4] == [0, 0, 0, 0],
                      let h = try? IKEMessage.peekHeader(Array(u.payload[4...])), h.majorVersion == 2, Int(h.length) == u.payload.count - 4 {
                if !ike.contains(u.sport) && !ike.contains(u.dport) { natT.insert(u.dport); natT.insert(u.sport) }
            }
        }
        return (ike, natT)
    }
}

/// A UE's outer address and UDP port.
struct Endpoint: Hashable {
    var address: IPAddress
    var port: UInt16
}

func be32(_ b: [UInt8]) -> UInt32 { b.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
func hex8(_ v: UInt32) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: max(0, 8 - s.count)) + s }

struct IKERecord {
    var time: Double
    var frame: Int
    var header: IKEHeader
    var fromUE: Bool
    /// nil when encrypted and not decryptable.
    var payloads: [Payload]?
    var undecrypted: String?
}

struct InnerRecord {
    var time: Double
    var frame: Int
    /// nil when the direction is not known yet (inner interface before CFG_REPLY is known).
    var fromUE: Bool?
    var ip: IPView
}
