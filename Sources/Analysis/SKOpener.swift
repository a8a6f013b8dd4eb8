import Crypto
import IKEv2
import Wire

/// Opens SK / SKF payloads of captured IKE messages with the keys of an `ikev2_decryption_table`
/// row (RFC 7296 §3.14, RFC 5282 for AEAD, RFC 7383 fragments). Messages from the initiator
/// use SK_ei/SK_ai, those from the responder SK_er/SK_ar.
public final class SKOpener: @unchecked Sendable {
    // @unchecked: holds OpenSSL contexts and fragment state; use from one thread at a time.
    public let row: IKEv2KeyRow
    private let cipherI: CipherContext, cipherR: CipherContext
    private let integI: IntegrityContext?, integR: IntegrityContext?
    private var fragments: [Bool: (first: PayloadType, parts: [UInt16: [UInt8]])] = [:]

    public init(row: IKEv2KeyRow) throws {
        self.row = row
        cipherI = try CipherContext(algorithm: row.encryption, keyMaterial: row.skEi)
        cipherR = try CipherContext(algorithm: row.encryption, keyMaterial: row.skEr)
        if let i = row.integrity, !row.encryption.isAEAD {
            integI = try IntegrityContext(algorithm: i, key: row.skAi)
            integR = try IntegrityContext(algorithm: i, key: row.skAr)
        } else { integI = nil; integR = nil }
    }

    public enum OpenResult {
        case payloads([Payload])
        case fragmentPending
    }

    /// Decrypts `message` (parsed from `raw`). Throws when the ICV does not verify or the
    /// plaintext is not a payload chain.
    public func open(raw: [UInt8], message: IKEMessage) throws -> OpenResult {
        let fromInitiator = message.header.isInitiator
        if let sk = message.payloads.sk {
            let plain = try decrypt(raw: raw, body: sk.body, fromInitiator: fromInitiator)
            var r = ByteReader(plain)
            return .payloads(try Payload.parseChain(first: sk.firstInnerPayload, &r))
        }
        if let f = message.payloads.skf {
            let plain = try decrypt(raw: raw, body: f.body, fromInitiator: fromInitiator)
            var st = fragments[fromInitiator] ?? (first: .none, parts: [:])
            if f.fragmentNumber == 1 { st.first = f.firstInnerPayload }
            st.parts[f.fragmentNumber] = plain
            fragments[fromInitiator] = st
            guard st.parts.count == Int(f.totalFragments), f.totalFragments > 0 else { return .fragmentPending }
            var all: [UInt8] = []
            for n in 1...f.totalFragments {
                guard let p = st.parts[n] else { return .fragmentPending }
                all += p
            }
            fragments[fromInitiator] = nil
            var r = ByteReader(all)
            return .payloads(try Payload.parseChain(first: st.first, &r))
        }
        return .payloads(message.payloads)
    }

    enum SKError: Error, CustomStringConvertible {
        case tooShort, integrity, padding
        var description: String {
            switch self {
            case .tooShort: "SK payload too short"
            case .integrity: "ICV does not verify with the key table's SK_a"
            case .padding: "bad padding after decryption (wrong SK_e?)"
            }
        }
    }

    private func decrypt(raw: [UInt8], body: [UInt8], fromInitiator: Bool) throws -> [UInt8] {
        let enc = row.encryption
        let icv = enc.isAEAD ? enc.icvLength : (row.integrity?.outputLength ?? 0)
        let ivLen = enc.ivLength
        guard body.count >= ivLen + icv + 1, body.count <= raw.count else { throw SKError.tooShort }
        let bodyStart = raw.count - body.count
        let iv = Array(body[0..<ivLen]), ct = Array(body[ivLen...])
        let cipher = fromInitiator ? cipherI : cipherR
        var plain: [UInt8]
        if enc.isAEAD {
            do { plain = try cipher.decrypt(iv: iv, ciphertext: ct, aad: Array(raw[0..<bodyStart])) } catch { throw SKError.integrity }
        } else {
            if let integ = fromInitiator ? integI : integR {
                guard try integ.verify(Array(raw[0..<(raw.count - icv)]), icv: Array(raw[(raw.count - icv)...])) else { throw SKError.integrity }
            }
            let c = Array(ct[0..<(ct.count - icv)])
            guard c.count % max(enc.blockSize, 1) == 0 else { throw SKError.tooShort }
            plain = try cipher.decrypt(iv: iv, ciphertext: c)
        }
        guard let pad = plain.last, Int(pad) + 1 <= plain.count else { throw SKError.padding }
        plain.removeLast(Int(pad) + 1)
        return plain
    }
}
