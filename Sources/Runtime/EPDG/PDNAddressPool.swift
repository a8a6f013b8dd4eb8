import Config
import Foundation
import IKEv2
import Wire

/// Inner address pools per PDN (`first_ip_addr`..`last_ip_addr`, `first_ipv6_prefix`..
/// `last_ipv6_prefix` as /64s). An address returns to its pool when the IKE SA goes.
/// Shared by every ePDG loop, so it is locked; allocation is off the packet path.
public final class PDNAddressPool: InnerAddressPool, @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private struct Pool {
        var apns: [String]
        var v4First: UInt32?, v4Last: UInt32?
        var v6First: UInt64?, v6Last: UInt64?    // the upper 64 bits of the prefixes
        var nextV4: UInt32 = 0, nextV6: UInt64 = 0
        var usedV4: Set<UInt32> = [], usedV6: Set<UInt64> = []
    }
    private var pools: [Pool] = []
    private let lock = NSLock()

    public init(pdns: [PDNConfig], emergencyAlias: String? = nil) {
        for pdn in pdns {
            var names = pdn.accessPointNames.map { $0.lowercased() }
            if pdn.emergency, let alias = emergencyAlias { names.append(alias.lowercased()) }
            var p = Pool(apns: names)
            if let f = pdn.firstIPAddr?.ipv4Value, let l = pdn.lastIPAddr?.ipv4Value, f <= l {
                p.v4First = f; p.v4Last = l; p.nextV4 = f
            }
            if let f = pdn.firstIPv6Prefix, let l = pdn.lastIPv6Prefix, f.isIPv6, l.isIPv6 {
                let a = Self.high64(f.bytes), b = Self.high64(l.bytes)
                if a <= b { p.v6First = a; p.v6Last = b; p.nextV6 = a }
            }
            pools.append(p)
        }
    }

    public enum PoolError: Error, CustomStringConvertible {
        case unknownAPN(String), exhausted(String, String)
        public var description: String {
            switch self {
            case let .unknownAPN(a): return "no PDN for APN '\(a)'"
            case let .exhausted(a, fam): return "\(fam) pool of APN '\(a)' is exhausted"
            }
        }
    }

    public func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        try allocate(imsi: imsi, apn: apn, wantIPv4: wantIPv4, wantIPv6: wantIPv6, requestedIPv4: nil)
    }

    public func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool, requestedIPv4: IPAddress?) throws -> InnerAddresses {
        lock.lock(); defer { lock.unlock() }
        guard let i = pools.firstIndex(where: { $0.apns.contains(apn.lowercased()) }) else { throw PoolError.unknownAPN(apn) }
        var v4: IPAddress? = nil, v6: IPAddress? = nil
        var pool = pools[i]
        defer { pools[i] = pool }
        if wantIPv4, let f = pool.v4First, let l = pool.v4Last, let r = requestedIPv4, r.isIPv4,
           case let want = Self.v4(r.bytes), (f...l).contains(want), !pool.usedV4.contains(want) {
            pool.usedV4.insert(want)
            v4 = r
        } else if wantIPv4, let f = pool.v4First, let l = pool.v4Last {
            guard let a = Self.take(&pool.nextV4, &pool.usedV4, f, l) else { throw PoolError.exhausted(apn, "IPv4") }
            v4 = IPAddress(bytes: withUnsafeBytes(of: a.bigEndian, Array.init))
        }
        if wantIPv6, let f = pool.v6First, let l = pool.v6Last {
            guard let p = Self.take(&pool.nextV6, &pool.usedV6, f, l) else {
                if let a = v4 { pool.usedV4.remove(Self.v4(a.bytes)) }
                throw PoolError.exhausted(apn, "IPv6")
            }
            // The phone's interface identifier is its own (RFC 7296 §3.15.3); we give ::1 in the prefix.
            v6 = IPAddress(bytes: withUnsafeBytes(of: p.bigEndian, Array.init) + [0, 0, 0, 0, 0, 0, 0, 1])
        }
        return InnerAddresses(ipv4: v4, ipv6: v6, ipv6PrefixLength: 64)
    }

    public func release(_ a: InnerAddresses, imsi: String, apn: String) {
        lock.lock(); defer { lock.unlock() }
        guard let i = pools.firstIndex(where: { $0.apns.contains(apn.lowercased()) }) else { return }
        if let v4 = a.ipv4 { pools[i].usedV4.remove(Self.v4(v4.bytes)) }
        if let v6 = a.ipv6 { pools[i].usedV6.remove(Self.high64(v6.bytes)) }
    }

    /// Addresses in use across all pools (for the startup summary and tests).
    public var inUse: Int {
        lock.lock(); defer { lock.unlock() }
        return pools.reduce(0) { $0 + $1.usedV4.count + $1.usedV6.count }
    }

    /// Next free value in [first, last], starting at the cursor and wrapping once.
    private static func take<T: FixedWidthInteger>(_ next: inout T, _ used: inout Set<T>, _ first: T, _ last: T) -> T? {
        let span = UInt64(last - first) + 1
        var c = next
        for _ in 0..<min(span, 1 << 20) {
            if !used.contains(c) {
                used.insert(c)
                next = c == last ? first : c + 1
                return c
            }
            c = c == last ? first : c + 1
        }
        return nil
    }

    static func v4(_ b: [UInt8]) -> UInt32 { b.prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }
    static func high64(_ b: [UInt8]) -> UInt64 { b.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
}
