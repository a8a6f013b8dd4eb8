import Foundation
import Crypto
import Wire
import IKEv2

/// Collects one UE's packets, then judges its IKE steps (this file) and its IMS steps
/// (FlowBuilder+IMS.swift).
final class FlowBuilder {
    let ueAddress: IPAddress
    let epdgAddress: IPAddress
    var ike: [IKERecord] = []
    var inner: [InnerRecord] = []
    var espCount: [Bool: Int] = [:]
    var espSPIs: Set<UInt32> = []
    var espDecrypted = 0
    var firstESP: Double?
    var lastESP: Double?
    var usedInnerInterface = false
    var imsi: String?
    var innerAddresses: [IPAddress] = []
    var pcscf: [IPAddress] = []
    var pcscfRequested = false
    var events: [FlowEvent] = []
    var steps: [StepKind: FlowStep] = [:]
    /// Set when IKE_AUTH could not be read but ESP flowed (so it must have worked).
    var authInferred = false
    var childEstablishedAt: Double?

    init(ue: IPAddress, epdg: IPAddress) { ueAddress = ue; epdgAddress = epdg }
    /// The UE's outer address:port pairs (IKE port, NAT-T port after a float).
    var ueEndpoints: Set<Endpoint> = []

    func noteComment(_ c: String) {
        guard imsi == nil else { return }
        let digits = c.split(whereSeparator: { !$0.isNumber }).first { (14...15).contains($0.count) }
        if let d = digits { imsi = String(d) }
    }

    func set(_ k: StepKind, _ v: Verdict, _ summary: String, _ why: String? = nil, at t: Double? = nil) {
        steps[k] = FlowStep(kind: k, verdict: v, summary: summary, explanation: why, time: t)
    }

    func event(_ r: IKERecord, _ label: String, _ step: StepKind, error: Bool = false) {
        events.append(FlowEvent(time: r.time, from: r.fromUE ? .ue : .epdg, to: r.fromUE ? .epdg : .ue, label: label,
                                step: step, isError: error, frame: r.frame))
    }

    // MARK: IKE

    func analyzeIKE(policy: IKEResponderPolicy?, logText: String?) {
        analyzeInit(policy: policy, logText: logText)
        analyzeAuth()
        analyzeInformational()
    }

    /// IKE_SA_INIT: offered vs chosen, retries (INVALID_KE_PAYLOAD, COOKIE), or why it failed.
    func analyzeInit(policy: IKEResponderPolicy?, logText: String?) {
        let inits = ike.filter { $0.header.exchangeType == .IKE_SA_INIT }
        var offered = ""
        var retries: [String] = []
        var chosen: String?
        var lastError: (NotifyType, IKERecord)?
        var requests = 0, responses = 0
        for r in inits {
            let p = r.payloads ?? []
            if !r.header.isResponse {
                requests += 1
                let offer = Describe.proposals(p.sa?.proposals ?? [])
                offered = offer
                var label = "IKE_SA_INIT SA KE(\(Describe.group(p.ke?.dhGroup))) Ni"
                if p.has(.COOKIE) { label += " N(COOKIE)" }
                event(r, label, .ikeSAInit)
            } else {
                responses += 1
                if let n = p.notify(.INVALID_KE_PAYLOAD) {
                    let g = n.data.count == 2 ? UInt16(n.data[0]) << 8 | UInt16(n.data[1]) : 0
                    retries.append("INVALID_KE_PAYLOAD (the ePDG wants \(Describe.group(g)))")
                    event(r, "IKE_SA_INIT N(INVALID_KE_PAYLOAD \(Describe.group(g)))", .ikeSAInit)
                } else if p.has(.COOKIE) && p.sa == nil {
                    retries.append("COOKIE (the ePDG is under load or asks for a return routability check)")
                    event(r, "IKE_SA_INIT N(COOKIE)", .ikeSAInit)
                } else if let err = p.notifies.first(where: { $0.type.isError }) {
                    lastError = (err.type, r)
                    event(r, "IKE_SA_INIT N(\(err.type.name))", .ikeSAInit, error: true)
                } else if let sa = p.sa {
                    chosen = Describe.proposals(sa.proposals)
                    lastError = nil
                    var label = "IKE_SA_INIT SA KE(\(Describe.group(p.ke?.dhGroup))) Nr"
                    if p.has(.NAT_DETECTION_SOURCE_IP) { label += " NAT-D" }
                    event(r, label, .ikeSAInit)
                } else {
                    event(r, "IKE_SA_INIT (no SA)", .ikeSAInit, error: true)
                }
            }
        }
        let retryText = retries.isEmpty ? "" : "; retried after " + retries.joined(separator: ", ")
        let t = inits.first?.time
        if let chosen {
            set(.ikeSAInit, .pass, "offered \(offered); chosen \(chosen)\(retryText)", at: t)
        } else if let (n, r) = lastError {
            var why = "IKE_SA_INIT: \(n.name)"
            if n == .NO_PROPOSAL_CHOSEN {
                why += " — the phone offered \(offered), the ePDG accepts \(Self.accepted(policy: policy, logText: logText))"
            } else {
                why += " — the ePDG refused the IKE SA"
            }
            set(.ikeSAInit, .fail, "offered \(offered); answered \(n.name)\(retryText)", why, at: r.time)
        } else if requests > 0 && responses == 0 {
            set(.ikeSAInit, .fail, "\(requests) IKE_SA_INIT request(s), no answer",
                "IKE_SA_INIT got no answer from \(epdgAddress) (\(requests) tries): is the ePDG running and UDP 500 reachable from the phone?", at: t)
        } else if requests > 0 {
            set(.ikeSAInit, .fail, "offered \(offered)\(retryText)",
                "IKE_SA_INIT never completed: the last answer was a retry request (\(retries.last ?? "?")) and the phone did not retry", at: t)
        } else {
            set(.ikeSAInit, .missing, "no IKE_SA_INIT in the capture", "the capture starts after IKE_SA_INIT (no request seen)")
        }
    }

