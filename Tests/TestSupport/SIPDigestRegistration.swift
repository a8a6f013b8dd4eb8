import AKA
import SIP

/// REGISTER with an MD5 digest answer (RFC 3261 §22.4, qop auth), as the transport tests'
/// phones with a password do it.
public enum SIPDigestRegistration {
    /// Sends the REGISTER `request` builds for CSeq 1 (no Authorization), answers a 401 once
    /// with CSeq 2; `exchange` sends a request and returns the final response (nil: none came).
    /// True when a 200 came.
    public static func register(user: String, password: String, domain: String, cnonce: String = "c0ffee",
                                request: (_ cseq: UInt32, _ authorization: String?) throws -> SIPMessage,
                                exchange: (SIPMessage) throws -> SIPMessage?) throws -> Bool {
        var auth: String? = nil
        for cseq: UInt32 in 1...2 {
            guard let r = try exchange(try request(cseq, auth)) else { return false }
            if r.statusCode == 200 { return true }
            guard r.statusCode == 401, let h = r.header("WWW-Authenticate") else { return false }
            let wa = try SIPAuthHeader(parsing: Substring(h), header: "WWW-Authenticate")
            let realm = wa["realm"] ?? domain, nonce = wa["nonce"] ?? "", uri = "sip:" + domain
            let resp = try DigestAuth.response(algorithm: .md5, username: user, realm: realm, password: Array(password.utf8),
                                               method: "REGISTER", uri: uri, nonce: nonce, nc: "00000001", cnonce: cnonce, qop: .auth)
            auth = "Digest username=\"\(user)\",realm=\"\(realm)\",nonce=\"\(nonce)\",uri=\"\(uri)\",response=\"\(resp)\",algorithm=MD5,cnonce=\"\(cnonce)\",qop=auth,nc=00000001"
        }
        return false
    }
}
