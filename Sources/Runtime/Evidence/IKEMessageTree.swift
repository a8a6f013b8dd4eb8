import Crypto
import IKEv2
import Wire

/// An IKEv2 message as an indented tree for the log (`ikev2.payload=1`): the header
/// (exchange, flags, message ID) and each payload with its values, transforms, groups and
/// notifies by their RFC 7296 / IANA names; inside SK (when the plaintext is given) the
/// same, down to the EAP type, the EAP-AKA subtype and its AT_ attributes.
public struct IKEMessageTree: Sendable {
    /// Longest value dumped in hex, in bytes (`max_size`); nil dumps whole values, 0 only lengths.
    public var maxSize: Int?

    public init(maxSize: Int? = nil) { self.maxSize = maxSize }

    /// One line: `IKE_AUTH request #1 [IDi CERTREQ CP SA TSi TSr]`.
    public func summary(_ h: IKEHeader, payloads: [Payload]) -> String {
        "\(h.exchangeType) \(h.isResponse ? "response" : "request") #\(h.messageID) [\(payloads.map(Self.shortName).joined(separator: " "))]"
    }

    /// The tree, two spaces per level, without the summary line. `inner` is the plaintext of
    /// SK (or the reassembled SKF fragments), or nil when it could not be had.
    public func lines(_ m: IKEMessage, inner: [Payload]?, undecryptedReason: String? = nil) -> [String] {
        let h = m.header
        var out: [String] = []
        var flags: [String] = []
        if h.isInitiator { flags.append("I") }
        if h.higherVersion { flags.append("V") }
        if h.isResponse { flags.append("R") }
        out.append("IKE header: SPIi=0x\(Hex.spi(h.spiI)) SPIr=0x\(Hex.spi(h.spiR)) version=\(h.majorVersion).\(h.minorVersion)")
        out.append("  exchange_type=\(h.exchangeType) (\(h.exchangeType.rawValue)) flags=0x\(String(h.flags, radix: 16)) (\(flags.joined(separator: ","))) message_id=\(h.messageID) length=\(h.length)")
        for p in m.payloads {
            switch p {
            case let .sk(sk):
                out.append("SK: encrypted \(sk.body.count) bytes, first inner payload \(sk.firstInnerPayload)")
                out += innerLines(inner, undecryptedReason)
            case let .skf(f):
                out.append("SKF: fragment \(f.fragmentNumber)/\(f.totalFragments), \(f.body.count) bytes")
                if f.fragmentNumber == f.totalFragments { out += innerLines(inner, undecryptedReason) }
            default:
                out += payloadLines(p, depth: 0)
            }
        }
        return out
    }

    private func innerLines(_ inner: [Payload]?, _ why: String?) -> [String] {
        guard let inner else { return ["  (not decrypted\(why.map { ": \($0)" } ?? ""))"] }
        return inner.flatMap { payloadLines($0, depth: 1) }
    }

