import AKA
import SIP

/// Answers to HTTP Digest challenges the way an IMS UE must (TS 24.229 §5.1.1.2.1, §5.1.1.5):
/// AKAv1/AKAv2 through the USIM (RFC 3310, RFC 4169), plain MD5 with a password (RFC 2617).
enum SIPUADigest {
    /// What a challenge leads to.
    enum Outcome: Sendable, Equatable {
        /// Credentials to put in Authorization; `ck`/`ik` for AKA (IMS IPsec would key from them).
        case credentials(String, ck: [UInt8], ik: [UInt8])
        /// SQN out of range: credentials carrying `auts=` and a response over an empty password (RFC 3310 §3.4).
        case syncFailure(String)
        /// MAC-A wrong: the network failed authentication (TS 24.229 §5.1.1.5.2).
        case macFailure
        case unusable(String)
    }

    /// The first REGISTER's Authorization: IMPI, home realm and uri, empty nonce and response
    /// (TS 24.229 §5.1.1.2.1), so the S-CSCF knows which private identity to challenge.
    static func initialAuthorization(impi: String, homeDomain: String) -> String {
        "Digest username=\(SIPQuoting.quote(impi)), realm=\(SIPQuoting.quote(homeDomain)), nonce=\"\", uri=\(SIPQuoting.quote("sip:" + homeDomain)), response=\"\""
    }

    /// The qop to answer with: "auth" when offered (the IMS default), else "auth-int", else none (RFC 2069 form).
    static func chooseQOP(_ offered: String?) -> DigestQOP? {
        guard let offered else { return nil }
        let list = offered.split(separator: ",").map { $0.trimmingSpaces.lowercased() }
        if list.contains("auth") { return .auth }
        if list.contains("auth-int") { return .authInt }
        return nil
    }

    static func answer(challenge: SIPAuthHeader, method: String, uri: String, impi: String, password: String?,
                       usim: inout USIM?, cnonce: String, nc: UInt32 = 1, body: [UInt8] = []) -> Outcome {
        guard challenge.scheme.lowercased() == "digest" else { return .unusable("auth scheme \(challenge.scheme)") }
        let algToken = challenge["algorithm"] ?? "MD5"
        guard let alg = DigestAlgorithmName(token: algToken) else { return .unusable("digest algorithm \(algToken)") }
        guard let nonce = challenge["nonce"], let realm = challenge["realm"] else { return .unusable("challenge without nonce or realm") }
        let qop = chooseQOP(challenge["qop"])
        let ncText = String(String(nc, radix: 16).suffix(8)).leftPadded(to: 8)

        func credentials(_ pw: [UInt8], extra: [(String, String)]) -> String? {
            guard let response = try? DigestAuth.response(algorithm: alg, username: impi, realm: realm, password: pw, method: method,
                                                          uri: uri, nonce: nonce, nc: qop == nil ? nil : ncText,
                                                          cnonce: (qop == nil && !alg.isSession) ? nil : cnonce, qop: qop, entityBody: body)
            else { return nil }
            var s = "Digest username=\(SIPQuoting.quote(impi)), realm=\(SIPQuoting.quote(realm)), nonce=\(SIPQuoting.quote(nonce))"
            s += ", uri=\(SIPQuoting.quote(uri)), response=\"\(response)\", algorithm=\(alg.rawValue)"
            if let qop { s += ", cnonce=\(SIPQuoting.quote(cnonce)), qop=\(qop.rawValue), nc=\(ncText)" }
            if let opaque = challenge["opaque"] { s += ", opaque=\(SIPQuoting.quote(opaque))" }
            for (k, v) in extra { s += ", \(k)=\(SIPQuoting.quote(v))" }
            return s
        }

        guard alg.akaVersion != nil else {
            guard let password else { return .unusable("\(alg.rawValue) challenge but no password configured") }
            return credentials(Array(password.utf8), extra: []).map { .credentials($0, ck: [], ik: []) } ?? .unusable("digest computation failed")
        }
        guard var card = usim else { return .unusable("\(alg.rawValue) challenge but no USIM") }
        let parts: (rand: [UInt8], autn: [UInt8], serverData: [UInt8])
        do { parts = try DigestAKA.parseNonce(nonce) } catch { return .unusable("AKA nonce: \(error)") }
        let result: USIMResult
        do { result = try card.authenticate(rand: parts.rand, autn: parts.autn) } catch { return .unusable("USIM: \(error)") }
        usim = card
        switch result {
        case .macFailure:
            return .macFailure
        case .syncFailure(let auts):
            return credentials([], extra: [("auts", Base64.encode(auts))]).map { .syncFailure($0) } ?? .unusable("digest computation failed")
        case .success(let res, let ck, let ik):
            guard let pw = DigestAKA.password(algorithm: alg, res: res, ik: ik, ck: ck) else { return .unusable("no AKA password") }
            return credentials(pw, extra: []).map { .credentials($0, ck: ck, ik: ik) } ?? .unusable("digest computation failed")
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\"" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\"" { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}

extension Collection where Element == UInt8, Index == Int {
    /// The first occurrence of `needle` (no Foundation on the hot path).
    func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var i = startIndex
        while i <= endIndex - needle.count {
            if self[i] == needle[0] {
                var j = 1
                while j < needle.count && self[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i..<(i + needle.count) }
            }
            i += 1
        }
        return nil
    }
}
