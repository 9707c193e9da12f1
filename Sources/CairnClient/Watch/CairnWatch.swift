import CairnWire
import NIOConcurrencyHelpers

/// A resumable watch: the changes of a key, a prefix, a service or the service list, pushed by
/// the servers, as an `AsyncSequence` of ``WatchEvent``s.
///
/// ```swift
/// for try await event in client.watch(.keyPrefix("config/")) {
///     guard case .keys(let changes, let snapshot) = event.payload else { continue }
///     if snapshot { cache.removeAll() }          // a full re-read: replace, don't merge
///     for change in changes { cache[change.key] = change.entry }
/// }
/// ```
///
/// Guarantees, whatever happens to servers and connections while it runs:
/// - Events arrive in strictly increasing ``WatchEvent/index`` order, at most one per index.
/// - Nothing is missed: when a stream breaks (the connection drops, the server restarts or shuts
///   down, leadership moves, the server finds the consumer too slow, the client's buffer fills)
///   the watch reconnects — to any configured server, with a capped backoff — and resumes after
///   the last index it delivered. The consumer sees nothing of it.
/// - One exception: when the server no longer has the history since that index
///   (``ClientErrorCode/historyCompacted``), the watch starts over and the next event is a
///   **snapshot** — for key watches ``WatchEvent/Payload/keys(_:snapshot:)`` with
///   `snapshot: true` holding every present key. Treat it as a full re-read: keys you know that
///   it does not list were deleted. (Service and service-list events always carry the full
///   current list.)
/// - A watch from index 0 starts with such a snapshot of the current state.
///
/// The sequence ends by throwing ``CairnClientError`` only for what retrying cannot fix: a
/// rejected target (bad key), an unknown operation, unusable TLS files, a closed client, or —
/// with ``WatchOptions/maxAttemptsWithoutProgress`` — no server for too long. Cancelling the
/// consuming task, or leaving the `for try await` loop, ends it without an error and tells the
/// server to stop the stream.
///
/// Each iteration (each `makeAsyncIterator()`) runs its own server stream; ``statistics`` adds
/// up all of them.
public struct CairnWatch: AsyncSequence, Sendable {
    /// Each element is one event.
    public typealias Element = WatchEvent
    /// Ends by throwing a ``CairnClientError`` (see the type's documentation).
    public typealias Failure = any Error

    private let client: CairnClient
    /// What is watched.
    public let target: WatchTarget
    /// The index the watch started after (0: it starts with the current state).
    public let fromIndex: UInt64
    /// Buffering and retry limits.
    public let options: WatchOptions
    /// Counters of what the watch's iterations did.
    public let statistics: WatchStatistics

    init(client: CairnClient, target: WatchTarget, fromIndex: UInt64, options: WatchOptions) {
        self.client = client
        self.target = target
        self.fromIndex = fromIndex
        self.options = options
        self.statistics = WatchStatistics()
    }

