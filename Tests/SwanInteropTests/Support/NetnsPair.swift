import Foundation
import Glibc
import XCTest

/// Two network namespaces joined by a veth pair: "a" holds 198.51.100.1 / 2001:db8:51::1, "b"
/// 198.51.100.2 / 2001:db8:51::2 (documentation ranges). Names carry the pid so parallel runs
/// never collide; `destroy` deletes both namespaces (which removes the veth pair).
final class NetnsPair {
    let a: String
    let b: String
    let vethA: String
    let vethB: String
    static let addressA = "198.51.100.1", addressB = "198.51.100.2"
    static let address6A = "2001:db8:51::1", address6B = "2001:db8:51::2"

    init(tag: String) throws {
        let id = "\(tag)\(getpid())"
        a = "swan-\(id)-a"; b = "swan-\(id)-b"
        // Interface names are limited to 15 characters.
        vethA = "sw\(id)a"; vethB = "sw\(id)b"
        Self.reapStale()
        destroy()
        try Shell.must(["ip", "netns", "add", a])
        try Shell.must(["ip", "netns", "add", b])
        try Shell.must(["ip", "link", "add", vethA, "type", "veth", "peer", "name", vethB])
        try Shell.must(["ip", "link", "set", vethA, "netns", a])
        try Shell.must(["ip", "link", "set", vethB, "netns", b])
        for (ns, dev, v4, v6) in [(a, vethA, Self.addressA, Self.address6A), (b, vethB, Self.addressB, Self.address6B)] {
            try Shell.must(["ip", "-n", ns, "link", "set", "lo", "up"])
            try Shell.must(["ip", "-n", ns, "addr", "add", v4 + "/24", "dev", dev])
            try Shell.must(["ip", "-n", ns, "-6", "addr", "add", v6 + "/64", "dev", dev, "nodad"])
            try Shell.must(["ip", "-n", ns, "link", "set", dev, "up"])
        }
    }

    /// A test process that crashed left its namespaces (and the charon inside) behind: names
    /// end in the pid of that process; when it is gone, stop what runs inside and delete them.
    static func reapStale() {
        let list = Shell.run(["ip", "netns", "list"]).output
        for line in list.split(separator: "\n") {
            guard let name = line.split(separator: " ").first.map(String.init), name.hasPrefix("swan-"),
                  let digits = name.split(separator: "-").dropFirst().first?.drop(while: { !$0.isNumber }),
                  let pid = Int32(digits), pid != getpid(), kill(pid, 0) != 0 else { continue }
            for p in Shell.run(["ip", "netns", "pids", name]).output.split(separator: "\n").compactMap({ Int32($0) }) {
                kill(p, SIGTERM)
            }
            usleep(500_000)
            Shell.run(["ip", "netns", "del", name])
        }
    }

    func destroy() {
        for ns in [a, b] { Shell.run(["ip", "netns", "del", ns]) }
        Shell.run(["ip", "link", "del", vethA])
    }

    /// `ip netns exec ns args...`
    static func exec(_ ns: String, _ args: [String]) -> [String] { ["ip", "netns", "exec", ns] + args }
}

/// Skips unless the interop test can run here: root, the tools, /dev/net/tun.
func requireInteropEnvironment(tools: [String]) throws {
    guard getuid() == 0 else {
        throw XCTSkip("strongSwan interop needs root (network namespaces, TUN devices, charon); run the tests as root")
    }
    guard access("/dev/net/tun", F_OK) == 0 else { throw XCTSkip("/dev/net/tun is missing on this host") }
    for t in tools where Shell.which(t) == nil {
        throw XCTSkip("\(t) is not installed (strongswan-charon, strongswan-swanctl, libcharon-extra-plugins, iproute2, openssl, python3, tshark)")
    }
    guard access("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so", F_OK) == 0 else {
        throw XCTSkip("strongSwan's kernel-libipsec plugin is missing (package libcharon-extra-plugins)")
    }
}

/// A scratch directory removed by the caller.
func makeTempDir(_ tag: String) throws -> String {
    let dir = NSTemporaryDirectory() + "swan-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
