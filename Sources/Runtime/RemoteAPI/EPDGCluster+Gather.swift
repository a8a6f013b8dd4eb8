import Synchronization

extension EPDGCluster {
    /// Runs `body` on every shard, on that shard's loop (its state is that loop's alone), and
    /// hands the results in shard order to `done` on whichever loop finishes last. A shard
    /// whose loop has stopped contributes nothing.
    func gather<T: Sendable>(_ body: @escaping @Sendable (EPDGService) -> T, done: @escaping @Sendable ([T]) -> Void) {
        let g = Gathering<T>(count: shards.count, done: done)
        for (i, s) in shards.enumerated() {
            if !group.loops[i].execute({ g.put(i, body(s)) }) { g.put(i, nil) }
        }
    }
}

/// Results arriving from several loops; the last one in calls `done`.
final class Gathering<T: Sendable>: Sendable {
    private let state: Mutex<(results: [T?], left: Int)>
    private let done: @Sendable ([T]) -> Void

    init(count: Int, done: @escaping @Sendable ([T]) -> Void) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.done = done
        if count == 0 { done([]) }
    }

    func put(_ i: Int, _ value: T?) {
        let finished: [T]? = state.withLock { s in
            s.results[i] = value
            s.left -= 1
            return s.left == 0 ? s.results.compactMap { $0 } : nil
        }
        if let finished { done(finished) }
    }
}
