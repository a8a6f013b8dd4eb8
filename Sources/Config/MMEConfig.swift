/// The MME config (the callbox's `mme-ims.cfg`): PLMN, PDNs, the subscriber database and
/// the `epdg` object. Keys VoWiFi Core does not use are listed in `ignored`.
public struct MMEConfig: Sendable {
    /// `log_options`, e.g. `"all.level=error,ikev2.level=debug"`.
    public var logOptions: String?
    /// `log_filename`.
    public var logFilename: String?
    /// `plmn`, required: gives the NAI realm and the default IMS domain.
    public var plmn: PLMN
    /// `ims_vops_eps`, `ims_vops_5gs_3gpp`, `ims_vops_5gs_n3gpp` (default false).
    public var imsVopsEps: Bool = false
    public var imsVops5gs3gpp: Bool = false
    public var imsVops5gsN3gpp: Bool = false
    public var pdnList: [PDNConfig] = []
    /// `ue_db` as written (use `expandedUEDB` for `count` entries spread out).
    public var ueDB: [UEDBEntry] = []
    /// nil when the config has no `epdg` object.
    public var epdg: EPDGConfig?
    /// The AAA (RADIUS) server for Wi-Fi access points, if configured.
    public var radius: RADIUSConfig?
    /// `com_addr`: the WebSocket remote API (default port 9000); nil: no API.
    public var comAddr: ConfigEndpoint?
    /// `com_name`: the name the remote API's ready message gives (default "MME").
    public var comName: String?
    /// `com_auth`: clients must answer a password challenge first; nil: no authentication.
    public var comAuth: ComAuthConfig?
    /// The file that was loaded, and its directory (relative paths resolve against it).
    public var path: String
    public var configDirectory: String
    /// Keys present but unused (not errors).
    public var ignored: [ConfigWarning] = []

    /// Every SIM, with `count` entries expanded.
    public var expandedUEDB: [UEDBEntry] { ueDB.flatMap { $0.expanded() } }

    /// The PDN whose `access_point_name` (or an alias) is `apn`, case-insensitively
    /// (TS 23.003 §9.1: APNs are not case-sensitive).
    public func pdn(named apn: String) -> PDNConfig? {
        let a = apn.lowercased()
        return pdnList.first { $0.accessPointNames.contains { $0.lowercased() == a } }
    }

    /// The PDN with `emergency: true`, if any.
    public var emergencyPDN: PDNConfig? { pdnList.first { $0.emergency } }

    /// Loads `path` with its includes; throws `ConfigError` (all errors in `.all`).
    public static func load(path: String) throws -> (config: MMEConfig, warnings: [ConfigWarning]) {
        try decode(ConfigDocument.load(path: path), path: path)
    }

    /// Decodes an already parsed document; `path` locates relative file names.
    public static func decode(_ object: ConfigObject, path: String) throws -> (config: MMEConfig, warnings: [ConfigWarning]) {
        let dir = directory(of: path)
        let decoder = Decoder(configDirectory: dir)
        let top = SourceLocation(file: path, line: 1, column: 1)
        let r = ObjectReader(object, at: top, path: "", pattern: "", decoder: decoder)
        var plmn: PLMN?
        if let s = r.string("plmn") {
            plmn = PLMN(s)
            if plmn == nil {
                decoder.fail(.invalidValue, at: r.raw("plmn")?.location, "plmn: \(quote(s)) is not a PLMN (MCC + MNC, 5 or 6 digits, e.g. \"00101\")")
            }
        } else if r.raw("plmn") == nil {
            decoder.fail(.missing, at: top, "missing required property 'plmn' (e.g. plmn: \"00101\")")
        }
        var c = MMEConfig(plmn: plmn ?? .test, path: path, configDirectory: dir)
        c.logOptions = r.string("log_options")
        c.logFilename = r.string("log_filename")
        if let b = r.bool("ims_vops_eps") { c.imsVopsEps = b }
        if let b = r.bool("ims_vops_5gs_3gpp") { c.imsVops5gs3gpp = b }
        if let b = r.bool("ims_vops_5gs_n3gpp") { c.imsVops5gsN3gpp = b }
        if let items = r.array("pdn_list") {
            c.pdnList = items.enumerated().compactMap { PDNConfig.decode($1, index: $0, decoder: decoder) }
        }
        if let items = r.array("ue_db") {
            c.ueDB = items.enumerated().compactMap { UEDBEntry.decode($1, index: $0, decoder: decoder) }
        }
        if let e = r.raw("epdg") {
            c.epdg = EPDGConfig.decode(e, decoder: decoder)
            if r.raw("pdn_list") == nil {
                decoder.fail(.missing, at: e.location, "epdg needs a pdn_list: the APN a phone asks for in IDr selects the PDN")
            }
        }
        if let e = c.epdg { checkAdditionalAuthCredentials(e, c.pdnList, decoder) }
        if let v = r.raw("radius") { c.radius = RADIUSConfig.decode(v, decoder: decoder) }
        c.comAddr = r.endpoint("com_addr", defaultPort: 9000)
        c.comName = r.string("com_name")
        if let v = r.raw("com_auth") { c.comAuth = ComAuthConfig.decode(v, decoder: decoder) }
        checkUniqueIMSIs(c.ueDB, decoder)
        r.finishLoose()
        try decoder.check()
        c.ignored = decoder.warnings
        return (c, decoder.warnings)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// `additional_ue_auth_type` pap/chap checks the PDN's `username`/`password`: every PDN a
    /// phone can reach over the ePDG must have both (the emergency PDN is exempt: TS 33.402
    /// emergency sessions need no PDN authorization).
    static func checkAdditionalAuthCredentials(_ e: EPDGConfig, _ pdns: [PDNConfig], _ decoder: Decoder) {
        guard e.additionalUEAuthType != .none else { return }
        for (i, p) in pdns.enumerated() where !p.emergency {
            let missing = [("username", p.username), ("password", p.password)].filter { $0.1 == nil }.map(\.0)
            guard !missing.isEmpty else { continue }
            decoder.fail(.missing, at: p.location,
                         "pdn_list[\(i)] (\(quote(p.accessPointName))): \(missing.joined(separator: " and ")) missing; epdg.additional_ue_auth_type \(quote(e.additionalUEAuthType.rawValue)) (at \(e.location)) checks the PDN's username and password")
        }
    }

    static func checkUniqueIMSIs(_ db: [UEDBEntry], _ decoder: Decoder) {
        var seen: [String: SourceLocation] = [:]
        for e in db {
            guard let imsi = e.imsi, !e.multiSim else { continue }
            if let first = seen[imsi] {
                decoder.fail(.invalidValue, at: e.location, "ue_db: IMSI \(imsi) is already defined at \(first) (set multi_sim: true to share a SIM)")
            } else {
                seen[imsi] = e.location
            }
        }
    }
}

extension PLMN {
    /// The test PLMN 001/01, used only to fill a config that already failed.
    static let test = PLMN(mcc: "001", mnc: "01")
}
