import Glibc

/// Socket creation and options shared by UDP and TCP.
enum Sock {
    static func make(family: Int32, type: __socket_type, transport: String) throws(RuntimeError) -> Int32 {
        let fd = socket(family, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", context: transport, errno: errno) }
        return fd
    }

    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ what: String) throws(RuntimeError) {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .system(call: "setsockopt", context: what, errno: errno)
        }
    }

    static func bind(_ fd: Int32, _ address: SocketAddress, transport: String) throws(RuntimeError) {
        let rc = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard rc == 0 else { throw RuntimeError.bind(transport: transport, address: address, errno: errno) }
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { getsockname(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &len) }
        guard rc == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!) }
    }

    static func peerAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { getpeername(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &len) }
        guard rc == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!) }
    }
}

extension SocketAddress {
    /// IPv4 as `::ffff:a.b.c.d`, for sending from a dual-stack IPv6 socket.
    var mappedToV6: SocketAddress {
        guard case .v4(let a) = self else { return self }
        var s6 = sockaddr_in6()
        s6.sin6_family = sa_family_t(AF_INET6)
        s6.sin6_port = a.sin_port
        withUnsafeMutableBytes(of: &s6.sin6_addr) { b in
            b[10] = 0xff; b[11] = 0xff
            withUnsafeBytes(of: a.sin_addr) { v4 in for i in 0..<4 { b[12 + i] = v4[i] } }
        }
        return .v6(s6)
    }

    /// `::ffff:a.b.c.d` back to plain IPv4 (what a dual-stack socket reports for IPv4 peers).
    var unmapped: SocketAddress {
        guard case .v6(let a) = self else { return self }
        let b = withUnsafeBytes(of: a.sin6_addr) { Array($0) }
        guard b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff else { return self }
        var s = sockaddr_in()
        s.sin_family = sa_family_t(AF_INET)
        s.sin_port = a.sin6_port
        withUnsafeMutableBytes(of: &s.sin_addr) { for i in 0..<4 { $0[i] = b[12 + i] } }
        return .v4(s)
    }
}
