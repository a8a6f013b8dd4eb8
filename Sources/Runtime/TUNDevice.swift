import Foundation
import Glibc

/// A TUN device (layer-3, no packet-info header) on a loop: each IP packet the kernel
/// routes into it arrives in `onPacket`; `write` injects a packet into the kernel.
///
/// `@unchecked Sendable`: loop-confined (all mutable state used on the loop thread only).
public final class TUNDevice: LoopHandler, @unchecked Sendable {
    public let loop: EventLoop
    public let fd: Int32
    /// The kernel's name for the device (as asked, or chosen from a `%d` pattern).
    public let name: String
    public private(set) var isClosed = false
    public private(set) var packetsRead = 0
    public private(set) var writeErrors = 0
    private var onPacket: ((TUNDevice, UnsafeRawBufferPointer) -> Void)?

    static let TUNSETIFF: UInt = 0x4004_54CA
    static let IFF_TUN: Int16 = 0x0001
    static let IFF_NO_PI: Int16 = 0x1000
    static let IFF_MULTI_QUEUE: Int16 = 0x0100

    /// Creates (or attaches to) TUN device `name` and registers it on `loop` (loop thread).
    /// Needs CAP_NET_ADMIN (`RuntimeError.tunNeedsNetAdmin` otherwise). With `multiQueue`,
    /// every loop can open its own queue of the same device (call once per loop with the
    /// same name, all with `multiQueue: true`); the kernel spreads flows over the queues.
    public static func open(name: String, multiQueue: Bool = false, on loop: EventLoop,
                            onPacket: @escaping (TUNDevice, UnsafeRawBufferPointer) -> Void) throws(RuntimeError) -> TUNDevice {
        loop.assertInLoop()
        guard name.utf8.count < Int(IFNAMSIZ) else { throw .tunUnavailable("device name '\(name)' is longer than \(IFNAMSIZ - 1) bytes") }
        let fd = Glibc.open("/dev/net/tun", O_RDWR | Linux.O_NONBLOCK_ | Linux.O_CLOEXEC_)
        if fd < 0 {
            let e = errno
            if e == EACCES || e == EPERM { throw .tunNeedsNetAdmin(device: name) }
            throw .tunUnavailable("cannot open /dev/net/tun: \(String(cString: strerror(e)))")
        }
        var ifr = ifreq()
        withUnsafeMutableBytes(of: &ifr.ifr_ifrn.ifrn_name) { b in
            for (i, c) in name.utf8.enumerated() { b[i] = c }
        }
        ifr.ifr_ifru.ifru_flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0)
        if ioctl(fd, TUNSETIFF, &ifr) < 0 {
            let e = errno
            Glibc.close(fd)
            if e == EPERM || e == EACCES { throw .tunNeedsNetAdmin(device: name) }
            throw .system(call: "ioctl(TUNSETIFF)", context: "TUN \(name)", errno: e)
        }
        let actual = withUnsafeBytes(of: &ifr.ifr_ifrn.ifrn_name) { b in String(decoding: b.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let dev = TUNDevice(loop: loop, fd: fd, name: actual, onPacket: onPacket)
        do { try loop.register(fd: fd, events: Linux.EPOLLIN, handler: dev) } catch { Glibc.close(fd); throw error }
        return dev
    }

    private init(loop: EventLoop, fd: Int32, name: String, onPacket: @escaping (TUNDevice, UnsafeRawBufferPointer) -> Void) {
        self.loop = loop
        self.fd = fd
        self.name = name
        self.onPacket = onPacket
    }

    /// Hands one IP packet to the kernel (loop thread); false if it was refused.
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer) -> Bool {
        loop.assertInLoop()
        guard !isClosed else { return false }
        let n = Glibc.write(fd, packet.baseAddress, packet.count)
        if n != packet.count { writeErrors += 1; return false }
        return true
    }

    @discardableResult
    public func write(_ packet: [UInt8]) -> Bool { packet.withUnsafeBytes { write($0) } }

    func handleEvents(_ events: UInt32) {
        let buf = loop.readBuffer
        for _ in 0..<64 {
            guard !isClosed else { return }
            let n = Glibc.read(fd, buf.baseAddress, buf.count)
            if n <= 0 { return }
            packetsRead += 1
            onPacket?(self, UnsafeRawBufferPointer(start: buf.baseAddress, count: n))
        }
    }

    /// Closes the descriptor; the kernel deletes a non-persistent device with it.
    public func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
        onPacket = nil
    }

    func closeForShutdown() { close() }

    // MARK: - configuration with iproute2

    /// Sets the device up with addresses (`198.18.0.1/24`, `2001:db8::1/64`), MTU and
    /// routes (`198.51.100.0/24`) by running `ip`. Blocking: call it at startup, not on a
    /// busy loop.
    public static func configure(name: String, addresses: [String], routes: [String] = [], mtu: Int? = nil) throws(RuntimeError) {
        if let mtu { try IPRoute2.run(["link", "set", "dev", name, "mtu", String(mtu)]) }
        for a in addresses {
            try IPRoute2.run([a.contains(":") ? "-6" : "-4", "addr", "add", a, "dev", name])
        }
        try IPRoute2.run(["link", "set", "dev", name, "up"])
        for r in routes {
            try IPRoute2.run([r.contains(":") ? "-6" : "-4", "route", "replace", r, "dev", name])
        }
    }
}

/// Runs `ip` (iproute2) and reports its stderr when it fails.
public enum IPRoute2 {
    public static var path: String {
        for p in ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"] where access(p, X_OK) == 0 { return p }
        return "ip"
    }

    /// Runs `ip args...`; returns its stdout.
    @discardableResult
    public static func run(_ args: [String]) throws(RuntimeError) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let command = "ip " + args.joined(separator: " ")
        do { try p.run() } catch {
            throw .commandFailed(command: command, status: -1, output: "\(error)")
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let msg = String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if msg.contains("Operation not permitted") {
                throw .commandFailed(command: command, status: p.terminationStatus, output: msg + " (needs CAP_NET_ADMIN)")
            }
            throw .commandFailed(command: command, status: p.terminationStatus, output: msg)
        }
        return String(decoding: o, as: UTF8.self)
    }
}
