import NIOCore
import Synchronization

/// Guards the client's event loop against work scheduled on it from outside once ``close()``
/// began: NIO refuses such work (it is lost, and a future that waits on it never completes) and
/// says future versions will crash the program instead.
///
/// Every call that schedules onto the loop from another thread goes through ``schedule(on:_:)``,
/// which either schedules it before the gate closes or refuses it. `CairnClient.close()` closes
/// the gate and only then shuts the loop down, and a loop that shuts down still runs what was
/// scheduled on it before; so nothing is lost, and nothing reaches a loop that is gone.
///
/// Work already on the loop's thread needs no gate: the loop cannot have finished while it runs.
final class LoopGate: Sendable {
    private let closed = Mutex(false)

    /// Runs `enqueue` unless the gate is closed; says whether it ran. Called from another thread,
    /// `enqueue` must only schedule onto the loop (`execute`, `Channel.close`, `whenComplete` of
    /// one of its futures…): it runs under the gate's lock.
    @discardableResult
    func schedule(on loop: any EventLoop, _ enqueue: () -> Void) -> Bool {
        if loop.inEventLoop {
            enqueue()
            return true
        }
        return closed.withLock { closed in
            guard !closed else { return false }
            enqueue()
            return true
        }
    }

    /// The value of `future`, waited for through the gate; a closed gate throws `closed`.
    func value<T: Sendable>(of future: EventLoopFuture<T>) async throws -> T {
        if future.eventLoop.inEventLoop { return try await future.get() }
        return try await withCheckedThrowingContinuation { continuation in
            let waiting = schedule(on: future.eventLoop) { future.whenComplete { continuation.resume(with: $0) } }
            if !waiting { continuation.resume(throwing: CairnClientError.clientClosed) }
        }
    }

    /// Runs `body` on `loop` and returns its result; a closed gate throws `closed`.
    func run<T: Sendable>(on loop: any EventLoop, _ body: @escaping @Sendable () -> T) async throws -> T {
        if loop.inEventLoop { return body() }
        return try await withCheckedThrowingContinuation { continuation in
            let scheduled = schedule(on: loop) { loop.execute { continuation.resume(returning: body()) } }
            if !scheduled { continuation.resume(throwing: CairnClientError.clientClosed) }
        }
    }

    /// From now on, work from other threads is refused. Call before shutting the loop down.
    func close() {
        closed.withLock { $0 = true }
    }

    var isClosed: Bool { closed.withLock { $0 } }
}

extension CairnClientError {
    static var clientClosed: CairnClientError { CairnClientError(.closed, "the client is closed") }
}
