import Wire

/// One IKEv2 payload as a value. Unknown payload types are kept raw with their critical bit,
/// so the SA can answer UNSUPPORTED_CRITICAL_PAYLOAD (RFC 7296 §2.5).
public enum Payload: Hashable, Sendable {
    case sa(SAPayload)
    case ke(KEPayload)
    case idi(IDPayload)
    case idr(IDPayload)
    case cert(CertPayload)
    case certreq(CertPayload)
    case auth(AuthPayload)
    case nonce([UInt8])
    case notify(NotifyPayload)
    case delete(DeletePayload)
    case vendorID([UInt8])
    case tsi(TSPayload)
    case tsr(TSPayload)
    case sk(SKPayload)
    case cp(CPPayload)
    /// The EAP packet bytes (decoded with `EAPPacket`).
    case eap([UInt8])
    case skf(SKFPayload)
    case unknown(type: PayloadType, critical: Bool, body: [UInt8])

    public var type: PayloadType {
        switch self {
        case .sa: .SA; case .ke: .KE; case .idi: .IDi; case .idr: .IDr; case .cert: .CERT; case .certreq: .CERTREQ
        case .auth: .AUTH; case .nonce: .Nonce; case .notify: .N; case .delete: .D; case .vendorID: .V
        case .tsi: .TSi; case .tsr: .TSr; case .sk: .SK; case .cp: .CP; case .eap: .EAP; case .skf: .SKF
        case let .unknown(t, _, _): t
        }
    }

    /// Parses the payload chain that starts with `first` until Next Payload is 0. An SK or SKF
    /// payload must be the last one: its Next Payload names the first inner payload instead.
    public static func parseChain(first: PayloadType, _ r: inout ByteReader) throws -> [Payload] {
        var out: [Payload] = []
        var next = first
        while next != .none {
            let start = r.offset
            let np = PayloadType(rawValue: try r.u8("\(next) next payload"))
            let flags = try r.u8("\(next) critical flag")
            let len = Int(try r.u16("\(next) payload length"))
            guard len >= 4 else {
                throw WireError.invalidValue(what: "\(next) payload length", offset: start + 2, detail: "\(len) < 4")
            }
            var body = try r.subReader(len - 4, "\(next) payload body")
            let p = try parseBody(type: next, critical: flags & 0x80 != 0, nextField: np, &body)
            out.append(p)
            if next == .SK || next == .SKF {
                guard r.isAtEnd else {
                    throw WireError.invalidValue(what: "\(next) payload", offset: r.offset, detail: "must be the last payload")
                }
                break
            }
            next = np
        }
        guard r.isAtEnd else {
            throw WireError.invalidValue(what: "payload chain", offset: r.offset, detail: "\(r.remaining) bytes after the last payload")
        }
        return out
    }

    static func parseBody(type: PayloadType, critical: Bool, nextField: PayloadType, _ b: inout ByteReader) throws -> Payload {
        let p: Payload
        switch type {
        case .SA: p = .sa(try SAPayload(parsing: &b))
        case .KE: p = .ke(try KEPayload(parsing: &b))
        case .IDi: p = .idi(try IDPayload(parsing: &b))
        case .IDr: p = .idr(try IDPayload(parsing: &b))
        case .CERT: p = .cert(try CertPayload(parsing: &b))
        case .CERTREQ: p = .certreq(try CertPayload(parsing: &b))
        case .AUTH: p = .auth(try AuthPayload(parsing: &b))
        case .Nonce:
            let at = b.offset
            let n = b.rest()
            guard (16...256).contains(n.count) else {
                throw WireError.invalidValue(what: "Nonce length", offset: at, detail: "\(n.count) not in 16...256")
            }
            p = .nonce(n)
        case .N: p = .notify(try NotifyPayload(parsing: &b))
        case .D: p = .delete(try DeletePayload(parsing: &b))
        case .V: p = .vendorID(b.rest())
        case .TSi: p = .tsi(try TSPayload(parsing: &b))
        case .TSr: p = .tsr(try TSPayload(parsing: &b))
        case .SK: p = .sk(SKPayload(firstInnerPayload: nextField, body: b.rest()))
        case .CP: p = .cp(try CPPayload(parsing: &b))
        case .EAP:
            let at = b.offset
            let e = b.rest()
            guard e.count >= 4 else { throw WireError.truncated(what: "EAP packet", offset: at, needed: 4, available: e.count) }
            p = .eap(e)
        case .SKF: p = .skf(try SKFPayload(parsing: &b, next: nextField))
        default: p = .unknown(type: type, critical: critical, body: b.rest())
        }
        return p
    }