    /// What the ePDG accepts: from its policy, or from its NO_PROPOSAL_CHOSEN log line.
    static func accepted(policy: IKEResponderPolicy?, logText: String?) -> String {
        if let p = policy {
            var parts = [p.ikeEncryption.map(\.description).joined(separator: "|")]
            parts.append(p.ikeIntegrity.map(\.description).joined(separator: "|"))
            parts.append(p.ikePRF.map(\.description).joined(separator: "|"))
            parts.append(p.ikeDHGroups.map(\.description).joined(separator: "|"))
            return parts.joined(separator: " / ")
        }
        if let log = logText, let line = log.split(separator: "\n").last(where: { $0.contains("NO_PROPOSAL_CHOSEN") && $0.contains("accepted") }),
           let r = line.range(of: "accepted ") {
            return String(line[r.upperBound...])
        }
        return "something else (see the ePDG's log line \"NO_PROPOSAL_CHOSEN: offered ...; accepted ...\" or its epdg algorithm lists)"
    }

    /// IKE_AUTH: EAP-AKA, the MSK AUTH, the Child SA and CFG_REPLY.
    func analyzeAuth() {
        let auths = ike.filter { $0.header.exchangeType == .IKE_AUTH }
        let initOK = steps[.ikeSAInit]?.verdict == .pass
        guard !auths.isEmpty else {
            let why = initOK ? "no IKE_AUTH after IKE_SA_INIT: the phone stopped after the key exchange (does it accept the ePDG's choice?)"
                             : "not reached: IKE_SA_INIT did not succeed"
            for k in [StepKind.eapAKA, .ikeAuth, .childSA, .cfgReply] { set(k, .missing, "no IKE_AUTH", why) }
            return
        }
        if auths.allSatisfy({ $0.payloads == nil }) {
            for r in auths { event(r, "IKE_AUTH #\(r.header.messageID) (encrypted)", .eapAKA) }
            let first = auths[0]
            let reason = first.undecrypted ?? "no key"
            if espDecrypted > 0 || !espSPIs.isEmpty && (espCount[true] ?? 0) > 0 && (espCount[false] ?? 0) > 0 {
                authInferred = true
                for k in [StepKind.eapAKA, .ikeAuth, .childSA] {
                    set(k, .pass, "encrypted (\(reason)); ESP flows both ways afterwards, so it succeeded", at: first.time)
                }
                set(.cfgReply, innerAddresses.isEmpty ? .missing : .pass, "encrypted", "IKE_AUTH is encrypted and cannot be read: \(reason); pass --keys DIR with the ePDG's ikev2_decryption_table")
            } else {
                let why = "IKE_AUTH is encrypted and cannot be read (\(reason)): pass --keys DIR with the ePDG's ikev2_decryption_table"
                for k in [StepKind.eapAKA, .ikeAuth, .childSA, .cfgReply] { set(k, .missing, "encrypted", why, at: first.time) }
            }
            return
        }

        enum UEAnswer { case none, identity, res, reject, sync, clientError(UInt16) }
        var firstReq: [Payload]?
        var method = "EAP-AKA"
        var challenges = 0, resyncs = 0
        var answer = UEAnswer.none
        var eapSuccess: IKERecord?, eapFailure: IKERecord?
        var preError: (NotifyType, IKERecord)?
        var finalReq: IKERecord?, finalRsp: (IKERecord, [Payload])?
        var finalError: (NotifyType, IKERecord)?
        var authStart: Double?
        /// RFC 4739 second round (additional_ue_auth_type): its EAP method, its IDi, and whether the ePDG refused it.
        var secondMethod: String?, secondUser: String?, secondFailed = false

        for r in auths {
            guard let p = r.payloads else {
                event(r, "IKE_AUTH #\(r.header.messageID) (not decrypted: \(r.undecrypted ?? "?"))", .eapAKA, error: true)
                continue
            }
            if authStart == nil { authStart = r.time }
            let step: StepKind = (eapSuccess != nil && (finalReq != nil || p.auth != nil)) ? .ikeAuth : .eapAKA
            var parts: [String] = []
            if let i = p.idi { parts.append("IDi(\(i.text))"); if imsi == nil { imsi = Describe.imsi(fromNAI: i.text) } }
            if let i = p.idr { parts.append("IDr(\(i.text))") }
            if p.auth != nil { parts.append("AUTH") }
            var isError = false
            if let e = p.eap, let pkt = try? EAPPacket(parsing: e) {
                parts.append(Describe.eap(pkt))
                if pkt.type == EAPType.akaPrime { method = "EAP-AKA'" }
                if pkt.type == EAPType.md5Challenge || pkt.type == EAPType.gtc { secondMethod = EAPType.name(pkt.type ?? 0) }
                if pkt.code == .failure, secondMethod != nil { secondFailed = true }
                let aka = (pkt.type == EAPType.aka || pkt.type == EAPType.akaPrime) ? try? EAPAKAMessage(parsing: pkt.typeData) : nil
                switch pkt.code {
                case .request: if aka?.subtype == .challenge { challenges += 1 }
                case .response:
                    switch aka?.subtype {
                    case .challenge?: answer = .res
                    case .authenticationReject?: answer = .reject; isError = true
                    case .synchronizationFailure?: answer = .sync; resyncs += 1
                    case .clientError?: answer = .clientError(aka?.clientErrorCode ?? 0); isError = true
                    case .identity?: answer = .identity
                    default: break
                    }
                case .success: eapSuccess = r
                case .failure: eapFailure = r; isError = true
                }
            }
            if let cp = p.cp { parts.append(cp.cfgType == CPPayload.CFG_REQUEST ? "CP(CFG_REQUEST)" : cp.cfgType == CPPayload.CFG_REPLY ? "CP(CFG_REPLY)" : "CP") }
            if p.sa != nil { parts.append("SA") }
            if p.tsi != nil { parts.append("TSi TSr") }
            for n in p.notifies where n.type.isError { parts.append("N(\(n.type.name))"); isError = true }
            if !r.fromUE, let err = p.notifies.first(where: { $0.type.isError }) {
                if eapSuccess != nil { finalError = (err.type, r) } else { preError = (err.type, r) }
            }
            if r.fromUE && !r.header.isResponse {
                // The first IKE_AUTH request (with SA, TS, CP); a second round's {IDi} does not replace it.
                if p.idi != nil, firstReq?.sa == nil { firstReq = p }
                if let i = p.idi, eapSuccess != nil { secondUser = i.text }
                if p.auth != nil && eapSuccess != nil { finalReq = r }
            }
            if !r.fromUE && r.header.isResponse && finalReq != nil && p.auth != nil { finalRsp = (r, p) }
            event(r, "IKE_AUTH " + parts.joined(separator: " "), step, error: isError)
        }

        // EAP-AKA verdict.
        let aka = "wrong K/OPc on the SIM or in ue_db"
        let t = authStart
        let answered: String = {
            var parts: [String] = []
            if eapFailure != nil { parts.append("EAP-Failure") }
            if let (n, _) = preError { parts.append(n.name) }
            return parts.isEmpty ? "the ePDG ended the exchange" : "the ePDG answered " + parts.joined(separator: " with ")
        }()
        if let s = eapSuccess {
            set(.eapAKA, .pass, "\(method): \(challenges) challenge(s), RES accepted, EAP-Success" + (resyncs > 0 ? "; resynchronised via AT_AUTS (\(resyncs)×)" : ""), at: s.time)
        } else {
            var why: String
            switch answer {
            case .reject:
                why = "EAP-AKA failed: the phone rejected the network's AUTN (MAC failure, AKA-Authentication-Reject) and \(answered) — \(aka)"
            case .res:
                why = "EAP-AKA failed: \(answered) to the phone's RES (RES ≠ XRES or AT_MAC wrong) — \(aka)"
            case let .clientError(c):
                why = "EAP-AKA failed: the phone answered AKA-Client-Error (code \(c)): it could not use the challenge (AT_MAC invalid, or AKA' KDF/network name mismatch)"
            case .sync:
                why = "EAP-AKA failed: the phone asked for resynchronisation (AT_AUTS) and no new challenge followed — the HSS could not verify AUTS (\(aka))"
            case .identity, .none:
                if let (n, _) = preError {
                    why = "IKE_AUTH: the ePDG answered \(n.name) — " + Describe.notifyHint(n, imsi: imsi, apn: firstReq?.idr?.text)
                } else if challenges > 0 {
                    why = "EAP-AKA: the phone never answered the AKA-Challenge"
                } else {
                    why = "EAP-AKA: the ePDG sent no AKA-Challenge (no answer to the first IKE_AUTH)"
                }
            }
            if case .none = answer, preError == nil, eapFailure != nil { why = "EAP-AKA failed: EAP-Failure — \(aka)" }
            set(.eapAKA, .fail, "\(method): \(challenges) challenge(s)" + (resyncs > 0 ? ", \(resyncs) resync(s)" : ""), why, at: t)
            for k in [StepKind.ikeAuth, .childSA, .cfgReply] { set(k, .missing, "not reached", "not reached: EAP-AKA failed") }
            return
        }

        // Final AUTH exchange.
        // A refusal after the last AUTH answer (e.g. a second authentication round that failed) wins.
        if let (_, er) = finalError, let (fr, _) = finalRsp, er.time >= fr.time { finalRsp = nil }
        guard let (fr, fp) = finalRsp else {
            if let (n, r) = finalError {
                let why = n == .AUTHENTICATION_FAILED && secondFailed
                    ? "IKE_AUTH: the ePDG refused the PDN credentials of the second authentication (\(secondMethod ?? "?") as '\(secondUser ?? "?")', additional_ue_auth_type) with EAP-Failure and AUTHENTICATION_FAILED — wrong username or password for the APN"
                    : n == .AUTHENTICATION_FAILED
                    ? "IKE_AUTH: the ePDG rejected the phone's AUTH (computed from the EAP MSK) with AUTHENTICATION_FAILED — the phone and the ePDG derived different MSKs or IKE keys"
                    : "IKE_AUTH: the ePDG answered \(n.name) after EAP-Success — " + Describe.notifyHint(n, imsi: imsi, apn: firstReq?.idr?.text)
                set(.ikeAuth, .fail, "EAP-Success, final AUTH rejected", why, at: r.time)
            } else {
                set(.ikeAuth, finalReq == nil ? .missing : .fail, "EAP-Success, no final AUTH response",
                    finalReq == nil ? "the phone sent no AUTH after EAP-Success" : "the ePDG did not answer the phone's final AUTH")
            }
            for k in [StepKind.childSA, .cfgReply] { set(k, .missing, "not reached", "not reached: IKE_AUTH did not complete") }
            return
        }
        set(.ikeAuth, .pass, "AUTH from the MSK verified; IDr \(firstReq?.idr?.text ?? "?")"
            + (secondMethod.map { "; second authentication \($0) as '\(secondUser ?? "?")'" } ?? ""), at: fr.time)

        // Child SA.
        if let sa = fp.sa, let chosen = sa.proposals.first {
            let offered = firstReq?.sa?.proposals ?? []
            let ueSPI = (offered.first { $0.number == chosen.number } ?? offered.first).map { be32($0.spi) }
            let epdgSPI = be32(chosen.spi)
            childEstablishedAt = fr.time
            var s = "ESP \(Describe.proposals([chosen]))"
            s += "; SPI to ePDG 0x\(hex8(epdgSPI)), to UE " + (ueSPI.map { "0x" + hex8($0) } ?? "?")
            if let tsi = fp.tsi, let tsr = fp.tsr { s += "; TSi \(tsi) TSr \(tsr)" }
            set(.childSA, .pass, s, at: fr.time)
        } else {
            let n = fp.notifies.first { $0.type.isError }
            let why = n.map { "no Child SA: the ePDG answered \($0.type.name) — " + Describe.notifyHint($0.type, imsi: imsi, apn: firstReq?.idr?.text) }
                ?? "no Child SA in the final IKE_AUTH response"
            set(.childSA, .fail, "IKE SA up, no Child SA", why, at: fr.time)
        }

        // CFG_REPLY.
        typealias A = CPPayload.Attribute
        let requested = firstReq?.cp?.attributes.map(\.type) ?? []
        let pcscfTypes = Set(requested.filter { $0 == A.P_CSCF_IP4_ADDRESS || $0 == A.P_CSCF_IP6_ADDRESS || $0 >= 16384 })
        pcscfRequested = !pcscfTypes.isEmpty
        guard let cp = fp.cp, cp.cfgType == CPPayload.CFG_REPLY else {
            set(.cfgReply, .fail, "no CFG_REPLY", "the final IKE_AUTH response has no CFG_REPLY: the phone got no inner address, DNS or P-CSCF", at: fr.time)
            return
        }
        var addrs: [IPAddress] = [], dns: [IPAddress] = [], pc: [IPAddress] = []
        for a in cp.attributes {
            switch a.type {
            case A.INTERNAL_IP4_ADDRESS: if let x = IPAddress(bytes: Array(a.value.prefix(4))), a.value.count >= 4 { addrs.append(x) }
            case A.INTERNAL_IP6_ADDRESS: if a.value.count >= 16, let x = IPAddress(bytes: Array(a.value.prefix(16))) { addrs.append(x) }
            case A.INTERNAL_IP4_DNS, A.INTERNAL_IP6_DNS: if let x = IPAddress(bytes: a.value.count == 4 ? a.value : Array(a.value.prefix(16))) { dns.append(x) }
            case let t where pcscfTypes.contains(t) || t == A.P_CSCF_IP4_ADDRESS || t == A.P_CSCF_IP6_ADDRESS:
                if let x = IPAddress(bytes: a.value.count == 4 ? a.value : Array(a.value.prefix(16))) { pc.append(x) }
            default: break
            }
        }
        innerAddresses = addrs; pcscf = pc
        func list(_ a: [IPAddress]) -> String { a.isEmpty ? "none" : a.map(\.description).joined(separator: ", ") }
        let s: String = "inner \(list(addrs)); DNS \(list(dns)); P-CSCF \(list(pc))"
        if addrs.isEmpty {
            set(.cfgReply, .fail, s, "CFG_REPLY has no inner address: the ePDG's pool for APN \(firstReq?.idr?.text ?? "?") gave nothing", at: fr.time)
        } else if pcscfRequested && pc.isEmpty {
            set(.cfgReply, .fail, s, "CFG_REPLY has no P-CSCF address although the phone asked for one: configure the P-CSCF of APN \(firstReq?.idr?.text ?? "?") in the ePDG; without it the phone sends no SIP REGISTER", at: fr.time)
        } else {
            set(.cfgReply, .pass, s, at: fr.time)
        }
    }

