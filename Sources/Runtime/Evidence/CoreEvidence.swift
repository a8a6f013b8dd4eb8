import Analysis
import Crypto
import ESP
import Foundation
import IKEv2
import IMS
import SIP
import Wire

/// Everything the running core leaves behind for a tester, fed by small hooks in the ePDG
/// and the IMS host: the pcapng capture (outer IKE/ESP datagrams and decrypted inner
/// packets), Wireshark key files, decoded IKEv2 message trees and whole SIP messages in the
/// log, key lines, and the event stream of `vowifi run --events`. It learns which IMSI owns
/// which IKE SPI, ESP SPI and inner address from the ePDG's actions, so captures and log
/// lines carry the IMSI. Loop-confined like the services that call it; the maps are still
/// locked, so a second loop would be safe.
public final class CoreEvidence: @unchecked Sendable {
    // @unchecked: mutable maps are only touched with `lock` held.
    public let logger: Logger
    public let options: LogOptions
    public let capture: CoreCapture?
    public let keyFiles: KeyLogWriter?
    public let events: (@Sendable (CoreEvent) -> Void)?
    private let tree: IKEMessageTree
    private let lock = NSLock()
    private var imsiBySPIi: [UInt64: String] = [:]
    private var imsiByESPSPI: [UInt32: String] = [:]
    private var imsiByInnerAddress: [String: String] = [:]
    private var openers: [String: SKOpener] = [:]
    private var established: Set<UInt64> = []
    private var rekeyedAway: Set<UInt64> = []
    private var peerBySPIi: [UInt64: String] = [:]

    public init(logger: Logger, options: LogOptions, capture: CoreCapture? = nil, keyFiles: KeyLogWriter? = nil,
                events: (@Sendable (CoreEvent) -> Void)? = nil) {
        self.logger = logger
        self.options = options
        self.capture = capture
        self.keyFiles = keyFiles
        self.events = events
        tree = IKEMessageTree(maxSize: options[.ikev2].maxSize)
    }

    /// Whether IKE messages must be decoded at all (capture needs no decoding).
    private var logsIKE: Bool { logger.isEnabled(.ikev2, .info) }
    /// Whether SK openers (one OpenSSL context pair per IKE SA) are worth making.
    private var needsOpeners: Bool { logsIKE || options.key(.ikev2) }

    // MARK: ePDG hooks

    /// A datagram on the NAT-T socket that is not IKE (ESP, keepalive, garbage).
    public func outerReceived(_ bytes: UnsafeRawBufferPointer, from: SocketAddress, to: SocketAddress) {
        guard let capture else { return }
        let b = Array(bytes)
        capture.outer(b, from: from, to: to, imsi: espOwner(b))
    }

    /// An ESP datagram the ePDG sends toward a UE.
    public func espSent(_ bytes: [UInt8], from: SocketAddress, to: SocketAddress, owner: String) {
        capture?.outer(bytes, from: from, to: to, imsi: owner)
    }

    /// An IKE message received (call after `IKEResponder.handle`, so the IMSI of the first
    /// IKE_AUTH is known). `natT`: it came on the NAT-T socket (the non-ESP marker is restored
    /// in the capture).
    public func ikeReceived(_ message: [UInt8], from: SocketAddress, to: SocketAddress, natT: Bool, responder: IKEResponder) {
        ike(message, peer: from, local: to, natT: natT, incoming: true, responder: responder)
    }

    /// An IKE message sent (`framed` carries the non-ESP marker when sent from the NAT-T port).
    public func ikeSent(_ message: [UInt8], from: SocketAddress, to: SocketAddress, natT: Bool, responder: IKEResponder) {
        ike(message, peer: to, local: from, natT: natT, incoming: false, responder: responder)
    }

    private func ike(_ message: [UInt8], peer: SocketAddress, local: SocketAddress, natT: Bool, incoming: Bool, responder: IKEResponder) {
        guard let h = try? IKEMessage.peekHeader(message) else {
            capture?.outer(natT ? [0, 0, 0, 0] + message : message, from: incoming ? peer : local, to: incoming ? local : peer, imsi: nil)
            return
        }
        if h.spiR != 0, let sa = responder.sa(spiI: h.spiI, spiR: h.spiR), !sa.imsi.isEmpty { note(spiI: h.spiI, imsi: sa.imsi) }
        let imsi = lock.withLock { imsiBySPIi[h.spiI] }
        capture?.outer(natT ? [0, 0, 0, 0] + message : message, from: incoming ? peer : local, to: incoming ? local : peer, imsi: imsi)
        guard logsIKE, let m = try? IKEMessage(parsing: message) else { return }
        var inner: [Payload]? = nil
        var why: String? = nil
        if m.payloads.sk != nil || m.payloads.skf != nil {
            if let o = opener(h.spiI, h.spiR, responder: responder) {
                do {
                    switch try o.open(raw: message, message: m) {
                    case let .payloads(p): inner = p
                    case .fragmentPending: why = "fragment of a message not complete yet"
                    }
                } catch { why = "\(error)" }
            } else { why = "no keys for this IKE SA" }
        }
        let summary = tree.summary(h, payloads: inner.map { p in m.payloads.filter { if case .sk = $0 { false } else if case .skf = $0 { false } else { true } } + p } ?? m.payloads)
        var text = "\(Self.text(peer)) \(summary)"
        // The tree at debug with ikev2.payload=1; otherwise the summary line at info.
        let full = options.payload(.ikev2) && logger.isEnabled(.ikev2, .debug)
        if full {
            text += "\n" + tree.lines(m, inner: inner, undecryptedReason: why).map { "  " + $0 }.joined(separator: "\n")
        }
        logger.log(.ikev2, full ? .debug : .info, text, dir: incoming ? .from : .to, ue: imsi ?? Hex.spi(h.spiI))
    }

