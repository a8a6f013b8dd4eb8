import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Process {
    /// Waits for the child with waitpid and returns its exit status (128 + signal when killed).
    /// Foundation's `waitUntilExit` relies on its SIGCHLD watcher, which here once missed the
    /// exit of a `vowifi bench sip` that had started Kamailio: the child stayed a zombie and
    /// the test hung until CI's timeout. If Foundation reaped the child first, its own status
    /// is used.
    public func waitForExitStatus() -> Int32 {
        var st: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(processIdentifier, &st, 0) } while r < 0 && errno == EINTR
        guard r == processIdentifier else {
            waitUntilExit()
            return terminationStatus
        }
        return st & 0x7f == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
    }
}