    /// INFORMATIONAL exchanges: DPD and the final Delete.
    func analyzeInformational() {
        let infos = ike.filter { $0.header.exchangeType == .INFORMATIONAL }
        var deleteReq: IKERecord?, deleteRsp: IKERecord?
        var encryptedReq: IKERecord?, encryptedRsp: IKERecord?
        for r in infos {
            guard let p = r.payloads else {
                event(r, "INFORMATIONAL #\(r.header.messageID) (encrypted)", .delete)
                if r.header.isResponse { encryptedRsp = r } else { encryptedReq = r }
                continue
            }
            if p.deletes.isEmpty && !r.header.isResponse {
                event(r, "INFORMATIONAL" + (p.isEmpty ? " (DPD)" : " " + Describe.payloadNames(p)), .delete)
                continue
            }
            let d = p.deletes.map { d in d.protocolID == .IKE ? "D(IKE)" : "D(\(d.protocolID) " + d.spis.map { "0x" + $0.hex }.joined(separator: ",") + ")" }
            event(r, "INFORMATIONAL " + (d.isEmpty ? "(empty)" : d.joined(separator: " ")), .delete)
            if !r.header.isResponse && !p.deletes.isEmpty { deleteReq = r }
            if r.header.isResponse, let q = deleteReq, q.header.messageID == r.header.messageID, q.fromUE != r.fromUE { deleteRsp = r }
        }
        if let q = deleteReq {
            if deleteRsp != nil {
                set(.delete, .pass, "Delete from the \(q.fromUE ? "phone" : "ePDG") answered", at: q.time)
            } else {
                set(.delete, .fail, "Delete from the \(q.fromUE ? "phone" : "ePDG") not answered",
                    "the INFORMATIONAL Delete got no answer: the peer was already gone or the IKE SA was unknown to it", at: q.time)
            }
        } else if let q = encryptedReq, encryptedRsp != nil, (lastESP ?? 0) <= q.time {
            set(.delete, .pass, "encrypted INFORMATIONAL exchange at the end, no ESP after it (Delete inferred)", at: q.time)
        } else {
            set(.delete, .missing, "no INFORMATIONAL Delete",
                "the IKE SA was not deleted in the capture (the phone was still attached when the capture stopped, or it vanished without Delete)")
        }
    }