    /// The ePDG's actions for one input, before they are carried out: keys, maps, events.
    public func actions(_ actions: [IKEAction], responder: IKEResponder) {
        keyFiles?.log(actions: actions, responder: responder)
        var pending: [(event: CoreEvent, spiI: UInt64?)] = []
        var inner: [UInt64: (String?, String?)] = [:]
        for a in actions {
            switch a {
            case let .send(bytes, _, to):
                guard let h = try? IKEMessage.peekHeader(bytes), h.spiR != 0, let sa = responder.sa(spiI: h.spiI, spiR: h.spiR) else { continue }
                if !sa.imsi.isEmpty { note(spiI: h.spiI, imsi: sa.imsi) }
                lock.withLock { peerBySPIi[h.spiI] = to.description }
                // Keys exist from IKE_SA_INIT on: keep an opener for this SA and log its keys once.
                if sa.keys != nil && needsOpeners { _ = opener(h.spiI, h.spiR, responder: responder) }
            case let .installChildSA(d):
                lock.withLock {
                    imsiByESPSPI[d.inboundSPI] = d.imsi
                    imsiByESPSPI[d.outboundSPI] = d.imsi
                    if let v4 = d.innerIPv4 { imsiByInnerAddress[v4.description] = d.imsi }
                    if let v6 = d.innerIPv6 { imsiByInnerAddress[v6.description] = d.imsi }
                }
                note(spiI: d.ikeSPIi, imsi: d.imsi)
                inner[d.ikeSPIi] = (d.innerIPv4?.description, d.innerIPv6?.description)
                if options.key(.ipsec) && logger.isEnabled(.ipsec, .info) {
                    for row in KeyLogWriter.espRows(d) { logger.info(.ipsec, "esp_sa: \(row)", ue: d.imsi) }
                }
            case let .deleteChildSA(inSPI, outSPI):
                lock.withLock { imsiByESPSPI[inSPI] = nil; imsiByESPSPI[outSPI] = nil }
            case let .ikeSAEstablished(info):
                note(spiI: info.spiI, imsi: info.imsi)
                lock.withLock { _ = established.insert(info.spiI) }
                pending.append((.attach(imsi: info.imsi, apn: info.apn, peer: info.remote.description, ipv4: nil, ipv6: nil), info.spiI))
            case let .ikeSARekeyed(oldI, _, info):
                note(spiI: info.spiI, imsi: info.imsi)
                lock.withLock { _ = rekeyedAway.insert(oldI); _ = established.insert(info.spiI) }
                if needsOpeners { _ = opener(info.spiI, info.spiR, responder: responder, info: info) }
            case let .ikeSARedundant(info):
                // It never carried the session: its end is no detach.
                note(spiI: info.spiI, imsi: info.imsi)
                lock.withLock { _ = rekeyedAway.insert(info.spiI) }
                if needsOpeners { _ = opener(info.spiI, info.spiR, responder: responder, info: info) }
            case let .ikeSADeleted(spiI, _, reason):
                let (imsi, wasUp, rekeyed, peer) = lock.withLock { () -> (String?, Bool, Bool, String) in
                    let r = (imsiBySPIi[spiI], established.remove(spiI) != nil, rekeyedAway.remove(spiI) != nil, peerBySPIi[spiI] ?? "?")
                    imsiBySPIi[spiI] = nil; peerBySPIi[spiI] = nil
                    return r
                }
                if rekeyed { continue }
                if wasUp, let imsi { pending.append((.detach(imsi: imsi, reason: reason), nil)) }
                else if !wasUp { pending.append((.attachFailed(imsi: imsi, peer: peer, reason: reason), nil)) }
            default: break
            }
        }
        guard let events else { return }
        for (event, spi) in pending {
            // The attach carries the inner addresses of the Child SA made in the same exchange.
            if case let .attach(imsi, apn, peer, _, _) = event, let spi, let (v4, v6) = inner[spi] {
                events(.attach(imsi: imsi, apn: apn, peer: peer, ipv4: v4, ipv6: v6))
            } else {
                events(event)
            }
        }
    }

