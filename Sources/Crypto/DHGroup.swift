/// IKEv2 Transform Type 4 (key exchange) groups with their IANA IDs as raw values.
/// MODP groups: RFC 2409 (1, 2), RFC 3526 (5, 14-18), RFC 5114 (22-24, with subgroup q).
/// ECP groups: RFC 5903 (19-21), public value x | y without the 0x04 prefix.
/// Montgomery curves: RFC 8031 (31, 32), public value the raw RFC 7748 u-coordinate.
public enum DHGroup: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case modp768 = 1
    case modp1024 = 2
    case modp1536 = 5
    case modp2048 = 14
    case modp3072 = 15
    case modp4096 = 16
    case modp6144 = 17
    case modp8192 = 18
    case ecp256 = 19
    case ecp384 = 20
    case ecp521 = 21
    case modp1024s160 = 22
    case modp2048s224 = 23
    case modp2048s256 = 24
    case curve25519 = 31
    case curve448 = 32

    public enum Kind: Sendable { case modp, ecp, montgomery }

    public var kind: Kind {
        switch self {
        case .ecp256, .ecp384, .ecp521: .ecp
        case .curve25519, .curve448: .montgomery
        default: .modp
        }
    }

    /// Length of the KE payload's Key Exchange Data (RFC 7296 §3.4).
    public var publicValueLength: Int {
        switch self {
        case .modp768: 96
        case .modp1024, .modp1024s160: 128
        case .modp1536: 192
        case .modp2048, .modp2048s224, .modp2048s256: 256
        case .modp3072: 384
        case .modp4096: 512
        case .modp6144: 768
        case .modp8192: 1024
        case .ecp256: 64
        case .ecp384: 96
        case .ecp521: 132
        case .curve25519: 32
        case .curve448: 56
        }
    }

    /// Length of the shared secret g^ir: the prime length (MODP), the x coordinate
    /// (ECP, RFC 5903 §7) or the u-coordinate (RFC 8031).
    public var sharedSecretLength: Int {
        kind == .ecp ? publicValueLength / 2 : publicValueLength
    }

    /// OpenSSL's FFC named group, when it has one.
    var ffcGroupName: String? {
        switch self {
        case .modp1536: "modp_1536"
        case .modp2048: "modp_2048"
        case .modp3072: "modp_3072"
        case .modp4096: "modp_4096"
        case .modp6144: "modp_6144"
        case .modp8192: "modp_8192"
        case .modp1024s160: "dh_1024_160"
        case .modp2048s224: "dh_2048_224"
        case .modp2048s256: "dh_2048_256"
        default: nil
        }
    }

    /// OpenSSL's curve name for ECP groups.
    var curveName: String? {
        switch self {
        case .ecp256: "P-256"
        case .ecp384: "P-384"
        case .ecp521: "P-521"
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .modp768: "MODP_768"
        case .modp1024: "MODP_1024"
        case .modp1536: "MODP_1536"
        case .modp2048: "MODP_2048"
        case .modp3072: "MODP_3072"
        case .modp4096: "MODP_4096"
        case .modp6144: "MODP_6144"
        case .modp8192: "MODP_8192"
        case .ecp256: "ECP_256"
        case .ecp384: "ECP_384"
        case .ecp521: "ECP_521"
        case .modp1024s160: "MODP_1024_160"
        case .modp2048s224: "MODP_2048_224"
        case .modp2048s256: "MODP_2048_256"
        case .curve25519: "Curve25519"
        case .curve448: "Curve448"
        }
    }
}