    func finish() -> UEFlow {
        analyzeIMS()
        // IKE_AUTH unreadable, but the phone registered from an inner address: CFG_REPLY worked.
        if authInferred, steps[.cfgReply]?.verdict == .missing, steps[.register]?.verdict == .pass, !innerAddresses.isEmpty {
            set(.cfgReply, .pass, "encrypted; inferred: the phone used inner \(innerAddresses.map(\.description).joined(separator: ", ")) and reached the P-CSCF",
                at: steps[.cfgReply]?.time)
        }
        var ordered: [FlowStep] = []
        var firstProblem: StepKind?
        for k in StepKind.allCases {
            guard var s = steps[k] else { continue }
            if let fp = firstProblem, s.verdict == .missing, s.explanation == nil || s.explanation?.hasPrefix("not reached") == true {
                s.explanation = "not reached: \(fp.rawValue) failed"
            }
            if firstProblem == nil && s.isProblem { firstProblem = k }
            ordered.append(s)
        }
        events.sort { ($0.time, $0.frame) < ($1.time, $1.frame) }
        return UEFlow(ue: imsi ?? ueAddress.description, imsi: imsi, ueAddress: ueAddress.description, epdgAddress: epdgAddress.description,
                      innerAddresses: innerAddresses.map(\.description), pcscf: pcscf.map(\.description), events: events, steps: ordered)
    }
}

