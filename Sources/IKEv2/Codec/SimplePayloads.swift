import Wire

/// Key Exchange payload (RFC 7296 §3.4).
public struct KEPayload: Hashable, Sendable {
    public var dhGroup: UInt16
    public var keyData: [UInt8]
    public init(dhGroup: UInt16, keyData: [UInt8]) { self.dhGroup = dhGroup; self.keyData = keyData }
    public init(parsing r: inout ByteReader) throws {
        dhGroup = try r.u16("KE Diffie-Hellman group")
        _ = try r.u16("KE reserved")
        keyData = r.rest()
    }
    public func serialize(into w: inout ByteWriter) { w.u16(dhGroup); w.u16(0); w.append(keyData) }
}

/// Identification types (RFC 7296 §3.5).
public struct IDType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ID_IPV4_ADDR = IDType(rawValue: 1)
    public static let ID_FQDN = IDType(rawValue: 2)
    public static let ID_RFC822_ADDR = IDType(rawValue: 3)
    public static let ID_IPV6_ADDR = IDType(rawValue: 5)
    public static let ID_DER_ASN1_DN = IDType(rawValue: 9)
    public static let ID_DER_ASN1_GN = IDType(rawValue: 10)
    public static let ID_KEY_ID = IDType(rawValue: 11)
    public var description: String {
        switch rawValue {
        case 1: "ID_IPV4_ADDR"; case 2: "ID_FQDN"; case 3: "ID_RFC822_ADDR"; case 5: "ID_IPV6_ADDR"
        case 9: "ID_DER_ASN1_DN"; case 10: "ID_DER_ASN1_GN"; case 11: "ID_KEY_ID"; default: "ID(\(rawValue))"
        }
    }
}

/// IDi / IDr payload body (RFC 7296 §3.5). The bytes after the generic header are ID' in
/// the AUTH computation (§2.15), exposed as `idPrime`.
public struct IDPayload: Hashable, Sendable, CustomStringConvertible {
    public var idType: IDType
    public var data: [UInt8]
    public init(_ type: IDType, _ data: [UInt8]) { idType = type; self.data = data }
    public init(_ type: IDType, _ text: String) { idType = type; data = Array(text.utf8) }
    public init(parsing r: inout ByteReader) throws {
        idType = IDType(rawValue: try r.u8("ID type"))
        try r.skip(3, "ID reserved")
        data = r.rest()
    }
    public func serialize(into w: inout ByteWriter) { w.u8(idType.rawValue); w.zeros(3); w.append(data) }
    /// ID type | RESERVED | identification data, the input to prf(SK_p, ID').
    public var idPrime: [UInt8] { [idType.rawValue, 0, 0, 0] + data }
    /// The identity as text for FQDN / RFC822 / KEY_ID (when printable), or an address.
    public var text: String {
        switch idType {
        case .ID_IPV4_ADDR, .ID_IPV6_ADDR: return IPAddress(bytes: data)?.description ?? data.hexString
        default:
            if data.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return String(decoding: data, as: UTF8.self) }
            return data.hexString
        }
    }
    public var description: String { "\(idType):\(text)" }
}

/// CERT and CERTREQ bodies (RFC 7296 §3.6, §3.7): an encoding byte and opaque data
/// (for CERTREQ, concatenated SHA-1 hashes of CA public keys).
public struct CertPayload: Hashable, Sendable {
    public static let X509_SIGNATURE: UInt8 = 4
    public var encoding: UInt8
    public var data: [UInt8]
    public init(encoding: UInt8, data: [UInt8]) { self.encoding = encoding; self.data = data }
    public init(parsing r: inout ByteReader) throws {
        encoding = try r.u8("CERT encoding")
        data = r.rest()
    }
    public func serialize(into w: inout ByteWriter) { w.u8(encoding); w.append(data) }
}

/// Authentication methods (RFC 7296 §3.8, RFC 4754, RFC 7427).
public struct AuthMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let RSA_DIGITAL_SIGNATURE = AuthMethod(rawValue: 1)
    public static let SHARED_KEY_MIC = AuthMethod(rawValue: 2)
    public static let DSS_DIGITAL_SIGNATURE = AuthMethod(rawValue: 3)
    public static let ECDSA_SHA256_P256 = AuthMethod(rawValue: 9)
    public static let ECDSA_SHA384_P384 = AuthMethod(rawValue: 10)
    public static let ECDSA_SHA512_P521 = AuthMethod(rawValue: 11)
    public static let DIGITAL_SIGNATURE = AuthMethod(rawValue: 14)
    public var description: String {
        switch rawValue {
        case 1: "RSA_DIGITAL_SIGNATURE"; case 2: "SHARED_KEY_MIC"; case 3: "DSS_DIGITAL_SIGNATURE"
        case 9: "ECDSA_SHA256_P256"; case 10: "ECDSA_SHA384_P384"; case 11: "ECDSA_SHA512_P521"
        case 14: "DIGITAL_SIGNATURE"; default: "AUTH(\(rawValue))"
        }
    }
}

