/// One value per loop of a group, each read and written only on its own loop: how a
/// `@Sendable` closure (which runs on whichever loop owns the work) reaches that loop's
/// non-Sendable state, such as its share of the IKE SAs.
///
/// `@unchecked Sendable`: slot i is only touched on loop i's thread (asserted); the array
/// itself is never resized after init.
public final class LoopLocal<Value>: @unchecked Sendable {
    private var values: [Value?]

    public init(group: EventLoopGroup) {
        values = Array(repeating: nil, count: group.loops.count)
    }

    /// This loop's value (loop thread only).
    public subscript(loop: EventLoop) -> Value? {
        get { loop.assertInLoop(); return values[loop.index] }
        set { loop.assertInLoop(); values[loop.index] = newValue }
    }
}
