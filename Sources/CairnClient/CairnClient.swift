import CairnRaft
import CairnTLS
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The Swift client library for a Cairn cluster.
///
/// It keeps one mutual-TLS connection open (to the leader once it knows it), pipelines any number
/// of concurrent requests over it, follows "not leader" answers to the leader, and fails over to
/// another server when one dies. It retries only what is safe: reads, requests refused before
/// being applied (not leader, no leader) and requests that could not be sent at all. A write whose
/// connection dropped after it was sent fails with ``CairnClientError/Code/outcomeUnknown``.
///
/// ```swift
/// let client = try CairnClient(configuration: .fromEnvironment()!)
/// try await client.put("config/db/url", value: Array("postgres://db".utf8))
/// let entry = try await client.get("config/db/url")
/// ```
public final class CairnClient: Sendable {
    public let configuration: ClientConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let tls: MutualTLSContext
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var connection: ClientConnection?
        var connecting: Task<ClientConnection, any Error>?
        var preferred: String?
        var next = 0
        var closed = false
    }

    /// Loads the TLS files and prepares the client; connects lazily on the first request.
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
    }

    // MARK: - KV

    /// The entry for `key`, or nil when it does not exist. Linearizable unless `consistency` is `.stale`.
    public func get(_ key: String, consistency: ReadConsistency = .linearizable) async throws -> KVEntry? {
        guard case .kvGet(let entry, _) = try await perform(.kvGet(key: key, consistency: consistency), idempotent: true) else {
            throw unexpected()
        }
        return entry
    }

    /// Writes `key`. With `cas`, only if its modify index equals `cas` (0: only if absent).
    /// Returns whether it applied and the Raft index of the write.
    @discardableResult
    public func put(_ key: String, value: [UInt8], flags: UInt64 = 0, cas: UInt64? = nil) async throws -> (succeeded: Bool, index: UInt64) {
        guard case .kvPut(let ok, let index) = try await perform(.kvPut(key: key, value: value, flags: flags, cas: cas), idempotent: false) else {
            throw unexpected()
        }
        return (ok, index)
    }

    /// Deletes `key`. With `cas`, only if its modify index equals `cas`.
    @discardableResult
    public func delete(_ key: String, cas: UInt64? = nil) async throws -> (succeeded: Bool, index: UInt64) {
        guard case .kvDelete(let ok, let index) = try await perform(.kvDelete(key: key, cas: cas), idempotent: false) else {
            throw unexpected()
        }
        return (ok, index)
    }

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

    /// Closes the connection and the client's threads.
    public func close() async {
        let connection = state.withLockedValue { s -> ClientConnection? in
            s.closed = true
            defer { s.connection = nil }
            return s.connection
        }
        connection?.close()
        try? await group.shutdownGracefully()
    }

    // MARK: - Requests

    private func unexpected() -> CairnClientError {
        CairnClientError(.protocolViolation, "the server answered with a response of the wrong kind")
    }

    /// Sends `request`, following leaders and failing over; returns the first final answer.
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
                connection = try await currentConnection(timeout: remaining)
            } catch let error as CairnClientError {
                lastError = error
                if error.code == .tls || error.code == .closed { throw error }
                rotate()
                continue
            }
            let response: ClientResponse
            do {
                let ms = max(1, Int64(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
                response = try await connection.send(request, timeout: .milliseconds(ms)).get()
            } catch let error as CairnClientError {
                drop(connection)
                if error.code == .outcomeUnknown && !idempotent { throw error }
                if error.code == .timeout { throw error }
                lastError = error
                rotate()
                continue
            }
            switch response {
            case .notLeader(_, let leaderAddress):
                lastError = CairnClientError(.unreachable, "\(connection.address) is not the leader")
                if !leaderAddress.isEmpty && leaderAddress != connection.address {
                    state.withLockedValue { $0.preferred = leaderAddress }
                    drop(connection)
                } else {
                    drop(connection)
                    rotate()
                }
                continue
            case .error(let code, let message) where code == .noLeader || code == .shuttingDown:
                lastError = CairnClientError(.server, "\(connection.address): \(message)")
                drop(connection)
                rotate()
                continue
            case .error(let code, let message):
                throw CairnClientError(.server, "\(code): \(message)")
            default:
                return response
            }
        }
        if ContinuousClock.now >= deadline {
            throw CairnClientError(.timeout, "no answer within \(configuration.requestTimeout)" + (lastError.map { " (last: \($0.reason))" } ?? ""))
        }
        throw lastError ?? CairnClientError(.unreachable, "no server answered")
    }

    private func rotate() {
        state.withLockedValue { s in
            s.preferred = nil
            s.next += 1
        }
    }

    private func drop(_ connection: ClientConnection) {
        state.withLockedValue { s in
            if s.connection === connection { s.connection = nil }
        }
        connection.close()
    }

    private func currentConnection(timeout: Duration) async throws -> ClientConnection {
        let (existing, address, closed): (ClientConnection?, String, Bool) = state.withLockedValue { s in
            if let c = s.connection, c.isActive { return (c, c.address, s.closed) }
            let address = s.preferred ?? configuration.addresses[s.next % configuration.addresses.count]
            return (nil, address, s.closed)
        }
        if closed { throw CairnClientError(.closed, "the client is closed") }
        if let existing { return existing }
        let ms = max(1, min(5_000, Int64(timeout.components.seconds * 1000)))
        do {
            let connection = try await ClientConnection.connect(to: address, group: group, tls: tls, logger: logger, timeout: .milliseconds(ms))
            let winner: ClientConnection = state.withLockedValue { s in
                if let c = s.connection, c.isActive { return c }
                s.connection = connection
                return connection
            }
            if winner !== connection { connection.close() }
            return winner
        } catch let error as CairnClientError {
            throw error
        } catch {
            throw CairnClientError(.unreachable, "\(address): \(error)")
        }
    }
}
