import AAA
import Crypto
import ESP
import Foundation
import IKEv2
import Wire

/// `vowifi-fuzz seeds <dir>` writes the seed corpora of the harnesses that need a real
/// exchange to start from: the datagrams of an in-memory attach (IKEInitiator against the
/// ePDG), their decrypted payload chains and EAP packets, a pcapng of that attach, RADIUS
/// requests, ESP packets of each suite. Text seeds (SIP, SDP, configs) are copied from the
/// repository and the SIP tests by scripts/fuzz-seeds.sh.
enum SeedWriter {
    static func write(to dir: String) throws {
        var corpus: [String: [(String, [UInt8])]] = [:]
        func add(_ harness: String, _ name: String, _ bytes: [UInt8]) { corpus[harness, default: []].append((name, bytes)) }

        // One attach, recorded: every datagram in order, who sent it, and the ePDG's keys.
        guard let (_, info, log) = attach(IKEWorld.responder()) else { throw SeedError("the recorded attach did not complete") }
        let epdgSide = try SKProtection(suite: info.suite, keys: info.keys, isInitiator: false)
        let phoneSide = try SKProtection(suite: info.suite, keys: info.keys, isInitiator: true)
        var eaps: [[UInt8]] = []
        for (i, m) in log.enumerated() {
            let who = m.fromPhone ? "phone" : "epdg"
            add("ike-codec", "attach-\(i)-\(who)", m.bytes)
            guard let msg = try? IKEMessage(parsing: m.bytes) else { continue }
            if m.fromPhone { add("ike-responder", "raw-\(i)", [msg.header.exchangeType == .IKE_SA_INIT ? 0 : 1] + m.bytes) }
            guard msg.header.exchangeType != .IKE_SA_INIT,
                  let inner = try? (m.fromPhone ? epdgSide : phoneSide).unprotect(raw: m.bytes, message: msg) else { continue }
            var w = ByteWriter()
            let first = Payload.serializeChain(inner, into: &w)
            add("ike-codec", "inner-\(i)-\(who)", [first.rawValue] + w.bytes)
            if m.fromPhone {
                let sel: UInt8 = [ExchangeType.IKE_AUTH, .CREATE_CHILD_SA, .INFORMATIONAL].firstIndex(of: msg.header.exchangeType).map(UInt8.init) ?? 0
                add("ike-responder", "protected-\(i)", [2, sel, UInt8(msg.header.messageID), first.rawValue] + w.bytes)
            }
            if let e = inner.eap { eaps.append(e); add("eap", "attach-\(i)-\(who)", e) }
        }
        // The established SA: DPD, deletes, MOBIKE, a Child SA rekey, a raw request.
        let espProposal = SAPayload(proposals: [Proposal(number: 1, protocolID: .ESP, spi: [0, 0, 0x20, 0],
                                                         transforms: [Transform(.ENCR, EncrID.ENCR_AES_CBC, keyLength: 128),
                                                                      Transform(.INTEG, IntegID.AUTH_HMAC_SHA1_96), Transform(.ESN, 0)])])
        let ts = TSPayload([.anyV4])
        let requests: [(String, ExchangeType, [Payload])] = [
            ("dpd", .INFORMATIONAL, []),
            ("delete-ike", .INFORMATIONAL, [.delete(DeletePayload(protocolID: .IKE))]),
            ("delete-esp", .INFORMATIONAL, [.delete(DeletePayload(protocolID: .ESP, spis: [[0, 0, 0x10, 0]]))]),
            ("mobike", .INFORMATIONAL, [.notify(NotifyPayload(.UPDATE_SA_ADDRESSES)), .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: [UInt8](repeating: 1, count: 20)))]),
            ("rekey-child", .CREATE_CHILD_SA, [.notify(NotifyPayload(.REKEY_SA, protocolID: 3, spi: [0, 0, 0x10, 0])), .sa(espProposal),
                                               .nonce([UInt8](repeating: 7, count: 32)), .tsi(ts), .tsr(ts)]),
            ("new-child", .CREATE_CHILD_SA, [.sa(espProposal), .nonce([UInt8](repeating: 8, count: 32)), .tsi(ts), .tsr(ts)]),
        ]
        for (name, ex, payloads) in requests {
            var w = ByteWriter()
            let first = Payload.serializeChain(payloads, into: &w)
            let sel: UInt8 = [ExchangeType.IKE_AUTH, .CREATE_CHILD_SA, .INFORMATIONAL].firstIndex(of: ex).map(UInt8.init) ?? 0
            add("ike-established", name, [0, sel, 4, first.rawValue] + w.bytes)
            add("ike-codec", "inner-\(name)", [first.rawValue] + w.bytes)
        }
        if let last = log.last(where: { $0.fromPhone }) { add("ike-established", "raw-replay", [1] + last.bytes) }

        // EAP beyond the attach: Success, Failure, Identity, MD5-Challenge, GTC, AKA' with KDF.
        add("eap", "success", [3, 9, 0, 4]); add("eap", "failure", [4, 9, 0, 4])
        add("eap", "identity", EAPIdentity.response("0\(IKEWorld.imsi)@nai.epc.mnc001.mcc001.3gppnetwork.org"))
        add("eap", "md5", EAPPacket(code: .request, identifier: 3, type: EAPType.md5Challenge,
                                    typeData: EAPMD5Challenge(value: [UInt8](repeating: 0x5a, count: 16), name: Array("epdg".utf8)).serialize()).serialize())
        add("eap", "gtc", EAPGTC.response(identifier: 4, token: Array("secret".utf8)).serialize())
        let prime = EAPAKAMessage(subtype: .challenge, attributes: [.AT_RAND([UInt8](repeating: 1, count: 16)), .AT_AUTN([UInt8](repeating: 2, count: 16)),
                                                                      .AT_KDF(1), .AT_KDF_INPUT(Array("WLAN".utf8)), .AT_MAC([UInt8](repeating: 0, count: 16))])
        add("eap", "aka-prime-challenge", prime.packet(code: .request, identifier: 5, method: EAPType.akaPrime))
        add("eap", "aka-sync-failure", EAPAKAMessage(subtype: .synchronizationFailure, attributes: [.AT_AUTS([UInt8](repeating: 3, count: 14))])
            .packet(code: .response, identifier: 6, method: EAPType.aka))

        // The attach as `vowifi analyze` reads it: raw IPv4/UDP frames in a pcapng.
        let pcap = dir + "/pcapng/attach.pcapng"
        try FileManager.default.createDirectory(atPath: dir + "/pcapng", withIntermediateDirectories: true)
        let writer = try PcapNGWriter(path: pcap)
        let itf = writer.addInterface(name: "swu")
        for (i, m) in log.enumerated() {
            let (s, d) = m.fromPhone ? (IKEWorld.ue, IKEWorld.epdg) : (IKEWorld.epdg, IKEWorld.ue)
            writer.write(interface: itf, packet: IPPacket.udp4(src: s.address.bytes, dst: d.address.bytes, sport: s.port, dport: d.port, payload: m.bytes),
                         time: 1_700_000_000 + Double(i) / 10, comment: i == 0 ? IKEWorld.imsi : nil)
        }
        writer.close()

        // RADIUS: the EAP-Response/Identity that starts EAP-AKA, raw / signed / in a session.
        let identity = EAPIdentity.response("0\(FuzzRADIUS.imsi)@wlan.mnc001.mcc001.3gppnetwork.org")
        let request = RADIUSPacketSeed.accessRequest(identity)
        for mode: UInt8 in 0...2 { add("radius", "access-request-\(mode)", [mode] + request) }
        if let e = eaps.first(where: { $0.first == 2 }) { add("radius", "eap-response-2", [2] + RADIUSPacketSeed.accessRequest(e)) }

        // ESP: a sealed IPv4/UDP packet per suite (flags select the suite), and plain inner packets.
        let inner = IPPacket.udp4(src: [198, 51, 100, 2], dst: [198, 51, 100, 1], sport: 5060, dport: 5060, payload: Array("OPTIONS".utf8))
        for (i, s) in FuzzESP.suites.enumerated() {
            guard let out = FuzzESP.sa(s, .outbound, esn: false, selectors: []),
                  case let .success(p) = inner.withUnsafeBytes({ ESPPacket.seal($0, nextHeader: 4, sa: out) }) else { continue }
            add("esp", "sealed-suite\(i)", [UInt8(i)] + p)
            add("esp", "sealed-suite\(i)-ts", [UInt8(i) | 0x10] + p)
            add("esp", "roundtrip-suite\(i)", [UInt8(i) | 0x20] + inner)
        }
        add("esp", "ike-on-4500", [0, 0, 0, 0, 0] + log[0].bytes)
        add("esp", "keepalive", [0, 0xff])

        for (h, files) in corpus {
            try FileManager.default.createDirectory(atPath: dir + "/" + h, withIntermediateDirectories: true)
            for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + h + "/" + name)) }
        }
    }
}

struct SeedError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum RADIUSPacketSeed {
    static func accessRequest(_ eap: [UInt8]) -> [UInt8] {
        let p = RADIUSPacket(code: .accessRequest, identifier: 1, authenticator: [UInt8](repeating: 0x11, count: 16),
                             attributes: [RADIUSAttribute(type: RADIUSAttributeType.userName, string: "0\(FuzzRADIUS.imsi)"),
                                          RADIUSAttribute(type: RADIUSAttributeType.nasIdentifier, string: "ap1"),
                                          RADIUSAttribute(type: RADIUSAttributeType.framedMTU, integer: 1400)]
                                 + RADIUSPacket.eapMessageAttributes(eap))
        return FuzzRADIUS.signed(p) ?? []
    }
}
