import Crypto

/// The `algorithm` values of an HTTP Digest challenge that the IMS registrar handles
/// (RFC 2617, RFC 7616, RFC 3310 AKAv1, RFC 4169 AKAv2).
public enum DigestAlgorithmName: String, Sendable, CaseIterable {
    case md5 = "MD5"
    case md5Sess = "MD5-sess"
    case sha256 = "SHA-256"
    case sha256Sess = "SHA-256-sess"
    case akav1MD5 = "AKAv1-MD5"
    case akav2MD5 = "AKAv2-MD5"
    case akav2SHA256 = "AKAv2-SHA-256"

    /// Case-insensitive parse of the header token.
    public init?(token: String) {
        guard let v = DigestAlgorithmName.allCases.first(where: { $0.rawValue.lowercased() == token.lowercased() }) else { return nil }
        self = v
    }

    /// The hash H() of the digest computation.
    public var hash: DigestHash {
        switch self { case .sha256, .sha256Sess, .akav2SHA256: .sha256; default: .md5 }
    }

    /// "-sess" variants fold nonce and cnonce into HA1.
    public var isSession: Bool { self == .md5Sess || self == .sha256Sess }

    /// 1 or 2 for the AKA algorithms, nil for password digests.
    public var akaVersion: Int? {
        switch self { case .akav1MD5: 1; case .akav2MD5, .akav2SHA256: 2; default: nil }
    }
}

/// Hash functions of HTTP Digest.
public enum DigestHash: Sendable {
    case md5, sha256
    var algorithm: DigestAlgorithm { self == .md5 ? .md5 : .sha256 }
}

/// Quality of protection values.
public enum DigestQOP: String, Sendable {
    case auth = "auth"
    case authInt = "auth-int"
}

/// RFC 2617 §3.2.2 / RFC 7616 §3.4.1 request-digest. All hex is lower case.
public enum DigestAuth {
    /// H(data) as lower-case hex.
    public static func h(_ hash: DigestHash, _ data: [UInt8]) -> String {
        Hex.encode(Digest.hash(hash.algorithm, data))
    }

    /// HA1 = H(username ":" realm ":" password); for -sess, H(HA1 ":" nonce ":" cnonce).
    /// The password is octets: AKAv1 uses the raw RES.
    public static func ha1(hash: DigestHash, session: Bool = false, username: String, realm: String,
                           password: [UInt8], nonce: String = "", cnonce: String = "") -> String {
        let a1 = h(hash, Array("\(username):\(realm):".utf8) + password)
        return session ? h(hash, Array("\(a1):\(nonce):\(cnonce)".utf8)) : a1
    }

    /// HA2 = H(method ":" uri), or H(method ":" uri ":" H(entity-body)) for auth-int.
    public static func ha2(hash: DigestHash, method: String, uri: String, qop: DigestQOP?, entityBody: [UInt8] = []) -> String {
        if qop == .authInt { return h(hash, Array("\(method):\(uri):\(h(hash, entityBody))".utf8)) }
        return h(hash, Array("\(method):\(uri)".utf8))
    }

    /// The `response` parameter. With a qop, `nc` and `cnonce` are required; without one
    /// (RFC 2069 compatibility) response = H(HA1 ":" nonce ":" HA2).
    public static func response(hash: DigestHash, session: Bool = false, username: String, realm: String,
                                password: [UInt8], method: String, uri: String, nonce: String,
                                nc: String? = nil, cnonce: String? = nil, qop: DigestQOP? = nil,
                                entityBody: [UInt8] = []) throws -> String {
        if session && cnonce == nil { throw AKAError.invalidParameter("-sess digest needs a cnonce") }
        let a1 = ha1(hash: hash, session: session, username: username, realm: realm, password: password,
                     nonce: nonce, cnonce: cnonce ?? "")
        let a2 = ha2(hash: hash, method: method, uri: uri, qop: qop, entityBody: entityBody)
        guard let qop else { return h(hash, Array("\(a1):\(nonce):\(a2)".utf8)) }
        guard let nc, let cnonce else { throw AKAError.invalidParameter("qop=\(qop.rawValue) needs nc and cnonce") }
        return h(hash, Array("\(a1):\(nonce):\(nc):\(cnonce):\(qop.rawValue):\(a2)".utf8))
    }

    /// Same, picking hash and -sess from the header's algorithm token.
    public static func response(algorithm: DigestAlgorithmName, username: String, realm: String,
                                password: [UInt8], method: String, uri: String, nonce: String,
                                nc: String? = nil, cnonce: String? = nil, qop: DigestQOP? = nil,
                                entityBody: [UInt8] = []) throws -> String {
        try response(hash: algorithm.hash, session: algorithm.isSession, username: username, realm: realm,
                     password: password, method: method, uri: uri, nonce: nonce, nc: nc, cnonce: cnonce,
                     qop: qop, entityBody: entityBody)
    }
}

/// The AKA parts of HTTP Digest (RFC 3310, RFC 4169): nonce layout and passwords.
public enum DigestAKA {
    /// nonce = base64(RAND || AUTN || server data) (RFC 3310 §3.2).
    public static func nonce(rand: [UInt8], autn: [UInt8], serverData: [UInt8] = []) throws -> String {
        try requireLength(rand, 16, "RAND")
        try requireLength(autn, 16, "AUTN")
        return Base64.encode(rand + autn + serverData)
    }

    /// Splits a Digest-AKA nonce back into RAND, AUTN and the server data.
    public static func parseNonce(_ nonce: String) throws -> (rand: [UInt8], autn: [UInt8], serverData: [UInt8]) {
        guard let b = Base64.decode(nonce) else { throw AKAError.invalidEncoding("Digest-AKA nonce is not base64") }
        guard b.count >= 32 else { throw AKAError.invalidLength(field: "Digest-AKA nonce", expected: ">= 32", got: b.count) }
        return (Array(b[0..<16]), Array(b[16..<32]), Array(b[32...]))
    }

    /// AKAv1: the password is RES itself, as raw octets.
    public static func akav1Password(res: [UInt8]) -> [UInt8] { res }

    /// AKAv2: base64(PRF(RES || IK || CK, "http-digest-akav2-password")), PRF = HMAC with
    /// the algorithm's hash (HMAC-MD5 for AKAv2-MD5), used as an ASCII password.
    public static func akav2Password(hash: DigestHash, res: [UInt8], ik: [UInt8], ck: [UInt8]) -> [UInt8] {
        let mac = HMAC.mac(hash.algorithm, key: res + ik + ck, data: Array("http-digest-akav2-password".utf8))
        return Array(Base64.encode(mac).utf8)
    }

    /// The digest password for an AKA algorithm (RES for AKAv1, the AKAv2 PRF otherwise);
    /// nil for non-AKA algorithms. On the network side pass XRES.
    public static func password(algorithm: DigestAlgorithmName, res: [UInt8], ik: [UInt8], ck: [UInt8]) -> [UInt8]? {
        switch algorithm.akaVersion {
        case 1: akav1Password(res: res)
        case 2: akav2Password(hash: algorithm.hash, res: res, ik: ik, ck: ck)
        default: nil
        }
    }
}
