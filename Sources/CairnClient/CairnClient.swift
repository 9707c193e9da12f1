import CairnRaft
import CairnTLS
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The Swift client library for a Cairn cluster.
///
/// It keeps one mutual-TLS connection open for requests (to the leader once it knows it),
/// pipelines any number of concurrent requests over it, follows "not leader" answers to the
/// leader, and fails over to another server when one dies. It retries only what is safe: reads,
/// writes that leave the same state when applied twice (registering a service, renewing a
/// session, acquiring a lock for the same session…), requests refused before being applied (not
/// leader, no leader) and requests that could not be sent at all. Any other write whose
/// connection dropped after it was sent fails with ``CairnClientError/Code/outcomeUnknown``.
///
/// Watches (``watch(_:fromIndex:options:)``) share a second connection, to any server: they do
/// not need the leader, and a server that cuts them does not disturb the requests.
///
/// The API is grouped by module: KV (`get`, `put`, `list`, `acquire`, `transaction`…), catalog
/// (`register`, `service`, `updateCheck`…), sessions (`createSession`, ``SessionKeeper``),
/// watches, locks (``CairnLock``, ``LeaderElection``) and snapshots.
///
/// ```swift
/// let client = try CairnClient(configuration: .fromEnvironment()!)
/// try await client.put("config/db/url", value: Array("postgres://db".utf8))
/// let entry = try await client.get("config/db/url")
/// await client.close()
/// ```
public final class CairnClient: Sendable {
    /// How the client reaches the cluster.
    public let configuration: ClientConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let tls: MutualTLSContext
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    private let loopExecutor: EventLoopTaskExecutor
    /// Keeps work off the loop once ``close()`` began (see ``LoopGate``).
    private let gate = LoopGate()

    /// Which of the client's two connections a request travels on.
    enum Lane: Sendable {
        /// Requests: prefers the leader, follows `notLeader` answers.
        case requests
        /// Watch streams: any server.
        case watches
    }

    /// One lane's connection and where it dials next.
    private struct Slot {
        var connection: ClientConnection?
        var preferred: String?
        var next: Int
        /// The dial in progress, which every caller that needs a connection meanwhile awaits
        /// (a thousand watches opened at once share one connection, not a thousand handshakes).
        var dialing: Dial?
    }

    /// A dial in progress: where to, and the task whose result is the connection.
    private struct Dial {
        var id: UInt64
        var address: String
        var task: Task<ClientConnection, any Error>
    }

    private struct State {
        var requests: Slot
        var watches: Slot
        var closed = false
        var dials: UInt64 = 0

        subscript(lane: Lane) -> Slot {
            get { lane == .requests ? requests : watches }
            set { if lane == .requests { requests = newValue } else { watches = newValue } }
        }
    }