    /// Writes the body (without the generic header).
    func serializeBody(into w: inout ByteWriter) {
        switch self {
        case let .sa(x): x.serialize(into: &w)
        case let .ke(x): x.serialize(into: &w)
        case let .idi(x), let .idr(x): x.serialize(into: &w)
        case let .cert(x), let .certreq(x): x.serialize(into: &w)
        case let .auth(x): x.serialize(into: &w)
        case let .nonce(x), let .vendorID(x), let .eap(x): w.append(x)
        case let .notify(x): x.serialize(into: &w)
        case let .delete(x): x.serialize(into: &w)
        case let .tsi(x), let .tsr(x): x.serialize(into: &w)
        case let .sk(x): w.append(x.body)
        case let .cp(x): x.serialize(into: &w)
        case let .skf(x): x.serialize(into: &w)
        case let .unknown(_, _, body): w.append(body)
        }
    }

    var criticalFlag: UInt8 {
        if case let .unknown(_, c, _) = self, c { return 0x80 }
        return 0
    }

    /// Serializes a chain; returns the type of the first payload (for the header or SK field).
    @discardableResult
    public static func serializeChain(_ payloads: [Payload], into w: inout ByteWriter) -> PayloadType {
        for (i, p) in payloads.enumerated() {
            let next: PayloadType
            switch p {
            case let .sk(s): next = s.firstInnerPayload
            case let .skf(s): next = s.firstInnerPayload
            default: next = i + 1 < payloads.count ? payloads[i + 1].type : .none
            }
            let start = w.count
            w.u8(next.rawValue); w.u8(p.criticalFlag)
            let m = w.beginLength(width: 2, regionStart: start)
            p.serializeBody(into: &w)
            w.endLength(m)
        }
        return payloads.first?.type ?? .none
    }
}

/// Convenience look-ups over a payload list.
extension Array where Element == Payload {
    public var notifies: [NotifyPayload] { compactMap { if case let .notify(n) = $0 { n } else { nil } } }
    /// The first notify of type `t` (a scan, no intermediate array: handlers ask many times).
    public func notify(_ t: NotifyType) -> NotifyPayload? {
        for p in self { if case let .notify(n) = p, n.type == t { return n } }
        return nil
    }
    public func has(_ t: NotifyType) -> Bool { notify(t) != nil }
    public var sa: SAPayload? { lazy.compactMap { if case let .sa(x) = $0 { x } else { nil } }.first }
    public var ke: KEPayload? { lazy.compactMap { if case let .ke(x) = $0 { x } else { nil } }.first }
    public var nonce: [UInt8]? { lazy.compactMap { if case let .nonce(x) = $0 { x } else { nil } }.first }
    public var idi: IDPayload? { lazy.compactMap { if case let .idi(x) = $0 { x } else { nil } }.first }
    public var idr: IDPayload? { lazy.compactMap { if case let .idr(x) = $0 { x } else { nil } }.first }
    public var auth: AuthPayload? { lazy.compactMap { if case let .auth(x) = $0 { x } else { nil } }.first }
    public var eap: [UInt8]? { lazy.compactMap { if case let .eap(x) = $0 { x } else { nil } }.first }
    public var cp: CPPayload? { lazy.compactMap { if case let .cp(x) = $0 { x } else { nil } }.first }
    public var tsi: TSPayload? { lazy.compactMap { if case let .tsi(x) = $0 { x } else { nil } }.first }
    public var tsr: TSPayload? { lazy.compactMap { if case let .tsr(x) = $0 { x } else { nil } }.first }
    public var sk: SKPayload? { lazy.compactMap { if case let .sk(x) = $0 { x } else { nil } }.first }
    public var skf: SKFPayload? { lazy.compactMap { if case let .skf(x) = $0 { x } else { nil } }.first }
    public var deletes: [DeletePayload] { compactMap { if case let .delete(x) = $0 { x } else { nil } } }
    public var certs: [CertPayload] { compactMap { if case let .cert(x) = $0 { x } else { nil } } }
    /// The first unknown payload with the critical bit set, which makes the message unacceptable.
    public var unsupportedCritical: PayloadType? {
        lazy.compactMap { if case let .unknown(t, c, _) = $0, c { t } else { nil } }.first
    }
}