    func payloadLines(_ p: Payload, depth: Int) -> [String] {
        let ind = String(repeating: "  ", count: depth)
        var out: [String] = []
        func add(_ s: String, _ extra: Int = 0) { out.append(ind + String(repeating: "  ", count: extra) + s) }
        switch p {
        case let .sa(sa):
            add("SA: \(sa.proposals.count) proposal(s)")
            for pr in sa.proposals {
                add("Proposal #\(pr.number) protocol=\(pr.protocolID)\(pr.spi.isEmpty ? "" : " SPI=0x\(Hex.encode(pr.spi))") transforms=\(pr.transforms.count)", 1)
                for t in pr.transforms { add(Self.transform(t), 2) }
            }
        case let .ke(ke):
            add("KE: DH group \(Self.dhName(ke.dhGroup)) (\(ke.dhGroup)), \(ke.keyData.count) bytes")
            if let d = dump(ke.keyData) { add("data=\(d)", 1) }
        case let .idi(id), let .idr(id):
            add("\(p.type): \(id.idType) \(id.text)")
        case let .cert(c), let .certreq(c):
            add("\(p.type): encoding=\(c.encoding)\(c.encoding == CertPayload.X509_SIGNATURE ? " (X.509 Certificate - Signature)" : ""), \(c.data.count) bytes")
        case let .auth(a):
            add("AUTH: method=\(a.method) (\(a.method.rawValue)), \(a.data.count) bytes")
            if let d = dump(a.data) { add("data=\(d)", 1) }
        case let .nonce(n):
            add("Nonce: \(n.count) bytes" + (dump(n).map { " \($0)" } ?? ""))
        case let .notify(n):
            var s = "N: \(n.type.name) (\(n.type.rawValue))"
            if n.protocolID != 0 { s += " protocol=\(SecurityProtocol(rawValue: n.protocolID)?.description ?? "\(n.protocolID)")" }
            if !n.spi.isEmpty { s += " SPI=0x\(Hex.encode(n.spi))" }
            if let v = notifyValue(n) { s += " " + v }
            add(s)
        case let .delete(d):
            add("D: protocol=\(d.protocolID) SPIs=[\(d.spis.map { "0x" + Hex.encode($0) }.joined(separator: ", "))]")
        case let .vendorID(v):
            add("V: \(v.count) bytes" + (dump(v).map { " \($0)" } ?? ""))
        case let .tsi(ts), let .tsr(ts):
            add("\(p.type): \(ts.selectors.count) selector(s)")
            for s in ts.selectors {
                let type = s.isIPv4 ? "TS_IPV4_ADDR_RANGE" : "TS_IPV6_ADDR_RANGE"
                add("\(type) protocol=\(s.ipProtocol) ports=\(s.startPort)-\(s.endPort) addresses=\(s.startAddress)-\(s.endAddress)", 1)
            }
        case let .cp(cp):
            let names = [1: "CFG_REQUEST", 2: "CFG_REPLY", 3: "CFG_SET", 4: "CFG_ACK"]
            add("CP: \(names[Int(cp.cfgType)] ?? "CFG(\(cp.cfgType))"), \(cp.attributes.count) attribute(s)")
            for a in cp.attributes { add(cpAttribute(a), 1) }
        case let .eap(bytes):
            out += eapLines(bytes, depth: depth)
        case let .sk(sk):
            add("SK: encrypted \(sk.body.count) bytes")
        case let .skf(f):
            add("SKF: fragment \(f.fragmentNumber)/\(f.totalFragments)")
        case let .unknown(t, critical, body):
            add("\(t): \(critical ? "critical, " : "")\(body.count) bytes" + (dump(body).map { " \($0)" } ?? ""))
        }
        return out
    }

    /// `ENCR: ENCR_AES_CBC key_length=128`.
    static func transform(_ t: Transform) -> String {
        var s = "\(t.type): "
        switch t.type {
        case .ENCR: s += encrName(t.id)
        case .PRF: s += prfName(t.id)
        case .INTEG: s += integName(t.id)
        case .DH: s += "\(dhName(t.id)) (\(t.id))"
        case .ESN: s += t.id == 0 ? "NO_ESN" : t.id == 1 ? "ESN" : "ESN(\(t.id))"
        }
        if let k = t.keyLength { s += " key_length=\(k)" }
        for a in t.otherAttributes { s += " attr\(a.type)=0x\(Hex.encode(a.value))" }
        return s
    }

    func cpAttribute(_ a: CPPayload.Attribute) -> String {
        var name = a.name
        switch a.type {
        case 16384, 16386: name = "P_CSCF_IP4_ADDRESS (private \(a.type))"
        case 16389: name = "P_CSCF_IP4_ADDRESS (private \(a.type))"
        case 16390: name = "P_CSCF_IP6_ADDRESS (private \(a.type))"
        default: break
        }
        if a.value.isEmpty { return "\(name): (empty, requested)" }
        switch a.type {
        case CPPayload.Attribute.INTERNAL_IP6_ADDRESS, CPPayload.Attribute.INTERNAL_IP6_SUBNET:
            if a.value.count == 17, let ip = IPAddress(bytes: Array(a.value.prefix(16))) { return "\(name): \(ip)/\(a.value[16])" }
        case CPPayload.Attribute.APPLICATION_VERSION:
            return "\(name): \"\(String(decoding: a.value, as: UTF8.self))\""
        case CPPayload.Attribute.SUPPORTED_ATTRIBUTES:
            var types: [String] = []
            var i = 0
            while i + 1 < a.value.count { types.append(CPPayload.Attribute(UInt16(a.value[i]) << 8 | UInt16(a.value[i + 1])).name); i += 2 }
            return "\(name): \(types.joined(separator: ", "))"
        default: break
        }
        if let ip = a.address { return "\(name): \(ip)" }
        return "\(name): \(dump(a.value) ?? "\(a.value.count) bytes")"
    }