/// Human names for what the ladder shows.
enum Describe {
    static func group(_ g: UInt16?) -> String {
        guard let g else { return "-" }
        return DHGroup(rawValue: g)?.description ?? "group \(g)"
    }

    /// "ENCR_AES_CBC_128/PRF_HMAC_SHA2_256/AUTH_HMAC_SHA2_256_128/MODP_2048, ..." as the ePDG logs it.
    static func proposals(_ ps: [Proposal]) -> String {
        if ps.isEmpty { return "nothing" }
        return ps.map { p in
            p.transforms.map { t -> String in
                switch t.type {
                case .ENCR: return (try? EncryptionAlgorithm(transformID: t.id, keyLength: t.keyLength.map(Int.init)))?.description ?? "ENCR(\(t.id))"
                case .INTEG: return t.id == 0 ? "NONE" : IntegrityAlgorithm(rawValue: t.id)?.description ?? "INTEG(\(t.id))"
                case .PRF: return PseudoRandomFunction(rawValue: t.id)?.description ?? "PRF(\(t.id))"
                case .DH: return DHGroup(rawValue: t.id)?.description ?? "DH(\(t.id))"
                case .ESN: return t.id == 1 ? "ESN" : "NO_ESN"
                }
            }.joined(separator: "/")
        }.joined(separator: ", ")
    }

