import Foundation
import Wire
import SIP

/// One SIP message seen inside the tunnel.
struct SIPRecord {
    var time: Double
    var frame: Int
    var fromUE: Bool
    var message: SIPMessage
    var dst: String
    var callID: String
    var cseq: UInt32
    var cseqMethod: String

    var method: String? { message.method }
    var code: Int? { message.statusCode }
    var reason: String { if case let .response(_, r) = message.startLine { return r }; return "" }
}

extension FlowBuilder {
    /// SIP and RTP inside the tunnel: REGISTER, SUBSCRIBE, INVITE, RTP echo, BYE.
    func analyzeIMS() {
        inner.sort { ($0.time, $0.frame) < ($1.time, $1.frame) }
        var sip: [SIPRecord] = []
        var framers: [String: SIPStreamFramer] = [:]
        var ueInner = Set(innerAddresses)
        // Without CFG_REPLY, the phone's inner address is the source of its first SIP request.
        func parse(_ bytes: [UInt8]) -> SIPMessage? {
            guard let f = bytes.first, f >= 0x41 && f <= 0x5A else { return nil }
            return try? SIPMessage(parsing: bytes, validate: false)
        }
        var rtpUE: [UInt32: [UInt16]] = [:], rtpNet: [UInt32: [UInt16]] = [:]
        var rtpFirst: Double?, rtpLast: Double?
        var rtpFrames: (Int, Int) = (0, 0)
        for r in inner {
            var messages: [SIPMessage] = []
            var dport: UInt16 = 0
            var udpPayload: [UInt8]?
            if let u = r.ip.udp {
                dport = u.dport
                if let m = parse(u.payload) { messages = [m] } else { udpPayload = u.payload }
            } else if let t = r.ip.tcp, !t.payload.isEmpty {
                dport = t.dport
                let key = "\(r.ip.src):\(t.sport)>\(r.ip.dst):\(t.dport)"
                var fr = framers[key] ?? SIPStreamFramer()
                fr.append(t.payload)
                while let b = try? fr.nextMessage() { if let m = parse(b) { messages.append(m) } }
                framers[key] = fr
            }
            for m in messages {
                if ueInner.isEmpty, m.isRequest, ["REGISTER", "INVITE", "SUBSCRIBE"].contains(m.method ?? "") { ueInner.insert(r.ip.src) }
                let fromUE = r.fromUE ?? ueInner.contains(r.ip.src)
                let cseq = try? m.cseq()
                let rec = SIPRecord(time: r.time, frame: r.frame, fromUE: fromUE, message: m, dst: "\(r.ip.dst):\(dport)",
                                    callID: (try? m.callID()) ?? "", cseq: cseq?.sequence ?? 0, cseqMethod: cseq?.method ?? (m.method ?? ""))
                sip.append(rec)
                let label: String
                if let method = m.method {
                    label = method + (m.hasHeader("Authorization") ? " (Authorization)" : "")
                } else {
                    label = "\(rec.code ?? 0) \(rec.reason) (\(rec.cseqMethod))"
                }
                events.append(FlowEvent(time: r.time, from: fromUE ? .ue : .ims, to: fromUE ? .ims : .ue, label: label,
                                        step: Self.step(forMethod: rec.cseqMethod), isError: (rec.code ?? 0) >= 400 && rec.code != 401 && rec.code != 407,
                                        frame: r.frame))
            }
            // RTP: version 2, not RTCP (payload types 72-76), after any SIP.
            if let p = udpPayload, p.count >= 12, p[0] >> 6 == 2, !(72...76).contains(Int(p[1] & 0x7F)), dport != 5060 {
                let fromUE = r.fromUE ?? ueInner.contains(r.ip.src)
                let seq = UInt16(p[2]) << 8 | UInt16(p[3])
                let ssrc = be32(Array(p[8..<12]))
                if fromUE { rtpUE[ssrc, default: []].append(seq); rtpFrames.0 += 1 } else { rtpNet[ssrc, default: []].append(seq); rtpFrames.1 += 1 }
                if rtpFirst == nil { rtpFirst = r.time }
                rtpLast = r.time
            }
        }
        if innerAddresses.isEmpty { innerAddresses = Array(ueInner) }
        if let a = rtpFirst, let b = rtpLast {
            let (lu, eu) = Self.loss(rtpUE), (ln, en) = Self.loss(rtpNet)
            events.append(FlowEvent(time: a, from: .ue, to: .ims, label: "RTP ×\(rtpFrames.0) (lost \(lu) of \(eu))", step: .rtp, isError: rtpFrames.0 == 0))
            events.append(FlowEvent(time: max(a, b), from: .ims, to: .ue, label: "RTP echo ×\(rtpFrames.1) (lost \(ln) of \(en))", step: .rtp, isError: rtpFrames.1 == 0))
        }
        judgeRegister(sip)
        judgeSubscribe(sip)
        let call = judgeInvite(sip)
        judgeRTP(ue: rtpUE, net: rtpNet, call: call)
        judgeBye(sip, call: call)
    }

