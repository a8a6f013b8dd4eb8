import Wire

/// A NAS (access point, WLAN controller, ePDG) allowed to talk to the server, and the
/// shared secret it signs with (RFC 2865 §3: clients are known by source address).
public struct RADIUSClient: Sendable, Equatable {
    public var address: IPAddress
    public var secret: [UInt8]
    /// For logs ("ap-lobby"); defaults to the address.
    public var name: String

    public init(address: IPAddress, secret: [UInt8], name: String? = nil) {
        self.address = address; self.secret = secret; self.name = name ?? address.description
    }

    public init(address: IPAddress, secret: String, name: String? = nil) {
        self.init(address: address, secret: Array(secret.utf8), name: name)
    }
}

/// Settings of the RADIUS front end.
public struct RADIUSServerConfig: Sendable, Equatable {
    public var clients: [RADIUSClient]
    public var eap: EAPAKAServerConfig
    /// An EAP conversation idle this long (seconds) is forgotten with its State.
    public var sessionLifetime: Double
    /// How long a reply is kept to answer a retransmitted request (RFC 5080 §2.2.2).
    public var duplicateLifetime: Double
    /// Bound on concurrent EAP conversations; new ones beyond it are dropped.
    public var maxSessions: Int

    public init(clients: [RADIUSClient], eap: EAPAKAServerConfig = EAPAKAServerConfig(), sessionLifetime: Double = 60,
                duplicateLifetime: Double = 30, maxSessions: Int = 4096) {
        self.clients = clients; self.eap = eap; self.sessionLifetime = sessionLifetime
        self.duplicateLifetime = duplicateLifetime; self.maxSessions = maxSessions
    }

    /// The brief's form: clients as [address text: secret]; throws on an unparsable address.
    public init(clients: [String: String], eap: EAPAKAServerConfig = EAPAKAServerConfig()) throws(AAAError) {
        var list: [RADIUSClient] = []
        for (a, s) in clients.sorted(by: { $0.key < $1.key }) {
            guard let ip = IPAddress(a) else { throw .badAddress(a) }
            list.append(RADIUSClient(address: ip, secret: s))
        }
        self.init(clients: list, eap: eap)
    }
}

/// The source of a datagram.
public struct RADIUSPeer: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public init(address: IPAddress, port: UInt16) { self.address = address; self.port = port }
    public var description: String { address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}

/// Errors of the AAA host side (configuration, sockets).
public enum AAAError: Error, Equatable, Sendable, CustomStringConvertible {
    case badAddress(String)
    case socket(String, errno: Int32)

    public var description: String {
        switch self {
        case let .badAddress(a): "not an IP address: '\(a)'"
        case let .socket(what, e): "\(what) failed: errno \(e)"
        }
    }
}
