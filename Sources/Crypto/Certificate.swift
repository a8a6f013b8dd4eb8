import COpenSSL

/// An X.509 certificate: the ePDG's own (CERT payload, AUTH by signature) or a peer's.
public final class Certificate: @unchecked Sendable {
    // @unchecked: the X509 is never modified after init; accessors only read it.
    let x509: OpaquePointer

    init(adopting x509: OpaquePointer) { self.x509 = x509 }
    deinit { X509_free(x509) }

    /// The first certificate of a PEM text.
    public convenience init(pem: String) throws {
        let x = try withMemoryBIO(Array(pem.utf8)) { PEM_read_bio_X509($0, nil, nil, nil) }
        guard let x else { throw CryptoError.invalidEncoding("PEM certificate: \(opensslErrorString())") }
        self.init(adopting: x)
    }

    /// A DER certificate (as carried in an IKEv2 CERT payload, encoding 4).
    public convenience init(der: [UInt8]) throws {
        let x: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509(nil, &p, buf.count)
        }
        guard let x else { throw CryptoError.invalidEncoding("DER certificate: \(opensslErrorString())") }
        self.init(adopting: x)
    }

    /// Every certificate in a PEM text (a chain file), in order.
    public static func chain(pem: String) throws -> [Certificate] {
        try withMemoryBIO(Array(pem.utf8)) { bio in
            var out: [Certificate] = []
            while let x = PEM_read_bio_X509(bio, nil, nil, nil) { out.append(Certificate(adopting: x)) }
            _ = opensslErrorString() // the final read reports "no start line"
            guard !out.isEmpty else { throw CryptoError.invalidEncoding("no certificate in PEM text") }
            return out
        }
    }

    /// DER encoding.
    public var der: [UInt8] {
        get throws { try derEncode({ i2d_X509(x509, $0) }, what: "X509") }
    }

    public func pemEncoded() throws -> String {
        let bytes = try collectingBIO { try check(PEM_write_bio_X509($0, x509), "PEM_write_bio_X509") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Subject as "C=.., O=.., CN=.." (strongSwan's order and separators).
    public var subject: String { Self.describe(X509_get_subject_name(x509)) }
    public var issuer: String { Self.describe(X509_get_issuer_name(x509)) }

    /// DER of the subject Name: the IKEv2 ID_DER_ASN1_DN identification data.
    public var subjectDER: [UInt8] {
        get throws {
            let name = X509_get_subject_name(x509)
            return try derEncode({ i2d_X509_NAME(name, $0) }, what: "X509_NAME")
        }
    }

    /// The subject's commonName (first CN), if any.
    public var commonName: String? {
        let name = X509_get_subject_name(x509)
        let idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard idx >= 0, let entry = X509_NAME_get_entry(name, idx),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        return Self.string(data)
    }

    /// dNSName entries of subjectAltName (the IKEv2 ID_FQDN the certificate vouches for).
    public var subjectAltNameDNS: [String] {
        generalNames().compactMap { type, value in type == GEN_DNS ? value.flatMap(Self.string) : nil }
    }

    /// iPAddress entries of subjectAltName, as 4 or 16 raw bytes.
    public var subjectAltNameIPs: [[UInt8]] {
        generalNames().compactMap { type, value in type == GEN_IPADD ? value.map(Self.bytes) : nil }
    }

    /// The subject public key.
    public var publicKey: PublicKey {
        get throws {
            guard let k = X509_get_pubkey(x509) else {
                throw CryptoError.invalidEncoding("certificate public key: \(opensslErrorString())")
            }
            return try PublicKey(adopting: k)
        }
    }

    /// True when `issuerKey` verifies this certificate's signature.
    public func isSigned(by issuerKey: PublicKey) -> Bool {
        defer { _ = opensslErrorString() }
        return X509_verify(x509, issuerKey.pkey) == 1
    }

    /// Validity period as seconds since 1970 (UTC).
    public var notBefore: Int64? { Self.epoch(X509_get0_notBefore(x509)) }
    public var notAfter: Int64? { Self.epoch(X509_get0_notAfter(x509)) }

    /// A self-signed certificate for `commonName` with subjectAltName dNSName `dnsName`,
    /// valid from now for `days`, signed with SHA-256. Without `key`, a fresh RSA-2048 key
    /// is generated (the form every UE accepts for IKEv2 RSA signature auth).
    /// Used as the ePDG default (CN = SAN = epdg.epc.mnc001.mcc001.pub.3gppnetwork.org).
    public static func selfSigned(commonName: String, dnsName: String, key: PrivateKey? = nil,
                                  days: Int = 3650) throws -> (certificate: Certificate, privateKey: PrivateKey) {
        let key = try key ?? PrivateKey.generateRSA(bits: 2048)
        guard let x = X509_new() else { throw CryptoError.openssl(operation: "X509_new", detail: opensslErrorString()) }
        let cert = Certificate(adopting: x) // frees x on any error below
        try check(X509_set_version(x, 2), "X509_set_version")
        let serial = SecureRandom.bytes(16)
        var serialBytes = serial; serialBytes[0] &= 0x7f // positive
        guard let bn = BN_bin2bn(serialBytes, Int32(serialBytes.count), nil) else {
            throw CryptoError.openssl(operation: "BN_bin2bn", detail: opensslErrorString())
        }
        defer { BN_free(bn) }
        guard BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nil else {
            throw CryptoError.openssl(operation: "BN_to_ASN1_INTEGER", detail: opensslErrorString())
        }
        guard X509_gmtime_adj(X509_getm_notBefore(x), 0) != nil,
              X509_gmtime_adj(X509_getm_notAfter(x), days * 86400) != nil else {
            throw CryptoError.openssl(operation: "X509_gmtime_adj", detail: opensslErrorString())
        }
        try check(X509_set_pubkey(x, key.pkey), "X509_set_pubkey")
        guard let name = X509_get_subject_name(x) else { throw CryptoError.openssl(operation: "X509_get_subject_name", detail: opensslErrorString()) }
        let cn = Array(commonName.utf8)
        try check(X509_NAME_add_entry_by_txt(name, "CN", 0x1000 | 1 /* MBSTRING_ASC */, cn, Int32(cn.count), -1, 0), "X509_NAME_add_entry_by_txt(CN)")
        try check(X509_set_issuer_name(x, name), "X509_set_issuer_name")
        var v3 = X509V3_CTX()
        X509V3_set_ctx(&v3, x, x, nil, nil, 0)
        for (nid, value) in [(NID_subject_alt_name, "DNS:\(dnsName)"), (NID_subject_key_identifier, "hash"),
                             (NID_basic_constraints, "critical,CA:FALSE")] {
            guard let ext = X509V3_EXT_conf_nid(nil, &v3, nid, value) else {
                throw CryptoError.openssl(operation: "X509V3_EXT_conf_nid(\(value))", detail: opensslErrorString())
            }
            defer { X509_EXTENSION_free(ext) }
            try check(X509_add_ext(x, ext, -1), "X509_add_ext")
        }
        guard X509_sign(x, key.pkey, EVP_sha256()) > 0 else {
            throw CryptoError.openssl(operation: "X509_sign", detail: opensslErrorString())
        }
        return (cert, key)
    }

    // MARK: helpers

    private func generalNames() -> [(Int32, UnsafeMutablePointer<ASN1_STRING>?)] {
        guard let raw = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        var out: [(Int32, UnsafeMutablePointer<ASN1_STRING>?)] = []
        for i in 0..<OPENSSL_sk_num(names) {
            guard let gn = OPENSSL_sk_value(names, i)?.assumingMemoryBound(to: GENERAL_NAME.self) else { continue }
            let type = gn.pointee.type
            // dNSName and iPAddress are ASN1_STRINGs; copy their contents before freeing.
            let value: UnsafeMutablePointer<ASN1_STRING>? =
                (type == GEN_DNS || type == GEN_IPADD) ? ASN1_STRING_dup(gn.pointee.d.ia5) : nil
            out.append((type, value))
        }
        return out
    }

    private static func string(_ s: UnsafeMutablePointer<ASN1_STRING>) -> String? {
        String(decoding: bytes(s), as: UTF8.self)
    }

    private static func bytes(_ s: UnsafeMutablePointer<ASN1_STRING>) -> [UInt8] {
        let n = Int(ASN1_STRING_length(s))
        guard n > 0, let p = ASN1_STRING_get0_data(s) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    private static func describe(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        // ASN1_STRFLGS_RFC2253 | XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN: "C=US, O=Org, CN=host".
        let flags: UInt = 0x317 | (2 << 16)
        let bytes = (try? collectingBIO { _ = X509_NAME_print_ex($0, name, 0, flags) }) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func epoch(_ t: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let t else { return nil }
        var tm = tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { return nil }
        return Int64(timegm(&tm))
    }
}