    static func step(forMethod m: String) -> StepKind {
        switch m {
        case "REGISTER", "OPTIONS", "MESSAGE": return .register
        case "SUBSCRIBE", "NOTIFY", "PUBLISH": return .subscribe
        case "BYE": return .bye
        default: return .invite
        }
    }

    /// (lost, expected) over all SSRCs, from sequence numbers (RFC 3550 A.3, without wrap tracking
    /// beyond one 16-bit cycle).
    static func loss(_ streams: [UInt32: [UInt16]]) -> (Int, Int) {
        var lost = 0, expected = 0
        for (_, seqs) in streams where !seqs.isEmpty {
            var ext: [Int] = []
            var cycles = 0
            var last = Int(seqs[0])
            for s in seqs {
                let v = Int(s)
                if v < last && last - v > 30000 { cycles += 65536 }
                last = v
                ext.append(v + cycles)
            }
            let e = (ext.max() ?? 0) - (ext.min() ?? 0) + 1
            expected += e
            lost += max(0, e - Set(ext).count)
        }
        return (lost, expected)
    }

    /// Responses to requests of `method` sent by `fromUE` side.
    func responses(_ sip: [SIPRecord], method: String, to requests: [SIPRecord]) -> [SIPRecord] {
        sip.filter { r in r.code != nil && r.cseqMethod == method && requests.contains { $0.callID == r.callID && $0.cseq == r.cseq } }
    }

    /// Why nothing arrived inside the tunnel.
    func noSIPReason() -> String {
        let pc = pcscf.map(\.description).joined(separator: ", ")
        if steps[.childSA]?.verdict != .pass && !authInferred { return "not reached: no Child SA" }
        if pcscfRequested && pcscf.isEmpty {
            return "no SIP REGISTER arrived after the Child SA: the phone received no P-CSCF address in CFG_REPLY, so it has nowhere to register"
        }
        let total = (espCount[true] ?? 0) + (espCount[false] ?? 0)
        if total == 0 && !usedInnerInterface {
            return "no SIP REGISTER arrived after the Child SA: no ESP packet at all — check the P-CSCF address the phone received (\(pc.isEmpty ? "none" : pc)) and that the phone's IMS client is on"
        }
        if espDecrypted == 0 && !usedInnerInterface {
            return "\(total) ESP packets after the Child SA, none decrypted: pass --keys DIR with the ePDG's esp_sa (or capture the inner interface)"
        }
        return "no SIP REGISTER arrived after the Child SA: check the P-CSCF address the phone received (\(pc.isEmpty ? "none" : pc))"
    }

