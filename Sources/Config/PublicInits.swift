/// Initializers for building configs in code (tests, the simulator), with the same
/// defaults as a config file that leaves the fields out.

private let inCode = SourceLocation(file: "<code>", line: 0, column: 0)

extension EPDGConfig {
    /// An ePDG config with every documented default; relative files resolve against `configDirectory`.
    public init(bindAddr: ConfigEndpoint, configDirectory: String = "") {
        self.init(bindAddr: bindAddr,
                  privateKeyPath: joinPath(configDirectory, "epdg_private_key.pem"),
                  certificatePath: joinPath(configDirectory, "epdg_cert.pem"),
                  sqnDB: joinPath(configDirectory, "ue_db.sqlite"), location: inCode)
    }
}

extension PDNConfig {
    public init(accessPointName: String, pdnType: PDNType = .ipv4) {
        self.init(accessPointNames: [accessPointName], location: inCode)
        self.pdnType = pdnType
    }
}

extension UEDBEntry {
    /// A SIM with the documented defaults (XOR unless `simAlgo` says otherwise, AMF 0x9001, SQN 0, RES 8 bytes, AKAv1).
    public init(imsi: String?, simAlgo: SIMAlgorithm = .xor, k: [UInt8]?, op: [UInt8]? = nil, opc: [UInt8]? = nil) {
        self.init(location: inCode)
        self.imsi = imsi
        self.simAlgo = simAlgo
        self.k = k
        self.op = op
        self.opc = opc
    }
}

extension MMEConfig {
    public init(plmn: PLMN, pdnList: [PDNConfig] = [], ueDB: [UEDBEntry] = [], epdg: EPDGConfig? = nil) {
        self.init(plmn: plmn, path: "<code>", configDirectory: "")
        self.pdnList = pdnList
        self.ueDB = ueDB
        self.epdg = epdg
    }
}

extension IMSConfig {
    public init(sipAddr: [SIPAddr], domain: String = "ims.mnc001.mcc001.3gppnetwork.org", ueDB: [UEDBEntry] = []) {
        self.init(filePath: "<code>", configDirectory: "")
        self.sipAddr = sipAddr
        self.domain = domain
        self.ueDB = ueDB
    }
}

extension IMSConfig.SIPAddr {
    public init(addr: ConfigEndpoint) {
        self.init(addr: addr, bindAddr: addr)
    }
}

extension IMSConfig.Echo {
    public init(impu: String) {
        self.init(impu: impu, code: nil)
    }
}
