import Glibc

/// Linux calls that Swift's Glibc module does not import (epoll, eventfd, signalfd,
/// recvmmsg/sendmmsg). They are looked up once in the C library with `dlsym`, so the
/// package needs no C shim target. Constants are the Linux ABI values (stable).
enum Linux {
    typealias EpollCreate1 = @convention(c) (Int32) -> Int32
    typealias EpollCtl = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    typealias SignalFD = @convention(c) (Int32, UnsafePointer<sigset_t>?, Int32) -> Int32
    typealias RecvMMsg = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutablePointer<timespec>?) -> Int32
    typealias SendMMsg = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32

    static let EPOLLIN: UInt32 = 0x001
    static let EPOLLOUT: UInt32 = 0x004
    static let EPOLLERR: UInt32 = 0x008
    static let EPOLLHUP: UInt32 = 0x010
    static let EPOLLRDHUP: UInt32 = 0x2000
    static let EPOLL_CTL_ADD: Int32 = 1
    static let EPOLL_CTL_DEL: Int32 = 2
    static let EPOLL_CTL_MOD: Int32 = 3
    static let O_CLOEXEC_: Int32 = 0o2000000
    static let O_NONBLOCK_: Int32 = 0o4000
    static let MSG_TRUNC_: Int32 = 0x20

    /// `struct epoll_event` is packed (12 bytes) on x86_64 and naturally aligned (16) elsewhere.
    #if arch(x86_64)
    static let epollEventSize = 12
    static let epollDataOffset = 4
    #else
    static let epollEventSize = 16
    static let epollDataOffset = 8
    #endif

    private static func symbol<T>(_ name: String, as type: T.Type) -> T {
        // dlopen(nil) is the global symbol scope of the process, which includes libc.
        let handle = dlopen(nil, RTLD_NOW)
        guard let pointer = dlsym(handle, name) else {
            fatalError("libc has no \(name): the Runtime layer needs Linux (glibc)")
        }
        return unsafeBitCast(pointer, to: type)
    }

    static let epoll_create1 = symbol("epoll_create1", as: EpollCreate1.self)
    static let epoll_ctl = symbol("epoll_ctl", as: EpollCtl.self)
    static let epoll_wait = symbol("epoll_wait", as: EpollWait.self)
    static let eventfd = symbol("eventfd", as: EventFD.self)
    static let signalfd = symbol("signalfd", as: SignalFD.self)
    static let recvmmsg = symbol("recvmmsg", as: RecvMMsg.self)
    static let sendmmsg = symbol("sendmmsg", as: SendMMsg.self)
    typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32
    static let accept4 = symbol("accept4", as: Accept4.self)
    typealias SetThreadName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32
    static let pthread_setname_np = symbol("pthread_setname_np", as: SetThreadName.self)

    /// Adds, modifies or removes `fd` in an epoll set with `data` as the cookie.
    static func epollControl(_ epfd: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64) -> Int32 {
        var raw = (UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &raw) { buf in
            buf.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            buf.storeBytes(of: data, toByteOffset: epollDataOffset, as: UInt64.self)
            return epoll_ctl(epfd, op, fd, buf.baseAddress)
        }
    }
}

/// `struct mmsghdr`: a msghdr followed by the byte count of that message. Swift lays out
/// this struct like C (msghdr at 0, msg_len at 56, stride 64 on LP64).
struct MMsgHdr {
    var msg_hdr = msghdr()
    var msg_len: UInt32 = 0
}

@inline(__always) func currentErrno() -> Int32 { errno }
