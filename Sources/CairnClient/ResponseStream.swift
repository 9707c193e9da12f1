import CairnWire
import NIOCore
import Synchronization

/// The responses of one server stream (a watch), from the connection's handler to the one task
/// that consumes them: a bounded queue and at most one waiting consumer.
///
/// It does what `AsyncStream` with `.bufferingOldest` did here, without its costs on the path
/// of every watch event — the standard library's stream is generic code that is not specialized
/// for the element type, so each yield and each `next()` looked up generic metadata at run time
/// (a fifth of a client's time when it receives a hundred thousand events a second).
///
/// The state sits under a `Mutex` stored inline: with ten thousand watches each event touches a
/// different stream, whose memory is rarely in the cache, so one object rather than an object and
/// a separately allocated lock is one cache miss fewer per event.
final class ResponseStream: Sendable {
    /// What became of a yielded response.
    enum YieldResult: Equatable {
        /// Queued, or handed straight to the waiting consumer.
        case enqueued
        /// The queue was full: the response was dropped.
        case dropped
        /// The stream was finished or its consumer went away.
        case terminated
    }

    private struct State {
        var queue = CircularBuffer<ClientResponse>()
        var waiter: UnsafeContinuation<ClientResponse?, Never>?
        var finished = false
        var onCancel: (@Sendable () -> Void)?
    }

    private let capacity: Int
    private let state = Mutex(State())

    /// A stream that holds at most `capacity` responses the consumer has not taken yet.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Sets what runs, once, if the consumer stops before the stream finished: its task was
    /// cancelled while it waited, or it dropped its ``Consumer``.
    func setOnCancel(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.onCancel = body }
    }

    /// Queues `response`, or hands it to the waiting consumer. Any thread.
    func yield(_ response: ClientResponse) -> YieldResult {
        let capacity = capacity
        let (result, waiting): (YieldResult, UnsafeContinuation<ClientResponse?, Never>?) = state.withLock { state in
            if state.finished { return (.terminated, nil) }
            if let waiting = state.waiter {
                state.waiter = nil
                return (.enqueued, waiting)
            }
            guard state.queue.count < capacity else { return (.dropped, nil) }
            state.queue.append(response)
            return (.enqueued, nil)
        }
        waiting?.resume(returning: response)
        return result
    }

    /// Ends the stream: the consumer takes what is queued, then gets nil. Any thread.
    func finish() {
        let waiting: UnsafeContinuation<ClientResponse?, Never>? = state.withLock { state in
            state.finished = true
            state.onCancel = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiting?.resume(returning: nil)
    }

    /// The next response; nil once the stream finished and its queue is empty, or when the
    /// consuming task is cancelled.
    func next() async -> ClientResponse? {
        if let ready = state.withLock({ $0.queue.popFirst() }) { return ready }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<ClientResponse?, Never>) in
                let now: ClientResponse?? = state.withLock { state in
                    if let ready = state.queue.popFirst() { return .some(ready) }
                    if state.finished { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// The consumer stopped: ends the stream and runs `onCancel` (once, and only if the stream
    /// had not finished).
    func cancel() {
        let (waiting, callback): (UnsafeContinuation<ClientResponse?, Never>?, (@Sendable () -> Void)?) = state.withLock { state in
            let callback = state.finished ? nil : state.onCancel
            state.finished = true
            state.onCancel = nil
            state.queue.removeAll()
            defer { state.waiter = nil }
            return (state.waiter, callback)
        }
        waiting?.resume(returning: nil)
        callback?()
    }

    /// The consumer's handle: when the last copy goes away, the stream is cancelled, as an
    /// abandoned `AsyncStream` is.
    final class Consumer: Sendable {
        let stream: ResponseStream
        init(_ stream: ResponseStream) { self.stream = stream }
        deinit { stream.cancel() }

        /// ``ResponseStream/next()``.
        func next() async -> ClientResponse? { await stream.next() }
    }
}
