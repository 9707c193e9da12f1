import CairnClient
import CairnWire

/// Sends the benchmark's requests through one ``CairnClient`` (one pipelined mutual-TLS
/// connection), adding no retries of its own: what the client library retries is retried, every
/// other failure is reported with its kind.
public struct CairnClientExecutor: BenchmarkExecutor {
    public let client: CairnClient

    public init(client: CairnClient) {
        self.client = client
    }

    public func put(key: String, value: [UInt8]) async throws {
        do { try await client.put(key, value: value) } catch let error as CairnClientError { throw Self.classify(error) }
    }

    public func get(key: String, consistency: ReadConsistency) async throws -> UInt64? {
        do { return try await client.get(key, consistency: consistency)?.modifyIndex } catch let error as CairnClientError { throw Self.classify(error) }
    }

    public func cas(key: String, value: [UInt8], expectedIndex: UInt64) async throws -> Bool {
        do { return try await client.put(key, value: value, cas: expectedIndex).succeeded } catch let error as CairnClientError { throw Self.classify(error) }
    }

    /// Maps a client error to its benchmark kind. The client library reports an exhausted
    /// leader search as `unreachable` ("… is not the leader") or `server` (a "no leader"
    /// answer); only its reason text tells those apart from other unreachable or server errors.
    public static func classify(_ error: CairnClientError) -> BenchmarkRequestError {
        let kind: BenchmarkErrorKind
        switch error.code {
        case .timeout: kind = .timeout
        case .outcomeUnknown: kind = .outcomeUnknown
        case .unreachable: kind = error.reason.contains("not the leader") ? .leaderUnavailable : .unreachable
        case .server: kind = error.reason.contains("leader") || error.reason.contains("shutting down") ? .leaderUnavailable : .server
        default: kind = .other
        }
        return BenchmarkRequestError(kind, error.reason)
    }
}