    /// Loads the TLS files and prepares the client; connects lazily on the first request.
    ///
    /// - Throws: ``CairnClientError`` `unreachable` when no address is configured, `tls` when the
    ///   certificate files cannot be used.
    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "cairn.client")) throws {
        guard !configuration.addresses.isEmpty else { throw CairnClientError(.unreachable, "no server address given (CAIRN_ADDR / --addr)") }
        do {
            let identity = try TLSIdentity(caFile: configuration.caFile, certificateFile: configuration.certificateFile, keyFile: configuration.keyFile)
            tls = try MutualTLSContext.clientDialer(identity: identity, datacenter: configuration.datacenter)
        } catch let error as CairnTLSError {
            throw CairnClientError(.tls, error.reason)
        }
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loopExecutor = EventLoopTaskExecutor(eventLoop: group.next(), gate: gate)
        // Watches start on a different server than requests when there are several: they spread
        // the streaming load away from the leader.
        let watchStart = configuration.addresses.count > 1 ? 1 : 0
        self.state = NIOLockedValueBox(State(requests: Slot(next: 0), watches: Slot(next: watchStart)))
    }

    /// The thread the client's connections run on, as a task executor. Tasks that send many
    /// small requests through this client run fastest on it: a request leaves, and the task
    /// resumes with the answer, on the connection's own thread, with no hand-off to Swift's
    /// global pool and back. Never block in such a task.
    ///
    /// ```swift
    /// await withTaskExecutorPreference(client.taskExecutor) {
    ///     for i in 0..<1_000 { _ = try? await client.put("load/\(i)", value: value) }
    /// }
    /// ```
    public var taskExecutor: any TaskExecutor { loopExecutor }

    // MARK: - Operator

    /// Every server of the cluster, as the leader sees it (or, with no reachable leader, as the
    /// answering server does).
    public func members() async throws -> [MemberInfo] {
        guard case .members(let members) = try await perform(.members, idempotent: true) else { throw unexpected() }
        return members
    }

    /// Removes server `id` from the Raft configuration; returns the index of the change.
    @discardableResult
    public func removePeer(id: NodeID) async throws -> UInt64 {
        guard case .peerRemoved(let index) = try await perform(.removePeer(id: id), idempotent: false) else { throw unexpected() }
        return index
    }

    /// Closes the connections and the client's threads. Requests in flight fail; watches end
    /// with ``CairnClientError/Code/closed``.
    public func close() async {
        let connections = state.withLockedValue { s -> [ClientConnection] in
            s.closed = true
            defer {
                s.requests.connection = nil
                s.watches.connection = nil
            }
            return [s.requests.connection, s.watches.connection].compactMap { $0 }
        }
        for connection in connections { connection.close() }
        // Nothing is scheduled on the loop from elsewhere after this (see `LoopGate`).
        gate.close()
        try? await group.shutdownGracefully()
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    // MARK: - Requests

    func unexpected() -> CairnClientError {
        CairnClientError(.protocolViolation, "the server answered with a response of the wrong kind")
    }

    /// Sends `request`, following leaders and failing over; returns the first final answer.
    ///
    /// `idempotent` says whether sending the request twice leaves the same state as sending it
    /// once: only then is it sent again after its connection dropped with the request in flight.
    func perform(_ request: ClientRequest, idempotent: Bool) async throws -> ClientResponse {
        let deadline = ContinuousClock.now + configuration.requestTimeout
        var lastError: CairnClientError? = nil
        for attempt in 0..<max(1, configuration.maxAttempts) {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            if attempt > 0, lastError?.code != .tls {
                // Back off a little between attempts (20, 40, 80, then every 100 ms): an election
                // takes a few hundred milliseconds, and a short, capped pause finds the new leader
                // soon after it is elected.
                try await Task.sleep(for: .milliseconds(min(100, 10 << min(attempt, 4))))
            }
            let connection: ClientConnection
            do {
                connection = try await currentConnection(.requests, timeout: remaining)
            } catch let error as CairnClientError {
                lastError = error
                if error.code == .tls || error.code == .closed { throw error }
                continue  // the failed dial already moved the lane to the next server
            }
            let response: ClientResponse
            do {
                response = try await connection.send(request, timeout: .milliseconds(Self.milliseconds(remaining)))
            } catch let error as CairnClientError {
                if error.code == .timeout {
                    // Only this request is late: the others on the connection keep their chance.
                    retire(connection, .requests)
                    throw error
                }
                // Not sent, and no server would take it: the connection is fine.
                if error.code == .requestTooLarge { throw error }
                drop(connection, .requests)
                if error.code == .outcomeUnknown && !idempotent { throw error }
                lastError = error
                rotate(.requests, awayFrom: connection.address)
                continue
            }
            switch response {
            case .notLeader(_, let leaderAddress):
                lastError = CairnClientError(.unreachable, "\(connection.address) is not the leader")
                // Requests sent before this answer are still on the connection: let them finish
                // (they hear "not the leader" too, and follow) rather than cut them off.
                if !leaderAddress.isEmpty && leaderAddress != connection.address {
                    state.withLockedValue { $0.requests.preferred = leaderAddress }
                    retire(connection, .requests)
                } else {
                    retire(connection, .requests)
                    rotate(.requests, awayFrom: connection.address)
                }
                continue
            case .error(let code, let message) where code == .noLeader || code == .shuttingDown:
                lastError = CairnClientError(.server, "\(connection.address): \(message)", serverCode: code)
                retire(connection, .requests)
                rotate(.requests, awayFrom: connection.address)
                continue
            case .error(let code, let message):
                throw CairnClientError(.server, "\(code): \(message)", serverCode: code)
            default:
                return response
            }
        }
        if ContinuousClock.now >= deadline {
            throw CairnClientError(.timeout, "no answer within \(configuration.requestTimeout)" + (lastError.map { " (last: \($0.reason))" } ?? ""))
        }
        throw lastError ?? CairnClientError(.unreachable, "no server answered")
    }

    /// Whole milliseconds in `duration`, at least 1.
    static func milliseconds(_ duration: Duration) -> Int64 {
        max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Makes `lane` dial the next configured address the next time it connects — unless it
    /// already moved away from `address`: many requests or watches that lose the same connection
    /// at once then move on by one server, not by one each (which could land on the dead one).
    func rotate(_ lane: Lane, awayFrom address: String) {
        state.withLockedValue { s in
            guard Self.target(of: s[lane], in: configuration) == address else { return }
            s[lane].preferred = nil
            s[lane].next += 1
        }
    }

    /// The address `slot` dials next.
    private static func target(of slot: Slot, in configuration: ClientConfiguration) -> String {
        slot.preferred ?? configuration.addresses[slot.next % configuration.addresses.count]
    }

    /// Forgets `connection` if it is still `lane`'s connection, and closes it once the requests
    /// on it have finished (``ClientConnection/retire()``).
    func retire(_ connection: ClientConnection, _ lane: Lane) {
        state.withLockedValue { s in
            if s[lane].connection === connection { s[lane].connection = nil }
        }
        connection.retire()
    }

    /// Closes `connection` and forgets it if it is still `lane`'s connection.
    func drop(_ connection: ClientConnection, _ lane: Lane) {
        state.withLockedValue { s in
            if s[lane].connection === connection { s[lane].connection = nil }
        }
        connection.close()
    }

    /// `lane`'s open connection, or a new one to the address it dials next. Callers that arrive
    /// while a dial is in progress wait for that dial — for at most `timeout`, even when the dial
    /// itself, started by a caller with more time, may take longer.
    func currentConnection(_ lane: Lane, timeout: Duration) async throws -> ClientConnection {
        enum Next { case existing(ClientConnection), dialed(Task<ClientConnection, any Error>), join(Dial), closed }
        let next: Next = state.withLockedValue { s in
            if s.closed { return .closed }
            if let c = s[lane].connection, c.isActive { return .existing(c) }
            if let dialing = s[lane].dialing { return .join(dialing) }
            let address = Self.target(of: s[lane], in: configuration)
            let ms = min(5_000, Self.milliseconds(timeout))
            s.dials += 1
            let id = s.dials
            let task = Task { [self, group, gate, tls, logger] in
                let outcome: Result<ClientConnection, any Error>
                do {
                    outcome = .success(try await ClientConnection.connect(to: address, group: group, gate: gate, tls: tls, logger: logger, timeout: .milliseconds(ms)))
                } catch let error as CairnClientError {
                    outcome = .failure(error)
                } catch {
                    outcome = .failure(CairnClientError(.unreachable, "\(address): \(error)"))
                }
                return try finishDial(lane, id: id, outcome).get()
            }
            s[lane].dialing = Dial(id: id, address: address, task: task)
            return .dialed(task)
        }
        switch next {
        case .closed:
            throw CairnClientError.clientClosed
        case .existing(let connection):
            return connection
        case .dialed(let task):
            // This caller's own dial: it ends within `timeout` by itself.
            return try await task.value
        case .join(let dial):
            guard let outcome = await Self.result(of: dial.task, within: timeout) else {
                throw CairnClientError(.timeout, "no connection to \(dial.address) within \(timeout) (a dial to it, started earlier, is still in progress)")
            }
            return try outcome.get()
        }
    }

    /// Records how dial `id` of `lane` ended, for every caller waiting for it and those after
    /// them; a connection that arrives after ``close()`` is closed at once.
    private func finishDial(_ lane: Lane, id: UInt64, _ outcome: Result<ClientConnection, any Error>) -> Result<ClientConnection, any Error> {
        let closed = state.withLockedValue { s in
            if s[lane].dialing?.id == id {
                s[lane].dialing = nil
                switch outcome {
                case .success(let connection): if !s.closed { s[lane].connection = connection }
                case .failure:
                    s[lane].preferred = nil
                    s[lane].next += 1
                }
            }
            return s.closed
        }
        if case .success(let connection) = outcome, closed {
            connection.close()
            return .failure(CairnClientError.clientClosed)
        }
        return outcome  // a CairnClientError when it failed: the dial task converts every error
    }

    /// `task`'s result, or nil when it has none within `timeout`; the task keeps running.
    static func result<T: Sendable>(of task: Task<T, any Error>, within timeout: Duration) async -> Result<T, any Error>? {
        let waiting = NIOLockedValueBox<CheckedContinuation<Result<T, any Error>?, Never>?>(nil)
        // Whichever comes first resumes the caller; the other finds nothing left to resume.
        let finish: @Sendable (Result<T, any Error>?) -> Void = { outcome in
            waiting.withLockedValue { c in
                defer { c = nil }
                return c
            }?.resume(returning: outcome)
        }
        return await withCheckedContinuation { continuation in
            waiting.withLockedValue { $0 = continuation }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                finish(nil)
            }
            Task {
                finish(await task.result)
                timer.cancel()  // after `finish`: a cancelled timer's own `finish(nil)` then finds nothing
            }
        }
    }
}
