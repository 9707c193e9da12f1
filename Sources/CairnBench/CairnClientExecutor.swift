import CairnClient
import CairnWire

/// Sends the benchmark's requests through one ``CairnClient`` (one pipelined mutual-TLS
/// connection), adding no retries of its own: what the client library retries is retried, every
/// other failure is reported with its kind. As a ``BenchmarkWatchSource`` it opens the client's
/// watches, which all share the client's one watch connection.
public struct CairnClientExecutor: BenchmarkExecutor {
    /// The client every request goes through.
    public let client: CairnClient

    /// Sends through `client`; the caller closes it.
    public init(client: CairnClient) {
        self.client = client
    }

    /// Writes `key`; returns the Raft index of the write.
    @discardableResult
    public func put(key: String, value: [UInt8]) async throws -> UInt64 {
        do { return try await client.put(key, value: value).index } catch let error as CairnClientError { throw Self.classify(error) }
    }

    /// Reads `key`; returns its modify index, or nil when it does not exist.
    public func get(key: String, consistency: ReadConsistency) async throws -> UInt64? {
        do { return try await client.get(key, consistency: consistency)?.modifyIndex } catch let error as CairnClientError { throw Self.classify(error) }
    }

    /// Writes `key` if its modify index is `expectedIndex`; returns whether it applied.
    public func cas(key: String, value: [UInt8], expectedIndex: UInt64) async throws -> Bool {
        do { return try await client.put(key, value: value, cas: expectedIndex).succeeded } catch let error as CairnClientError { throw Self.classify(error) }
    }

    /// Deletes every key under `prefix`.
    public func deleteTree(prefix: String) async throws {
        do { try await client.deleteTree(prefix: prefix) } catch let error as CairnClientError { throw Self.classify(error) }
    }

    /// The client's connection thread: a requester there sends and resumes without a thread hop.
    public var taskExecutor: (any TaskExecutor)? { client.taskExecutor }

    /// Maps a client error to its benchmark kind. The client library reports an exhausted
    /// leader search as `unreachable` ("… is not the leader") or `server` with the server's code
    /// `noLeader` or `shuttingDown`.
    public static func classify(_ error: CairnClientError) -> BenchmarkRequestError {
        let kind: BenchmarkErrorKind
        switch error.code {
        case .timeout: kind = .timeout
        case .outcomeUnknown: kind = .outcomeUnknown
        case .unreachable: kind = error.reason.contains("not the leader") ? .leaderUnavailable : .unreachable
        case .server: kind = error.serverCode == .noLeader || error.serverCode == .shuttingDown ? .leaderUnavailable : .server
        default: kind = .other
        }
        return BenchmarkRequestError(kind, error.reason)
    }
}

extension CairnClientExecutor: BenchmarkWatchSource {
    /// The client's watch of `prefix` from index 0, with the library's default buffering; it
    /// resumes across broken streams for as long as it is iterated.
    public func watch(prefix: String) -> any BenchmarkWatch {
        client.watch(.keyPrefix(prefix))
    }

    /// The client's connection thread, where its watch events arrive.
    public var watchTaskExecutor: (any TaskExecutor)? { client.taskExecutor }
}

extension CairnWatch: BenchmarkWatch {
    /// ``WatchStatistics/resumes``.
    public var resumes: Int { statistics.resumes }
    /// ``WatchStatistics/droppedEvents``.
    public var droppedEvents: Int { statistics.droppedEvents }
}
