import AKA

/// `sim_algo` of a ue_db entry.
public enum SIMAlgorithm: String, Sendable, CaseIterable {
    case xor, milenage
}

/// `authent_type` of a ue_db entry, weakest first.
public enum IMSAuthenticationType: String, Sendable, CaseIterable {
    case none = "none"
    case md5 = "MD5"
    case akav1 = "AKAv1"
    case akav2 = "AKAv2"
    case akav2SHA256 = "AKAv2-SHA-256"
}

/// One ue_db subscriber, built from plain values (the Config layer maps its JSON here).
public struct Subscriber: Sendable, Equatable {
    public var imsi: String
    public var algorithm: SIMAlgorithm
    public var k: [UInt8]?
    public var op: [UInt8]?
    public var opc: [UInt8]?
    /// Non-default MILENAGE r/c; nil means TS 35.206 defaults.
    public var milenageConstants: MilenageConstants?
    public var amf: UInt16
    /// Initial SQN (ue_db `sqn`): the HSS starts with SEQ just above it.
    public var sqn: SQN
    public var resLength: Int
    public var impi: String?
    public var impu: [String]
    /// Explicit `authent_type`; see `effectiveAuthenticationType` for the default.
    public var authenticationType: IMSAuthenticationType?
    public var pwd: String?
    public var msisdn: String?

    public init(imsi: String, algorithm: SIMAlgorithm = .xor, k: [UInt8]? = nil, op: [UInt8]? = nil,
                opc: [UInt8]? = nil, milenageConstants: MilenageConstants? = nil, amf: UInt16 = 0x9001,
                sqn: SQN = .zero, resLength: Int = 8, impi: String? = nil, impu: [String] = [],
                authenticationType: IMSAuthenticationType? = nil, pwd: String? = nil, msisdn: String? = nil) {
        self.imsi = imsi; self.algorithm = algorithm; self.k = k; self.op = op; self.opc = opc
        self.milenageConstants = milenageConstants; self.amf = amf; self.sqn = sqn; self.resLength = resLength
        self.impi = impi; self.impu = impu; self.authenticationType = authenticationType; self.pwd = pwd; self.msisdn = msisdn
    }

    /// The callbox rule: AKAv1 unless set; MD5 if only `pwd` is given.
    public var effectiveAuthenticationType: IMSAuthenticationType {
        authenticationType ?? (pwd != nil ? .md5 : .akav1)
    }

    /// AMF as two bytes.
    public var amfBytes: [UInt8] { AMF.bytes(amf) }

    /// Checks the fields that do not depend on the algorithm being used (IMSI, key sizes).
    public func validate() throws {
        guard (5...15).contains(imsi.count), imsi.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw HSSError.invalidSubscriber(imsi, "IMSI must be 5 to 15 digits")
        }
        for (name, v) in [("K", k), ("OP", op), ("OPc", opc)] {
            if let v, v.count != 16 { throw HSSError.invalidSubscriber(imsi, "\(name) must be 16 bytes, got \(v.count)") }
        }
        guard (4...16).contains(resLength) else { throw HSSError.invalidSubscriber(imsi, "res_len \(resLength) outside 4..16") }
    }

    /// The USIM's function set: XOR needs K; MILENAGE needs K and OPc or OP (OPc wins).
    public func authenticationAlgorithm() throws -> AuthenticationAlgorithm {
        guard let k else { throw HSSError.missingKey(imsi, "K") }
        do {
            let alg: AuthenticationAlgorithm
            switch algorithm {
            case .xor:
                alg = .xor(try XORTestAlgorithm(k: k))
            case .milenage:
                let c = milenageConstants ?? .standard
                if let opc { alg = .milenage(try Milenage(k: k, opc: opc, constants: c)) }
                else if let op { alg = .milenage(try Milenage(k: k, op: op, constants: c)) }
                else { throw HSSError.missingKey(imsi, "OP or OPc") }
            }
            try alg.validateResLength(resLength)
            return alg
        } catch let e as AKAError {
            throw HSSError.invalidSubscriber(imsi, e.description)
        }
    }
}