    static func eap(_ p: EAPPacket) -> String {
        switch p.code {
        case .success: return "EAP-Success"
        case .failure: return "EAP-Failure"
        case .request, .response:
            let dir = p.code == .request ? "EAP-Request" : "EAP-Response"
            guard p.type == EAPType.aka || p.type == EAPType.akaPrime, let m = try? EAPAKAMessage(parsing: p.typeData) else {
                return "\(dir)/" + (p.type.flatMap(EAPType.name) ?? "type \(p.type.map(String.init) ?? "-")")
            }
            var attrs: [String] = []
            if m.rand != nil { attrs.append("AT_RAND") }
            if m.autn != nil { attrs.append("AT_AUTN") }
            if m.res != nil { attrs.append("AT_RES") }
            if m.auts != nil { attrs.append("AT_AUTS") }
            if m.mac != nil { attrs.append("AT_MAC") }
            if let c = m.clientErrorCode { attrs.append("AT_CLIENT_ERROR_CODE \(c)") }
            let prime = p.type == EAPType.akaPrime ? "'" : ""
            return "\(dir)/\(m.subtype)\(prime)" + (attrs.isEmpty ? "" : " (" + attrs.joined(separator: ", ") + ")")
        }
    }

    static func payloadNames(_ p: [Payload]) -> String {
        p.map { pl -> String in
            if case let .notify(n) = pl { return "N(\(n.type.name))" }
            return pl.type.description
        }.joined(separator: " ")
    }

