import CairnClient
import CairnWire
import Testing

/// `WatchResumer`: which events reach a watch's consumer and how a broken stream resumes.
@Suite("Watch resume logic")
struct ClientUnitWatchResumerTests {
    func event(_ index: UInt64, snapshot: Bool = false) -> WatchEvent {
        WatchEvent(index: index, payload: .keys([KVChange(key: "k", entry: nil)], snapshot: snapshot))
    }

    @Test("a fresh watch asks from index 0 and delivers the first snapshot whatever its index")
    func freshWatchStartsFromZero() {
        var resumer = WatchResumer(fromIndex: 0)
        #expect(resumer.start() == .watch(fromIndex: 0, delay: .zero, switchServer: false))
        #expect(resumer.received(event(0, snapshot: true)) == .deliver)
        #expect(resumer.lastIndex == 0)
    }

    @Test("events are delivered in strictly increasing index order; repeats and older ones are dropped and counted")
    func dropsOutOfOrderEvents() {
        var resumer = WatchResumer(fromIndex: 10)
        #expect(resumer.received(event(10)) == .drop)
        #expect(resumer.received(event(11)) == .deliver)
        #expect(resumer.received(event(11)) == .drop)
        #expect(resumer.received(event(9)) == .drop)
        #expect(resumer.received(event(15)) == .deliver)
        #expect(resumer.droppedEvents == 3)
        #expect(resumer.lastIndex == 15)
    }

    @Test("a lost connection resumes after the last delivered index, on another server, at once")
    func connectionLossResumesElsewhere() {
        var resumer = WatchResumer(fromIndex: 0)
        _ = resumer.received(event(5, snapshot: true))
        _ = resumer.received(event(7))
        #expect(resumer.ended(.connectionLost("reset")) == .watch(fromIndex: 7, delay: .zero, switchServer: true))
        #expect(resumer.resumes == 1)
    }

    @Test("a server that finds the consumer too slow, or a full client buffer, resumes on the same server")
    func slowConsumerResumesInPlace() {
        var resumer = WatchResumer(fromIndex: 3)
        #expect(resumer.ended(.serverError(.watchTooSlow, message: "slow")) == .watch(fromIndex: 3, delay: .zero, switchServer: false))
        _ = resumer.received(event(4))
        #expect(resumer.ended(.clientBufferFull) == .watch(fromIndex: 4, delay: .zero, switchServer: false))
    }

    @Test("a shutting-down or leaderless server sends the watch to another server")
    func shutdownSwitchesServer() {
        var resumer = WatchResumer(fromIndex: 8)
        #expect(resumer.ended(.serverError(.shuttingDown, message: "bye")) == .watch(fromIndex: 8, delay: .zero, switchServer: true))
        _ = resumer.received(event(9))
        #expect(resumer.ended(.serverError(.noLeader, message: "election")) == .watch(fromIndex: 9, delay: .zero, switchServer: true))
    }

    @Test("compacted history restarts from index 0, and the snapshot that follows must be newer to be delivered")
    func historyCompactedRestartsFromZero() {
        var resumer = WatchResumer(fromIndex: 0)
        _ = resumer.received(event(20, snapshot: true))
        #expect(resumer.ended(.serverError(.historyCompacted, message: "compacted")) == .watch(fromIndex: 0, delay: .zero, switchServer: false))
        #expect(resumer.received(event(35, snapshot: true)) == .deliver)
        #expect(resumer.lastIndex == 35)
        // The next resume continues after the snapshot, not from 0 again.
        #expect(resumer.ended(.connectionLost("reset")) == .watch(fromIndex: 35, delay: .zero, switchServer: true))
    }

    @Test("failures in a row back off exponentially up to the cap, and an event resets the backoff")
    func backoff() {
        var resumer = WatchResumer(fromIndex: 1, backoffBase: .milliseconds(50), backoffCap: .milliseconds(300))
        let delays: [Duration] = (0..<6).map { _ in
            guard case .watch(_, let delay, _) = resumer.ended(.connectionLost("down")) else { return .seconds(-1) }
            return delay
        }
        #expect(delays == [.zero, .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(300), .milliseconds(300)])
        #expect(resumer.failuresWithoutProgress == 6)
        _ = resumer.received(event(2))
        #expect(resumer.failuresWithoutProgress == 0)
        #expect(resumer.ended(.connectionLost("down")) == .watch(fromIndex: 2, delay: .zero, switchServer: true))
    }

    @Test("errors that retrying cannot fix end the watch with the server's code", arguments: [
        ClientErrorCode.invalidKey, .unknownOperation, .malformedRequest, .invalidArgument, .refused, ClientErrorCode(rawValue: 999),
    ])
    func fatalServerErrors(code: ClientErrorCode) {
        var resumer = WatchResumer(fromIndex: 0)
        guard case .fail(let error) = resumer.ended(.serverError(code, message: "no")) else {
            Issue.record("expected the watch to end")
            return
        }
        #expect(error.code == .server)
        #expect(error.serverCode == code)
    }

    @Test("unusable TLS files and a closed client end the watch; an unreachable server does not")
    func connectFailures() {
        var resumer = WatchResumer(fromIndex: 0)
        #expect(resumer.ended(.connectFailed(CairnClientError(.tls, "bad cert"))) == .fail(CairnClientError(.tls, "")))
        #expect(resumer.ended(.connectFailed(CairnClientError(.closed, "closed"))) == .fail(CairnClientError(.closed, "")))
        guard case .watch(_, _, let switchServer) = resumer.ended(.connectFailed(CairnClientError(.unreachable, "refused"))) else {
            Issue.record("expected a retry")
            return
        }
        #expect(switchServer)
    }

    @Test("with an attempt limit, the watch gives up after that many failures without an event")
    func attemptLimit() {
        var resumer = WatchResumer(fromIndex: 0, maxAttemptsWithoutProgress: 2)
        func resumes(_ action: WatchResumer.Action) -> Bool { if case .watch = action { true } else { false } }
        #expect(resumes(resumer.ended(.connectionLost("a"))))
        #expect(resumes(resumer.ended(.connectionLost("b"))))
        #expect(resumer.ended(.connectionLost("c")) == .fail(CairnClientError(.unreachable, "")))
    }

    @Test("a response that makes no sense on a watch stream ends it as a protocol violation")
    func unexpectedResponse() {
        var resumer = WatchResumer(fromIndex: 0)
        #expect(resumer.ended(.unexpectedResponse("kvGet")) == .fail(CairnClientError(.protocolViolation, "")))
    }
}
