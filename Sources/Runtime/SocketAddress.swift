import Glibc

/// An IPv4 or IPv6 address with a port, as the kernel takes it. Printed `1.2.3.4:500` or
/// `[2001:db8::1]:500`, the form error messages and logs use.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    /// Parses a numeric IPv4 or IPv6 host (no DNS). `host` may carry `[...]` brackets and an
    /// IPv6 `%scope` suffix.
    public init(host: String, port: UInt16) throws(RuntimeError) {
        var h = host
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        var sin = sockaddr_in()
        if inet_pton(AF_INET, h, &sin.sin_addr) == 1 {
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            self = .v4(sin)
            return
        }
        var scope: UInt32 = 0
        if let pct = h.firstIndex(of: "%") {
            let name = String(h[h.index(after: pct)...])
            scope = UInt32(name) ?? if_nametoindex(name)
            h = String(h[..<pct])
        }
        var sin6 = sockaddr_in6()
        if inet_pton(AF_INET6, h, &sin6.sin6_addr) == 1 {
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_scope_id = scope
            self = .v6(sin6)
            return
        }
        throw .invalidAddress(host)
    }

    /// Parses `host:port`, `[v6]:port`.
    public init(parsing text: String) throws(RuntimeError) {
        guard let colon = text.lastIndex(of: ":"),
              let port = UInt16(text[text.index(after: colon)...]) else { throw .invalidAddress(text) }
        let host = String(text[..<colon])
        if !host.hasPrefix("["), host.contains(":") { throw .invalidAddress(text) }
        try self.init(host: host, port: port)
    }

    /// Reads a kernel-filled `sockaddr_storage`; nil for families other than IPv4/IPv6.
    init?(storage: UnsafeRawPointer) {
        switch Int32(storage.load(as: sockaddr.self).sa_family) {
        case AF_INET: self = .v4(storage.loadUnaligned(as: sockaddr_in.self))
        case AF_INET6: self = .v6(storage.loadUnaligned(as: sockaddr_in6.self))
        default: return nil
        }
    }

    public var family: Int32 {
        switch self { case .v4: return AF_INET; case .v6: return AF_INET6 }
    }

    public var port: UInt16 {
        switch self {
        case .v4(let a): return UInt16(bigEndian: a.sin_port)
        case .v6(let a): return UInt16(bigEndian: a.sin6_port)
        }
    }

    /// The same address with another port.
    public func withPort(_ port: UInt16) -> SocketAddress {
        switch self {
        case .v4(var a): a.sin_port = port.bigEndian; return .v4(a)
        case .v6(var a): a.sin6_port = port.bigEndian; return .v6(a)
        }
    }

    /// The address bytes in network order (4 or 16).
    public var addressBytes: [UInt8] {
        switch self {
        case .v4(var a): return withUnsafeBytes(of: &a.sin_addr) { Array($0) }
        case .v6(var a): return withUnsafeBytes(of: &a.sin6_addr) { Array($0) }
        }
    }

    /// The numeric host without port or brackets.
    public var host: String {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch self {
        case .v4(var a): inet_ntop(AF_INET, &a.sin_addr, &buf, socklen_t(buf.count))
        case .v6(var a): inet_ntop(AF_INET6, &a.sin6_addr, &buf, socklen_t(buf.count))
        }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        switch self {
        case .v4: return "\(host):\(port)"
        case .v6: return "[\(host)]:\(port)"
        }
    }

    /// Calls `body` with a `sockaddr` pointer and its length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch self {
        case .v4(var a):
            return try withUnsafeBytes(of: &a) { try body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size)) }
        case .v6(var a):
            return try withUnsafeBytes(of: &a) { try body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }

    public static func == (l: SocketAddress, r: SocketAddress) -> Bool {
        guard l.family == r.family, l.port == r.port, l.addressBytes == r.addressBytes else { return false }
        if case .v6(let a) = l, case .v6(let b) = r { return a.sin6_scope_id == b.sin6_scope_id }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(port)
        hasher.combine(addressBytes)
    }
}
