import Glibc

/// Why a socket, TUN device or loop could not start, said so the operator can fix it.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another socket already has this address and port.
    case addressInUse(transport: String, address: String)
    /// A port below 1024 without root or CAP_NET_BIND_SERVICE.
    case privilegedPort(transport: String, address: String)
    /// Binding failed with EACCES/EPERM for another reason.
    case permissionDenied(transport: String, address: String)
    /// The IP address is not configured on any interface of this host.
    case addressNotAvailable(transport: String, address: String)
    /// Opening or configuring a TUN device needs CAP_NET_ADMIN.
    case tunNeedsNetAdmin(device: String)
    /// /dev/net/tun is missing (no tun module, or a container without the device).
    case tunUnavailable(String)
    /// Not a numeric IPv4/IPv6 address (or `host:port`).
    case invalidAddress(String)
    /// An external command (such as `ip`) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// The loop is stopped or stopping; the work was not run.
    case loopStopped
    /// Any other failing system call: its name, what it was for, errno.
    case system(call: String, context: String, errno: Int32)

    public var description: String {
        switch self {
        case .addressInUse(let t, let a):
            return "cannot bind \(t) \(a): address already in use (another process or socket has it; stop it or configure another port)"
        case .privilegedPort(let t, let a):
            return "binding \(t) \(a) needs root or CAP_NET_BIND_SERVICE; configure a port >= 1024 to run unprivileged"
        case .permissionDenied(let t, let a):
            return "binding \(t) \(a): permission denied"
        case .addressNotAvailable(let t, let a):
            return "cannot bind \(t) \(a): the address is not available on this host (no interface has it; check the configured IP)"
        case .tunNeedsNetAdmin(let d):
            return "creating TUN device \(d) needs root or CAP_NET_ADMIN"
        case .tunUnavailable(let why):
            return "TUN is not available: \(why)"
        case .invalidAddress(let a):
            return "'\(a)' is not a numeric IPv4 or IPv6 address"
        case .commandFailed(let c, let s, let o):
            return "command '\(c)' failed with status \(s)" + (o.isEmpty ? "" : ": \(o)")
        case .loopStopped:
            return "the event loop is stopped"
        case .system(let call, let context, let e):
            return "\(call) failed\(context.isEmpty ? "" : " (\(context))"): \(String(cString: strerror(e))) (errno \(e))"
        }
    }

    /// Maps a failed bind(2) to the precise case.
    static func bind(transport: String, address: SocketAddress, errno e: Int32) -> RuntimeError {
        switch e {
        case EADDRINUSE: return .addressInUse(transport: transport, address: address.description)
        case EACCES, EPERM:
            return address.port != 0 && address.port < 1024
                ? .privilegedPort(transport: transport, address: address.description)
                : .permissionDenied(transport: transport, address: address.description)
        case EADDRNOTAVAIL: return .addressNotAvailable(transport: transport, address: address.description)
        default: return .system(call: "bind", context: "\(transport) \(address)", errno: e)
        }
    }
}
