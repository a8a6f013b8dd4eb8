import Foundation
import Glibc
import IKEv2
import Wire

/// Command-line addresses: `HOST`, `HOST:PORT`, `[V6]:PORT`, names resolved once with
/// getaddrinfo, and the local address the kernel would use toward a peer.
enum HostPort {
    enum ParseError: Error, CustomStringConvertible {
        case bad(String), unresolved(String)
        var description: String {
            switch self {
            case .bad(let s): return "not HOST[:PORT]: \(s)"
            case .unresolved(let s): return "cannot resolve \(s)"
            }
        }
    }

    /// Splits `HOST[:PORT]` (IPv6 in brackets when a port follows, or bare without one).
    static func split(_ text: String, defaultPort: UInt16) throws -> (host: String, port: UInt16) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ParseError.bad(text) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, defaultPort) }
            guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()) else { throw ParseError.bad(text) }
            return (host, p)
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1, let c = text.firstIndex(of: ":") {
            guard let p = UInt16(text[text.index(after: c)...]) else { throw ParseError.bad(text) }
            return (String(text[..<c]), p)
        }
        guard !text.isEmpty else { throw ParseError.bad(text) }
        return (text, defaultPort)
    }

    /// A numeric address, or the first address a name resolves to (IPv4 first).
    static func resolve(_ host: String) throws -> IPAddress {
        if let ip = IPAddress(host) { return ip }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { throw ParseError.unresolved(host) }
        defer { freeaddrinfo(first) }
        var found: [IPAddress] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let a = p {
            if let sa = a.pointee.ai_addr {
                if a.pointee.ai_family == AF_INET {
                    let sin = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self)
                    if let ip = IPAddress(bytes: withUnsafeBytes(of: sin.sin_addr.s_addr) { Array($0) }) { found.append(ip) }
                } else if a.pointee.ai_family == AF_INET6 {
                    let sin6 = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in6.self)
                    if let ip = IPAddress(bytes: withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }) { found.append(ip) }
                }
            }
            p = a.pointee.ai_next
        }
        guard let ip = found.first(where: { $0.isIPv4 }) ?? found.first else { throw ParseError.unresolved(host) }
        return ip
    }

    /// `HOST[:PORT]` to an endpoint.
    static func endpoint(_ text: String, defaultPort: UInt16) throws -> IKEEndpoint {
        let (h, p) = try split(text, defaultPort: defaultPort)
        return IKEEndpoint(try resolve(h), p)
    }

    /// The source address the kernel picks toward `peer` (a connected UDP socket, no packet
    /// sent). The phone puts it in its NAT detection hashes, as a real phone does.
    static func sourceAddress(toward peer: IPAddress) -> IPAddress? {
        let fd = socket(peer.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var storage = sockaddr_storage()
        var len: socklen_t
        if peer.isIPv4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(9).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: peer.bytes) }
            len = socklen_t(MemoryLayout<sockaddr_in>.size)
            guard withUnsafePointer(to: &sin, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } }) == 0 else { return nil }
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(9).bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: peer.bytes) }
            len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            guard withUnsafePointer(to: &sin6, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } }) == 0 else { return nil }
        }
        len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        guard withUnsafeMutablePointer(to: &storage, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }) == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { raw -> IPAddress? in
            if peer.isIPv4 { return IPAddress(bytes: withUnsafeBytes(of: raw.loadUnaligned(as: sockaddr_in.self).sin_addr) { Array($0) }) }
            return IPAddress(bytes: withUnsafeBytes(of: raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr) { Array($0) })
        }
    }

    /// Raises the open-file soft limit to the hard limit (one socket per simulated phone).
    static func raiseFileLimit() -> (soft: UInt64, hard: UInt64) {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return (0, 0) }
        if r.rlim_cur < r.rlim_max {
            var n = r
            n.rlim_cur = r.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &n) == 0 { r = n }
        }
        return (UInt64(r.rlim_cur), UInt64(r.rlim_max))
    }
}