    /// The IMSI from a permanent NAI "0<IMSI>@nai.epc..." (leading 0 = EAP-AKA, 6 = EAP-AKA').
    static func imsi(fromNAI nai: String) -> String? {
        let user = nai.split(separator: "@").first.map(String.init) ?? nai
        let digits = user.filter(\.isNumber)
        guard digits.count == user.count, digits.count >= 15 else { return nil }
        return digits.count == 16 ? String(digits.dropFirst()) : digits
    }

    /// What to check for an error notify of IKE_AUTH.
    static func notifyHint(_ n: NotifyType, imsi: String?, apn: String?) -> String {
        switch n {
        case .USER_UNKNOWN: return "the IMSI \(imsi ?? "?") is not in ue_db"
        case .NO_APN_SUBSCRIPTION: return "the phone asked for APN \"\(apn ?? "?")\" (IDr), which the ePDG does not serve"
        case .NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED: return "the subscriber is barred from Wi-Fi (non-3GPP) access"
        case .AUTHENTICATION_FAILED: return "wrong K/OPc on the SIM or in ue_db"
        case .NETWORK_FAILURE: return "the ePDG could not get an authentication vector (HSS down?)"
        case .INTERNAL_ADDRESS_FAILURE: return "the address pool of the APN is exhausted or has no address of the family the phone asked for"
        case .NO_PROPOSAL_CHOSEN: return "none of the phone's ESP proposals is in the ePDG's ESP algorithm lists"
        case .TS_UNACCEPTABLE: return "the phone's traffic selectors are not acceptable"
        case .FAILED_CP_REQUIRED: return "the phone sent no CFG_REQUEST"
        case .AUTHORIZATION_REJECTED: return "the phone is not authorized for APN \"\(apn ?? "?")\" (with additional_ue_auth_type: it did not offer the second, PAP/CHAP authentication)"
        default: return "see the ePDG log for this IKE SA"
        }
    }
}
