import Glibc

/// A pthread mutex in a class (a stable address). Used for the few pieces of state that
/// several threads touch: a loop's task queue, the logger's output.
final class Lock: @unchecked Sendable {
    // @unchecked: the mutex itself is the synchronisation; its storage never moves.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A one-shot value handed from one thread to another: `set` once, `wait` blocks until set.
final class Promise<T>: @unchecked Sendable {
    // @unchecked: `value` is written and read only with `mutex` held; `cond` orders them.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private var value: T?

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func set(_ v: T) {
        pthread_mutex_lock(mutex)
        value = v
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    func wait() -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let v = value { return v }
            pthread_cond_wait(cond, mutex)
        }
    }
}