/// AUTH payload (RFC 7296 §3.8). For method 14 (RFC 7427) the data starts with the
/// signature AlgorithmIdentifier (1-byte length + DER); `signatureAlgorithm`/`signature` split it.
public struct AuthPayload: Hashable, Sendable {
    public var method: AuthMethod
    public var data: [UInt8]
    public init(method: AuthMethod, data: [UInt8]) { self.method = method; self.data = data }
    public init(parsing r: inout ByteReader) throws {
        method = AuthMethod(rawValue: try r.u8("AUTH method"))
        try r.skip(3, "AUTH reserved")
        data = r.rest()
    }
    public func serialize(into w: inout ByteWriter) { w.u8(method.rawValue); w.zeros(3); w.append(data) }

    /// RFC 7427 §3: ASN.1 length | AlgorithmIdentifier | signature.
    public static func digitalSignatureData(algorithmIdentifier: [UInt8], signature: [UInt8]) -> [UInt8] {
        [UInt8(algorithmIdentifier.count)] + algorithmIdentifier + signature
    }
    /// Splits method-14 data; throws if the length byte overruns.
    public func digitalSignatureParts() throws -> (algorithmIdentifier: [UInt8], signature: [UInt8]) {
        var r = ByteReader(data)
        let n = Int(try r.u8("AUTH signature algorithm length"))
        let alg = try r.bytes(n, "AUTH signature AlgorithmIdentifier")
        return (alg, r.rest())
    }
}

/// Delete payload (RFC 7296 §3.11). For IKE the SPI size is 0 and there are no SPIs.
public struct DeletePayload: Hashable, Sendable {
    public var protocolID: SecurityProtocol
    public var spis: [[UInt8]]
    public init(protocolID: SecurityProtocol, spis: [[UInt8]] = []) { self.protocolID = protocolID; self.spis = spis }
    public init(parsing r: inout ByteReader) throws {
        let start = r.offset
        let p = try r.u8("Delete protocol ID")
        guard let proto = SecurityProtocol(rawValue: p) else {
            throw WireError.invalidValue(what: "Delete protocol ID", offset: start, detail: "\(p)")
        }
        protocolID = proto
        let size = Int(try r.u8("Delete SPI size"))
        let n = Int(try r.u16("Delete number of SPIs"))
        spis = []
        for _ in 0..<n { spis.append(try r.bytes(size, "Delete SPI")) }
        guard r.isAtEnd else { throw WireError.invalidValue(what: "Delete payload", offset: r.offset, detail: "trailing bytes") }
    }
    public func serialize(into w: inout ByteWriter) {
        w.u8(protocolID.rawValue); w.u8(UInt8(spis.first?.count ?? 0)); w.u16(UInt16(spis.count))
        for s in spis { w.append(s) }
    }
}

/// SK payload (RFC 7296 §3.14): IV | ciphertext | ICV, opaque until decrypted.
/// `firstInnerPayload` is the Next Payload field of its generic header.
public struct SKPayload: Hashable, Sendable {
    public var firstInnerPayload: PayloadType
    public var body: [UInt8]
    public init(firstInnerPayload: PayloadType, body: [UInt8]) { self.firstInnerPayload = firstInnerPayload; self.body = body }
}

/// SKF payload (RFC 7383 §2.5): one fragment of an SK payload.
public struct SKFPayload: Hashable, Sendable {
    /// Next Payload of the generic header: the first inner payload in fragment 1, 0 otherwise.
    public var firstInnerPayload: PayloadType
    public var fragmentNumber: UInt16
    public var totalFragments: UInt16
    public var body: [UInt8]
    public init(firstInnerPayload: PayloadType, fragmentNumber: UInt16, totalFragments: UInt16, body: [UInt8]) {
        self.firstInnerPayload = firstInnerPayload; self.fragmentNumber = fragmentNumber
        self.totalFragments = totalFragments; self.body = body
    }
    init(parsing r: inout ByteReader, next: PayloadType) throws {
        firstInnerPayload = next
        let at = r.offset
        fragmentNumber = try r.u16("SKF fragment number")
        totalFragments = try r.u16("SKF total fragments")
        guard fragmentNumber >= 1, fragmentNumber <= totalFragments else {
            throw WireError.invalidValue(what: "SKF fragment number", offset: at, detail: "\(fragmentNumber) of \(totalFragments)")
        }
        body = r.rest()
    }
    func serialize(into w: inout ByteWriter) { w.u16(fragmentNumber); w.u16(totalFragments); w.append(body) }
}