    func judgeRegister(_ sip: [SIPRecord]) {
        let regs = sip.filter { $0.method == "REGISTER" }
        guard let first = regs.first else {
            set(.register, .missing, "no REGISTER", noSIPReason()); return
        }
        let rsps = responses(sip, method: "REGISTER", to: regs)
        let chain = (regs + rsps).sorted { $0.frame < $1.frame }.map { $0.method ?? "\($0.code ?? 0)" }.joined(separator: " → ")
        if let ok = rsps.first(where: { ($0.code ?? 0) >= 200 && ($0.code ?? 0) < 300 }) {
            let exp = ok.message.header("Expires") ?? (try? ok.message.contacts().first?.parameters["expires"] ?? nil) ?? nil
            set(.register, .pass, chain + (exp.map { "; Expires \($0)" } ?? ""), at: first.time)
            return
        }
        let dst = first.dst
        guard let last = rsps.last(where: { ($0.code ?? 0) >= 300 }) else {
            set(.register, .fail, chain, "the REGISTER to \(dst) got no answer: is the IMS listening there, and is the P-CSCF address the phone got (\(pcscf.map(\.description).joined(separator: ", "))) routed to it?", at: first.time)
            return
        }
        let code = last.code ?? 0
        let authed = regs.contains { $0.message.hasHeader("Authorization") }
        let why: String
        switch code {
        case 401, 407:
            why = authed
                ? "IMS registration failed: \(code) again to the REGISTER with credentials — the IMS did not accept the RES (IMS AKA): K/OPc in the IMS subscriber data differ from the SIM"
                : "IMS registration stopped at the \(code) challenge: the phone sent no REGISTER with credentials — it could not authenticate the network's AUTN (wrong K/OPc/AMF for IMS AKA) or does not support the algorithm"
        case 403: why = "IMS registration refused: 403 Forbidden — the IMPI/IMPU is not provisioned or is barred in the IMS"
        case 404: why = "IMS registration refused: 404 — the IMPU is unknown to the IMS (check the domain in the Request-URI)"
        default: why = "IMS registration refused: \(code) \(last.reason)"
        }
        set(.register, .fail, chain, why, at: first.time)
    }

    func judgeSubscribe(_ sip: [SIPRecord]) {
        let subs = sip.filter { $0.method == "SUBSCRIBE" }
        guard let first = subs.first else {
            set(.subscribe, .missing, "no SUBSCRIBE (optional)"); return
        }
        let rsps = responses(sip, method: "SUBSCRIBE", to: subs)
        let notifies = sip.filter { $0.method == "NOTIFY" }.count
        if rsps.contains(where: { ($0.code ?? 0) / 100 == 2 }) {
            set(.subscribe, .pass, "SUBSCRIBE \(first.message.header("Event") ?? "") accepted; \(notifies) NOTIFY", at: first.time)
        } else if let l = rsps.last(where: { ($0.code ?? 0) >= 300 }) {
            set(.subscribe, .fail, "SUBSCRIBE answered \(l.code ?? 0)", "the reg-event SUBSCRIBE was refused with \(l.code ?? 0) \(l.reason)", at: first.time)
        } else {
            set(.subscribe, .fail, "SUBSCRIBE unanswered", "the SUBSCRIBE got no answer from the IMS", at: first.time)
        }
    }

