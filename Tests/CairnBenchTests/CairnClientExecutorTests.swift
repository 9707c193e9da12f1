import CairnBench
import CairnClient
import Testing

@Suite struct CairnClientExecutorTests {
    @Test(arguments: [
        (CairnClientError(.timeout, "no answer within 10 s"), BenchmarkErrorKind.timeout),
        (CairnClientError(.outcomeUnknown, "connection lost after send"), .outcomeUnknown),
        (CairnClientError(.unreachable, "127.0.0.1:8500 is not the leader"), .leaderUnavailable),
        (CairnClientError(.unreachable, "127.0.0.1:8500: connection refused"), .unreachable),
        (CairnClientError(.server, "127.0.0.1:8500: no leader elected yet", serverCode: .noLeader), .leaderUnavailable),
        (CairnClientError(.server, "127.0.0.1:8500: the server is shutting down", serverCode: .shuttingDown), .leaderUnavailable),
        (CairnClientError(.server, "the key \"leader\" is locked", serverCode: .invalidArgument), .server),
        (CairnClientError(.server, "value too large: 2 MiB"), .server),
        (CairnClientError(.protocolViolation, "wrong kind"), .other),
    ])
    func clientErrorsAreCountedUnderTheirKind(error: CairnClientError, kind: BenchmarkErrorKind) {
        #expect(CairnClientExecutor.classify(error).kind == kind)
    }
}
