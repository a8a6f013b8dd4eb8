/// How `vowifi run` / `vowifi demo` assemble the core from the configs.
public struct CoreOptions: Sendable {
    public var mmeConfigPath: String
    public var imsConfigPath: String
    /// Inner path: a TUN device (needs CAP_NET_ADMIN) or in-process (no privileges).
    public enum InnerPath: String, Sendable { case tun, inProcess = "in-process" }
    public var innerPath: InnerPath
    /// Overrides of the configured addresses (the demo binds loopback, ephemeral ports).
    public var epdgHost: String?
    public var ikePort: UInt16?
    public var natTPort: UInt16?
    /// SIP sockets: nil uses every `sip_addr`; [] binds none (in-process only).
    public var sipSocketAddresses: [String]?
    /// SQN database path override (the demo keeps its own).
    public var sqnDatabase: String?
    /// Log destination override (nil: `log_filename` of the MME config, else stderr).
    public var logFile: String?
    public var logOptions: String?
    public var keyLogDirectory: String?
    /// pcapng capture of the outer traffic (IKE, ESP) and the decrypted inner traffic.
    public var capturePath: String?
    /// Event loops (threads) the ePDG is sharded over; nil: one per core.
    public var loops: Int?
    /// Capture rotation: past this many bytes the capture goes on in `<name>.1.pcapng`, ...
    public var captureMaxSize: Int?
    /// `vowifi run --events`: called with each attach, detach, registration, call start/end.
    public var events: (@Sendable (CoreEvent) -> Void)?
    /// Overrides `epdg.omit_auth_in_first_auth_rsp` (the demo sets it for phones that need it).
    public var omitAuthInFirstAuthRsp: Bool?
    /// PEM file of CA (or pinned) certificates: initiators with a certificate they vouch for may
    /// authenticate by signature instead of EAP-AKA (off when nil; see `EPDGPeerCertificates`).
    public var peerCertificateAuthorities: String?
    /// Override the `com_addr` of the MME / IMS config ("127.0.0.1:0" in tests: an ephemeral
    /// port); the remote API is served when either the config or this names an address.
    public var mmeComAddr: String?
    public var imsComAddr: String?

    public init(mmeConfigPath: String = "config/mme-ims.cfg", imsConfigPath: String = "config/ims.cfg",
                innerPath: InnerPath = .tun) {
        self.mmeConfigPath = mmeConfigPath
        self.imsConfigPath = imsConfigPath
        self.innerPath = innerPath
    }
}