    /// Starts an iteration; its server stream opens on the first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, target: target, options: options, statistics: statistics,
                 resumer: WatchResumer(fromIndex: fromIndex, maxAttemptsWithoutProgress: options.maxAttemptsWithoutProgress))
    }

    /// One iteration of a ``CairnWatch``: the shell that runs a ``WatchResumer``.
    ///
    /// A one-reference handle on the iteration's state, so that generic code iterating any
    /// `AsyncSequence` (a watch per task, ten thousand tasks) copies a pointer per event rather
    /// than the whole state.
    public struct Iterator: AsyncIteratorProtocol {
        private let core: IteratorCore

        init(client: CairnClient, target: WatchTarget, options: WatchOptions, statistics: WatchStatistics, resumer: WatchResumer) {
            core = IteratorCore(client: client, target: target, options: options, statistics: statistics, resumer: resumer)
        }

        /// The next event; nil when the consuming task was cancelled.
        public mutating func next() async throws -> WatchEvent? {
            try await core.next(isolation: nil)
        }

        /// The next event; nil when the consuming task was cancelled.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> WatchEvent? {
            try await core.next(isolation: actor)
        }
    }

    /// The state and logic of an ``Iterator``.
    final class IteratorCore {
        private let client: CairnClient
        private let target: WatchTarget
        private let options: WatchOptions
        private let statistics: WatchStatistics
        private var resumer: WatchResumer
        /// What to do when no stream is open; nil once the watch is over.
        private var nextAction: WatchResumer.Action?
        private var connection: ClientConnection?
        private var responses: ResponseStream.Consumer?
        /// Holds the open stream; cancels it when the last copy of the iterator goes away.
        private let current = StreamHolder()

        init(client: CairnClient, target: WatchTarget, options: WatchOptions, statistics: WatchStatistics, resumer: WatchResumer) {
            self.client = client
            self.target = target
            self.options = options
            self.statistics = statistics
            self.resumer = resumer
            self.nextAction = resumer.start()
        }

        /// The next event; nil when the consuming task was cancelled.
        func next(isolation actor: isolated (any Actor)?) async throws -> WatchEvent? {
            // Each pass either delivers an event, drops a stale one, or handles one stream end;
            // stream ends are spaced by the resumer's backoff and bounded by its attempt limit.
            while true {
                if Task.isCancelled { return stop() }
                if responses == nil {
                    guard let action = nextAction else { return nil }
                    nextAction = nil
                    switch action {
                    case .fail(let error):
                        current.cancel()
                        throw error
                    case .watch(let fromIndex, let delay, let switchServer):
                        if delay > .zero {
                            do { try await Task.sleep(for: delay) } catch { return stop() }
                        }
                        await open(fromIndex: fromIndex, switchServer: switchServer, isolation: actor)
                        continue
                    }
                }
                if let response = await responses?.next() {
                    guard case .watchEvent(let event) = response else { continue }
                    switch resumer.received(event) {
                    case .deliver:
                        statistics.record(delivered: 1)
                        return event
                    case .drop:
                        statistics.record(dropped: 1)
                        continue
                    }
                }
                responses = nil
                if Task.isCancelled { return stop() }
                let end = current.take()?.end
                if end == .cancelled { return nil }
                let reason = Self.streamEnd(end)
                nextAction = resumer.ended(reason)
                if case .watch = nextAction { statistics.record(resumes: 1) }
            }
        }

        /// Connects (to another server first when `switchServer`) and opens the stream; a
        /// failure becomes the resumer's next decision.
        private func open(fromIndex: UInt64, switchServer: Bool, isolation actor: isolated (any Actor)?) async {
            if switchServer, let connection {
                client.drop(connection, .watches)
                client.rotate(.watches, awayFrom: connection.address)
            }
            do {
                let connection = try await client.currentConnection(.watches, timeout: client.configuration.requestTimeout)
                self.connection = connection
                let stream = try await connection.openStream(.watch(target, fromIndex: fromIndex), capacity: options.bufferCapacity)
                current.set(stream)
                responses = stream.responses
            } catch {
                let failure = error as? CairnClientError
                    ?? (client.isClosed ? CairnClientError.clientClosed : CairnClientError(.unreachable, "\(error)"))
                nextAction = resumer.ended(.connectFailed(failure))
                if case .watch = nextAction { statistics.record(resumes: 1) }
            }
        }

        /// Ends the iteration for a cancelled consumer.
        private func stop() -> WatchEvent? {
            current.cancel()
            responses = nil
            nextAction = nil
            return nil
        }

        private static func streamEnd(_ end: StreamEnd?) -> WatchResumer.StreamEnd {
            switch end {
            case .server(.error(let code, let message)):
                return .serverError(code, message: message)
            case .server(.notLeader):
                return .redirected
            case .server:
                return .unexpectedResponse("a response of the wrong kind")
            case .overflow:
                return .clientBufferFull
            case .connectionLost(let error):
                return .connectionLost(error.reason)
            case .cancelled, nil:
                return .connectionLost("the stream ended")
            }
        }
    }
}

/// The open server stream of a watch iteration. When the iteration is dropped (the consumer
/// left its loop), this goes with it and cancels the stream on the server.
final class StreamHolder: Sendable {
    private let stream = NIOLockedValueBox<ServerStream?>(nil)

    func set(_ value: ServerStream) { stream.withLockedValue { $0 = value } }

    func take() -> ServerStream? { stream.withLockedValue { s in defer { s = nil }; return s } }

    func cancel() { take()?.cancel() }

    deinit { cancel() }
}
