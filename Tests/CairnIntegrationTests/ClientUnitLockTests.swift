import CairnClient
import CairnWire
import Testing

/// `LockAcquisition` and `SessionRenewal`: the decisions behind `CairnLock` and `SessionKeeper`.
@Suite("Lock and session logic")
struct ClientUnitLockTests {
    func entry(session: String) -> KVEntry {
        KVEntry(key: "jobs/.lock", value: [], lockIndex: 1, session: session)
    }

    @Test("the first attempt is immediate and a successful one holds the lock")
    func acquiresAtOnce() {
        var logic = LockAcquisition(session: "me")
        #expect(logic.start() == .attempt(after: .zero))
        #expect(logic.attempted(succeeded: true) == .acquired)
        #expect(logic.attempts == 1)
    }

    @Test("while another session holds the key the lock waits, and retries at once when it is released")
    func waitsForTheHolder() {
        var logic = LockAcquisition(session: "me", retryInterval: .seconds(1))
        #expect(logic.attempted(succeeded: false) == .waitForRelease)
        #expect(logic.observed(entry(session: "other")) == nil)
        #expect(logic.observed(entry(session: "other")) == nil)
        #expect(logic.observed(entry(session: "")) == .attempt(after: .zero))
    }

    @Test("a key deleted by its holder is free too")
    func deletedKeyIsFree() {
        var logic = LockAcquisition(session: "me")
        _ = logic.attempted(succeeded: false)
        #expect(logic.observed(entry(session: "other")) == nil)
        #expect(logic.observed(nil) == .attempt(after: .zero))
    }

    @Test("a key that looks free but cannot be acquired (a lock-delay) is retried after the interval, not in a spin")
    func lockDelayWaitsTheInterval() {
        var logic = LockAcquisition(session: "me", retryInterval: .milliseconds(700))
        _ = logic.attempted(succeeded: false)
        #expect(logic.observed(entry(session: "")) == .attempt(after: .zero))
        #expect(logic.attempted(succeeded: false) == .waitForRelease)
        #expect(logic.failuresWhileFree == 1)
        #expect(logic.observed(entry(session: "")) == .attempt(after: .milliseconds(700)))
        #expect(logic.attempted(succeeded: false) == .waitForRelease)
        #expect(logic.observed(nil) == .attempt(after: .milliseconds(700)))
        // Once somebody holds it again, the next release is tried at once.
        #expect(logic.observed(entry(session: "other")) == nil)
        #expect(logic.observed(entry(session: "")) == .attempt(after: .zero))
    }

    @Test("seeing its own session on the key means an earlier attempt won: confirm at once")
    func ownSessionConfirms() {
        var logic = LockAcquisition(session: "me")
        _ = logic.attempted(succeeded: false)
        #expect(logic.observed(entry(session: "me")) == .attempt(after: .zero))
    }

    @Test("a session is renewed at half its TTL, following the TTL the server reports")
    func renewsAtHalfTTL() {
        let start = ContinuousClock.now
        var renewal = SessionRenewal(ttl: .seconds(20), created: start)
        #expect(renewal.start() == .renew(after: .seconds(10)))
        let session = Session(id: "s", name: "", node: "n1", ttlMilliseconds: 30_000, lockDelayMilliseconds: 0, behavior: .release,
                              checks: [], createIndex: 1)
        #expect(renewal.renewed(sentAt: start + .seconds(10), session: session) == .renew(after: .seconds(15)))
        #expect(renewal.lastRenewed == start + .seconds(10))
    }

    @Test("a renewal answered with no session is a loss, and a loss is final")
    func invalidatedIsFinal() {
        let start = ContinuousClock.now
        var renewal = SessionRenewal(ttl: .seconds(10), created: start)
        #expect(renewal.renewed(sentAt: start + .seconds(5), session: nil) == .lost(.invalidated))
        #expect(renewal.failed(at: start + .seconds(6), reason: "x") == .lost(.invalidated))
        #expect(renewal.loss == .invalidated)
    }

    @Test("failed renewals are retried while the TTL surely has not passed, then the session is reported lost")
    func failuresUntilTheTTL() {
        let start = ContinuousClock.now
        var renewal = SessionRenewal(ttl: .seconds(12), created: start)
        #expect(renewal.retryInterval == .seconds(1))
        #expect(renewal.failed(at: start + .seconds(6), reason: "refused") == .renew(after: .seconds(1)))
        #expect(renewal.failed(at: start + .seconds(10), reason: "refused") == .renew(after: .seconds(1)))
        #expect(renewal.failed(at: start + .seconds(11), reason: "refused") == .lost(.unrenewable("refused")))
    }

    @Test("a success in between pushes the deadline back")
    func successResetsTheDeadline() {
        let start = ContinuousClock.now
        var renewal = SessionRenewal(ttl: .seconds(12), created: start)
        #expect(renewal.failed(at: start + .seconds(10), reason: "x") == .renew(after: .seconds(1)))
        let session = Session(id: "s", name: "", node: "", ttlMilliseconds: 12_000, lockDelayMilliseconds: 0, behavior: .release,
                              checks: [], createIndex: 1)
        #expect(renewal.renewed(sentAt: start + .seconds(10), session: session) == .renew(after: .seconds(6)))
        #expect(renewal.failed(at: start + .seconds(20), reason: "x") == .renew(after: .seconds(1)))
    }
}
