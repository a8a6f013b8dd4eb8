import AKA
import Config

extension Subscriber {
    /// Maps a typed ue_db entry (already `count`-expanded by the Config layer) to a subscriber.
    /// Entries without an IMSI (pure SIP accounts) have no SIM and are skipped by the caller.
    public init?(entry e: UEDBEntry) throws {
        guard let imsi = e.imsi else { return nil }
        var constants: MilenageConstants? = nil
        if e.r != nil || e.c != nil {
            constants = try MilenageConstants(r: e.r ?? MilenageConstants.standard.r, c: e.c ?? MilenageConstants.standard.c)
        }
        let type: IMSAuthenticationType
        switch e.authentType {
        case .none: type = .none
        case .md5: type = .md5
        case .akav1: type = .akav1
        case .akav2: type = .akav2
        }
        self.init(imsi: imsi, algorithm: e.simAlgo == .milenage ? .milenage : .xor, k: e.k, op: e.op, opc: e.opc,
                  milenageConstants: constants, amf: e.amf, sqn: try SQN(bytes: e.sqn), resLength: e.resLen,
                  impi: e.impi, impu: e.impu.map(\.impu), authenticationType: type, pwd: e.pwd, msisdn: e.msisdn)
    }

    /// All SIM subscribers of a ue_db list (entries are expanded for `count` first).
    public static func from(ueDB: [UEDBEntry]) throws -> [Subscriber] {
        try ueDB.flatMap { $0.expanded() }.compactMap { try Subscriber(entry: $0) }
    }
}