    /// Values of the notifies a tester reads; others as hex.
    func notifyValue(_ n: NotifyPayload) -> String? {
        let d = n.data
        if d.isEmpty { return nil }
        switch n.type {
        case .SIGNATURE_HASH_ALGORITHMS:
            let names: [UInt16: String] = [1: "SHA1", 2: "SHA2_256", 3: "SHA2_384", 4: "SHA2_512", 5: "IDENTITY"]
            var hs: [String] = []
            var i = 0
            while i + 1 < d.count { let v = UInt16(d[i]) << 8 | UInt16(d[i + 1]); hs.append(names[v] ?? "\(v)"); i += 2 }
            return "hashes=[\(hs.joined(separator: ", "))]"
        case .INVALID_KE_PAYLOAD where d.count == 2:
            let g = UInt16(d[0]) << 8 | UInt16(d[1])
            return "accepted DH group \(Self.dhName(g)) (\(g))"
        case .DEVICE_IDENTITY where d.count >= 3:
            // TS 24.302 §8.2.9.2: length (2), identity type (1: IMEI, 2: IMEISV), BCD digits.
            let type = d[2] == 1 ? "IMEI" : d[2] == 2 ? "IMEISV" : "type \(d[2])"
            var digits = ""
            for b in d.dropFirst(3) {
                for nib in [b & 0x0F, b >> 4] where nib < 10 { digits += String(nib) }
            }
            return "\(type)=\(digits)"
        case .BACKOFF_TIMER where d.count >= 2:
            return "timer=0x\(Hex.encode(d))"
        case .REKEY_SA, .NAT_DETECTION_SOURCE_IP, .NAT_DETECTION_DESTINATION_IP, .COOKIE:
            return "data=\(dump(d) ?? "\(d.count) bytes")"
        default:
            return "data=\(dump(d) ?? "\(d.count) bytes")"
        }
    }

    /// EAP: code, identifier, type; for EAP-AKA/AKA' the subtype and every attribute.
    func eapLines(_ bytes: [UInt8], depth: Int) -> [String] {
        let ind = String(repeating: "  ", count: depth)
        guard let e = try? EAPPacket(parsing: bytes) else { return [ind + "EAP: malformed, \(bytes.count) bytes"] }
        guard let t = e.type else { return [ind + "EAP: \(e.code) id=\(e.identifier)"] }
        let typeName = EAPType.name(t) ?? "type \(t)"
        var out = [ind + "EAP: \(e.code) id=\(e.identifier) type=\(typeName) (\(t))"]
        if t == EAPType.identity {
            out.append(ind + "  identity \"\(String(decoding: e.typeData, as: UTF8.self))\"")
        } else if t == EAPType.md5Challenge, let m = try? EAPMD5Challenge(parsing: e.typeData) {
            // RFC 3748 §5.4: the Request's value is the challenge, the Response's the MD5 answer.
            out.append(ind + "  \(e.code == .request ? "challenge" : "response") (\(m.value.count) bytes) \(dump(m.value) ?? "")")
            if !m.name.isEmpty { out.append(ind + "  name \"\(String(decoding: m.name, as: UTF8.self))\"") }
        } else if t == EAPType.gtc {
            // RFC 3748 §5.6: the Request's prompt is shown; the Response's token is a password: never shown.
            out.append(ind + (e.code == .request ? "  prompt \"\(String(decoding: e.typeData, as: UTF8.self))\"" : "  token (\(e.typeData.count) bytes, not shown)"))
        } else if t == EAPType.aka || t == EAPType.akaPrime {
            guard let m = try? EAPAKAMessage(parsing: e.typeData) else {
                return out + [ind + "  (EAP-AKA data not parsed, \(e.typeData.count) bytes)"]
            }
            out.append(ind + "  subtype \(m.subtype) (\(m.subtype.rawValue))")
            for a in m.attributes { out.append(ind + "    " + akaAttribute(a)) }
        } else if let d = dump(e.typeData) {
            out.append(ind + "  data=\(d)")
        }
        return out
    }