    /// After the host has carried out `actions`: the SK openers of the IKE SAs they ended go
    /// only now, so the last messages of those SAs (the answer to a Delete, our own Delete)
    /// were still logged decrypted.
    public func actionsCarriedOut(_ actions: [IKEAction]) {
        let ended = actions.compactMap { if case let .ikeSADeleted(spiI, _, _) = $0 { "\(spiI)-" } else { nil } }
        guard !ended.isEmpty else { return }
        lock.withLock { openers = openers.filter { o in !ended.contains { o.key.hasPrefix($0) } } }
    }

    /// A decrypted packet from a UE, or one toward it, on its way to/from the inner path.
    public func inner(_ packet: [UInt8], owner: String) {
        capture?.inner(packet, imsi: owner)
    }

    // MARK: IMS hooks

    /// A SIP message (or stream chunk) the IMS received or sent. Logged at sip.level=info as
    /// its first line, at debug with `sip.payload=1` whole.
    public func sip(_ bytes: [UInt8], peer: SIPPeer, outgoing: Bool, imsi: String?) {
        guard logger.isEnabled(.sip, .info) else { return }
        let who = imsi ?? lock.withLock { imsiByInnerAddress[peer.address] }
        let host = peer.address.contains(":") ? "[\(peer.address)]" : peer.address
        var text = "\(host):\(peer.port) \(Self.firstLine(bytes))"
        let full = options.payload(.sip) && logger.isEnabled(.sip, .debug)
        if full {
            var body = bytes
            var cut = 0
            if let m = options[.sip].maxSize, m > 0, body.count > m { cut = body.count - m; body = Array(body.prefix(m)) }
            let lines = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            var kept = Array(lines.dropFirst())
            while let l = kept.last, l.isEmpty { kept.removeLast() }
            if !kept.isEmpty { text += "\n" + kept.map { "  " + $0 }.joined(separator: "\n") }
            if cut > 0 { text += "\n  ... (\(cut) more bytes)" }
        }
        logger.log(.sip, full ? .debug : .info, text, dir: outgoing ? .to : .from, ue: who)
    }

    /// An IMS event: logged by the host already; here it becomes a `--events` line.
    public func imsEvent(_ e: IMSEvent) {
        if let events, let c = CoreEvent(e) { events(c) }
    }

    // MARK: helpers

    private func note(spiI: UInt64, imsi: String) {
        guard !imsi.isEmpty else { return }
        lock.withLock { imsiBySPIi[spiI] = imsi }
    }

    private func espOwner(_ b: [UInt8]) -> String? {
        guard b.count >= 8 else { return nil }
        let spi = b.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return lock.withLock { imsiByESPSPI[spi] }
    }

    /// The SK opener of an IKE SA, made once from its keys (and its keys logged with key=1).
    private func opener(_ spiI: UInt64, _ spiR: UInt64, responder: IKEResponder, info: IKESAInfo? = nil) -> SKOpener? {
        let k = "\(spiI)-\(spiR)"
        if let o = lock.withLock({ openers[k] }) { return o }
        let suite: IKESuite, keys: IKEKeys
        if let info { suite = info.suite; keys = info.keys }
        else if let sa = responder.sa(spiI: spiI, spiR: spiR), let s = sa.suite, let ks = sa.keys { suite = s; keys = ks }
        else { return nil }
        let row = IKEv2KeyRow(spiI: spiI, spiR: spiR, encryption: suite.encryption, integrity: suite.encryption.isAEAD ? nil : suite.integrity,
                              skEi: keys.SK_ei, skEr: keys.SK_er, skAi: keys.SK_ai, skAr: keys.SK_ar)
        guard let o = try? SKOpener(row: row) else { return nil }
        lock.withLock { openers[k] = o }
        if options.key(.ikev2) && logger.isEnabled(.ikev2, .info) {
            let ue = lock.withLock { imsiBySPIi[spiI] } ?? Hex.spi(spiI)
            logger.info(.ikev2, """
                IKE SA keys SPIi=0x\(Hex.spi(spiI)) SPIr=0x\(Hex.spi(spiR)) \(suite)
                  SK_d=\(Hex.encode(keys.SK_d))
                  SK_ai=\(Hex.encode(keys.SK_ai))
                  SK_ar=\(Hex.encode(keys.SK_ar))
                  SK_ei=\(Hex.encode(keys.SK_ei))
                  SK_er=\(Hex.encode(keys.SK_er))
                  SK_pi=\(Hex.encode(keys.SK_pi))
                  SK_pr=\(Hex.encode(keys.SK_pr))
                  ikev2_decryption_table: \(row.line)
                """, ue: ue)
        }
        return o
    }

    static func text(_ a: SocketAddress) -> String { a.addressBytes.count == 16 ? "[\(a.host)]:\(a.port)" : "\(a.host):\(a.port)" }

    static func firstLine(_ b: [UInt8]) -> String {
        String(decoding: b.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(200), as: UTF8.self)
    }

}
