import NIOConcurrencyHelpers

/// A value that is set at most once and that any number of tasks can wait for: each
/// ``stream()`` yields it once (at once if it is already set) and finishes. After ``close()``
/// without a value, every stream finishes without yielding.
final class OneShotSignal<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [Int: AsyncStream<Value>.Continuation] = [:]
        var nextWaiter = 0
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    /// The value, once set.
    var value: Value? { state.withLockedValue { $0.value } }

    /// Sets the value and wakes every waiter; later calls do nothing. Returns whether this call
    /// set it.
    @discardableResult
    func fire(_ value: Value) -> Bool {
        let waiters: [AsyncStream<Value>.Continuation]? = state.withLockedValue { s in
            guard s.value == nil, !s.closed else { return nil }
            s.value = value
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters {
            waiter.yield(value)
            waiter.finish()
        }
        return true
    }

    /// Finishes every stream without a value, unless one was set; later ``fire(_:)`` calls do
    /// nothing.
    func close() {
        let waiters: [AsyncStream<Value>.Continuation] = state.withLockedValue { s in
            s.closed = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.finish() }
    }

    /// A stream that yields the value once, when it is set, then finishes.
    func stream() -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self, bufferingPolicy: .bufferingNewest(1))
        let (existing, closed): (Value?, Bool) = state.withLockedValue { s in
            if let value = s.value { return (value, true) }
            if s.closed { return (nil, true) }
            let id = s.nextWaiter
            s.nextWaiter += 1
            s.waiters[id] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            }
            return (nil, false)
        }
        if let existing { continuation.yield(existing) }
        if closed { continuation.finish() }
        return stream
    }
}