    /// Returns the time the call was answered (200 to INVITE), if it was.
    func judgeInvite(_ sip: [SIPRecord]) -> (answered: Double, callID: String)? {
        let invs = sip.filter { $0.method == "INVITE" }
        guard let first = invs.first else {
            let why = steps[.register]?.verdict == .pass ? "no INVITE: no call was made in the capture" : "not reached: the phone is not registered"
            set(.invite, .missing, "no INVITE", why); return nil
        }
        let rsps = responses(sip, method: "INVITE", to: invs)
        let chain = ([first] + rsps).sorted { $0.frame < $1.frame }.map { $0.method ?? "\($0.code ?? 0)" }
        if let ok = rsps.first(where: { ($0.code ?? 0) / 100 == 2 }) {
            let acked = sip.contains { $0.method == "ACK" && $0.callID == ok.callID }
            let dir = first.fromUE ? "from the phone" : "to the phone"
            if acked {
                set(.invite, .pass, "call \(dir): " + (chain + ["ACK"]).joined(separator: " → "), at: first.time)
            } else {
                set(.invite, .fail, "call \(dir): " + chain.joined(separator: " → "), "the 200 OK to INVITE was never ACKed: the \(first.fromUE ? "phone did not get the 200 OK (check Record-Route/Contact reachability)" : "IMS did not get the ACK")", at: first.time)
            }
            return (ok.time, ok.callID)
        }
        if let l = rsps.last(where: { ($0.code ?? 0) >= 300 }) {
            let code = l.code ?? 0
            let hint: String
            switch code {
            case 403: hint = "the IMS refuses calls from this subscriber"
            case 404: hint = "the dialled number is unknown to the IMS"
            case 480, 486: hint = "the callee is not available"
            case 488, 415: hint = "no codec in the phone's SDP offer is acceptable to the IMS"
            case 401, 407: hint = "the INVITE was challenged: the phone's registration is not recognised by the P-CSCF"
            default: hint = "see the IMS log"
            }
            set(.invite, .fail, chain.joined(separator: " → "), "the call was rejected with \(code) \(l.reason): \(hint)", at: first.time)
        } else {
            set(.invite, .fail, chain.joined(separator: " → "), "the INVITE to \(first.dst) got no final answer", at: first.time)
        }
        return nil
    }

    func judgeRTP(ue: [UInt32: [UInt16]], net: [UInt32: [UInt16]], call: (answered: Double, callID: String)?) {
        let nu = ue.values.reduce(0) { $0 + $1.count }, nn = net.values.reduce(0) { $0 + $1.count }
        let (lu, eu) = Self.loss(ue), (ln, en) = Self.loss(net)
        let s = "phone → IMS \(nu) packets (lost \(lu)/\(eu)), IMS → phone \(nn) packets (lost \(ln)/\(en))"
        if nu == 0 && nn == 0 {
            set(.rtp, .missing, "no RTP", call == nil ? "not reached: no answered call" : "the call was answered but no RTP flowed either way: check the media addresses in the SDP (c= lines) and that RTP is routed through the tunnel")
            return
        }
        if nu == 0 {
            set(.rtp, .fail, s, "the phone sent no RTP: it did not accept the IMS's SDP answer or mutes until preconditions are met"); return
        }
        if nn == 0 {
            set(.rtp, .fail, s, "no RTP came back to the phone: the IMS echo did not answer — check the media address in the IMS's SDP (c= line) and the route back into the tunnel"); return
        }
        let lossU = eu > 0 ? Double(lu) / Double(eu) : 0, lossN = en > 0 ? Double(ln) / Double(en) : 0
        if max(lossU, lossN) > 0.05 {
            set(.rtp, .fail, s, String(format: "RTP loss too high (%.1f%% phone → IMS, %.1f%% IMS → phone): Wi-Fi or tunnel drops packets", lossU * 100, lossN * 100))
        } else {
            set(.rtp, .pass, s)
        }
    }

    func judgeBye(_ sip: [SIPRecord], call: (answered: Double, callID: String)?) {
        let byes = sip.filter { $0.method == "BYE" }
        guard let first = byes.first else {
            set(.bye, .missing, "no BYE", call == nil ? "not reached: no answered call" : "the call was not ended with BYE in the capture")
            return
        }
        let rsps = responses(sip, method: "BYE", to: byes)
        let who = first.fromUE ? "phone" : "IMS"
        if rsps.contains(where: { ($0.code ?? 0) / 100 == 2 }) {
            set(.bye, .pass, "BYE from the \(who) → 200 OK", at: first.time)
        } else if let l = rsps.last(where: { ($0.code ?? 0) >= 300 }) {
            set(.bye, .fail, "BYE → \(l.code ?? 0)", "the BYE was answered \(l.code ?? 0) \(l.reason): the dialog was unknown to the other side", at: first.time)
        } else {
            set(.bye, .fail, "BYE unanswered", "the BYE from the \(who) got no answer", at: first.time)
        }
    }
}
