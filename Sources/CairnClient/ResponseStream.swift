import CairnWire
import NIOConcurrencyHelpers
import NIOCore

/// The responses of one server stream (a watch), from the connection's handler to the one task
/// that consumes them: a bounded queue and at most one waiting consumer.
///
/// It does what `AsyncStream` with `.bufferingOldest` did here, without its costs on the path
/// of every watch event — the standard library's stream is generic code that is not specialized
/// for the element type, so each yield and each `next()` looked up generic metadata at run time
/// (a fifth of a client's time when it receives a hundred thousand events a second).
final class ResponseStream: @unchecked Sendable {
    /// What became of a yielded response.
    enum YieldResult: Equatable {
        /// Queued, or handed straight to the waiting consumer.
        case enqueued
        /// The queue was full: the response was dropped.
        case dropped
        /// The stream was finished or its consumer went away.
        case terminated
    }

    private let lock = NIOLock()
    private let capacity: Int
    private var queue = CircularBuffer<ClientResponse>()
    private var waiter: UnsafeContinuation<ClientResponse?, Never>?
    private var finished = false
    private var onCancel: (@Sendable () -> Void)?

    /// A stream that holds at most `capacity` responses the consumer has not taken yet.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Sets what runs, once, if the consumer stops before the stream finished: its task was
    /// cancelled while it waited, or it dropped its ``Consumer``.
    func setOnCancel(_ body: @escaping @Sendable () -> Void) {
        lock.withLock { onCancel = body }
    }

    /// Queues `response`, or hands it to the waiting consumer. Any thread.
    func yield(_ response: ClientResponse) -> YieldResult {
        let (result, waiting): (YieldResult, UnsafeContinuation<ClientResponse?, Never>?) = lock.withLock {
            if finished { return (.terminated, nil) }
            if let waiting = waiter {
                waiter = nil
                return (.enqueued, waiting)
            }
            guard queue.count < capacity else { return (.dropped, nil) }
            queue.append(response)
            return (.enqueued, nil)
        }
        waiting?.resume(returning: response)
        return result
    }

    /// Ends the stream: the consumer takes what is queued, then gets nil. Any thread.
    func finish() {
        let waiting: UnsafeContinuation<ClientResponse?, Never>? = lock.withLock {
            finished = true
            onCancel = nil
            defer { waiter = nil }
            return waiter
        }
        waiting?.resume(returning: nil)
    }

    /// The next response; nil once the stream finished and its queue is empty, or when the
    /// consuming task is cancelled.
    func next() async -> ClientResponse? {
        if let ready = lock.withLock({ queue.popFirst() }) { return ready }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<ClientResponse?, Never>) in
                let now: ClientResponse?? = lock.withLock {
                    if let ready = queue.popFirst() { return .some(ready) }
                    if finished { return .some(nil) }
                    waiter = continuation
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
        let (waiting, callback): (UnsafeContinuation<ClientResponse?, Never>?, (@Sendable () -> Void)?) = lock.withLock {
            let callback = finished ? nil : onCancel
            finished = true
            onCancel = nil
            queue.removeAll()
            defer { waiter = nil }
            return (waiter, callback)
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