    func akaAttribute(_ a: AKAAttribute) -> String {
        func h(_ b: [UInt8]) -> String { dump(b) ?? "\(b.count) bytes" }
        switch a {
        case let .AT_RAND(v): return "AT_RAND \(h(v))"
        case let .AT_AUTN(v): return "AT_AUTN \(h(v))"
        case let .AT_RES(res, bits): return "AT_RES (\(bits) bits) \(h(res))"
        case let .AT_AUTS(v): return "AT_AUTS \(h(v))"
        case let .AT_PADDING(n): return "AT_PADDING \(n) bytes"
        case .AT_PERMANENT_ID_REQ: return "AT_PERMANENT_ID_REQ"
        case let .AT_MAC(v): return "AT_MAC \(h(v))"
        case let .AT_NOTIFICATION(v): return "AT_NOTIFICATION \(v)"
        case .AT_ANY_ID_REQ: return "AT_ANY_ID_REQ"
        case let .AT_IDENTITY(v): return "AT_IDENTITY \"\(String(decoding: v, as: UTF8.self))\""
        case .AT_FULLAUTH_ID_REQ: return "AT_FULLAUTH_ID_REQ"
        case let .AT_CLIENT_ERROR_CODE(v): return "AT_CLIENT_ERROR_CODE \(v)"
        case let .AT_KDF_INPUT(v): return "AT_KDF_INPUT \"\(String(decoding: v, as: UTF8.self))\""
        case let .AT_KDF(v): return "AT_KDF \(v)\(v == 1 ? " (CK'/IK' with HMAC-SHA-256)" : "")"
        case let .AT_CHECKCODE(v): return "AT_CHECKCODE \(v.isEmpty ? "(empty)" : h(v))"
        case .AT_RESULT_IND: return "AT_RESULT_IND"
        case let .AT_BIDDING(v): return "AT_BIDDING 0x\(String(v, radix: 16))"
        case let .other(t, v):
            let names: [UInt8: String] = [129: "AT_IV", 130: "AT_ENCR_DATA", 132: "AT_NEXT_PSEUDONYM", 133: "AT_NEXT_REAUTH_ID"]
            return "\(names[t] ?? "attribute \(t)") \(h(v))"
        }
    }

    /// Hex of a value within `maxSize` (nil when values are not dumped).
    func dump(_ b: [UInt8]) -> String? {
        if let m = maxSize {
            if m <= 0 { return nil }
            if b.count > m { return Hex.encode(b.prefix(m)) + "... (\(b.count) bytes)" }
        }
        return Hex.encode(b)
    }

    static func shortName(_ p: Payload) -> String {
        switch p {
        case let .notify(n): return "N(\(n.type.name))"
        case .nonce: return "No"
        case let .eap(b):
            return (try? EAPPacket(parsing: b)).map { e in "EAP(\(e.code)" + (e.type.map { "/" + (EAPType.name($0) ?? "\($0)") } ?? "") + ")" } ?? "EAP"
        case let .sk(s): return "SK{\(s.firstInnerPayload)}"
        case let .skf(f): return "SKF(\(f.fragmentNumber)/\(f.totalFragments))"
        default: return "\(p.type)"
        }
    }

    static func encrName(_ id: UInt16) -> String {
        let n: [UInt16: String] = [3: "ENCR_3DES", 7: "ENCR_BLOWFISH", 11: "ENCR_NULL", 12: "ENCR_AES_CBC", 13: "ENCR_AES_CTR",
                                   18: "ENCR_AES_GCM_8", 19: "ENCR_AES_GCM_12", 20: "ENCR_AES_GCM_16",
                                   21: "ENCR_NULL_AUTH_AES_GMAC", 28: "ENCR_CHACHA20_POLY1305"]
        return n[id] ?? "ENCR(\(id))"
    }
    static func prfName(_ id: UInt16) -> String {
        let n: [UInt16: String] = [1: "PRF_HMAC_MD5", 2: "PRF_HMAC_SHA1", 4: "PRF_AES128_XCBC", 5: "PRF_HMAC_SHA2_256",
                                   6: "PRF_HMAC_SHA2_384", 7: "PRF_HMAC_SHA2_512", 8: "PRF_AES128_CMAC"]
        return n[id] ?? "PRF(\(id))"
    }
    static func integName(_ id: UInt16) -> String {
        if id == 0 { return "NONE" }
        return IntegrityAlgorithm(rawValue: id).map { "\($0)" } ?? "INTEG(\(id))"
    }
    static func dhName(_ id: UInt16) -> String {
        let n: [UInt16: String] = [0: "NONE", 1: "MODP_768", 2: "MODP_1024", 5: "MODP_1536", 14: "MODP_2048", 15: "MODP_3072",
                                   16: "MODP_4096", 17: "MODP_6144", 18: "MODP_8192", 19: "ECP_256", 20: "ECP_384", 21: "ECP_521",
                                   22: "MODP_1024_160", 23: "MODP_2048_224", 24: "MODP_2048_256", 31: "CURVE25519", 32: "CURVE448"]
        return n[id] ?? "GROUP(\(id))"
    }
}
