import CairnKV
import CairnWire
import Testing

@Suite("Session TTL timers")
struct SessionTimersTests {
    @Test("a renewed session expires once now reaches its deadline")
    func expiresAtDeadline() {
        var timers = SessionTimers()
        timers.renew("s", ttlMilliseconds: 10_000, now: 1_000)
        #expect(timers.deadline("s") == 11_000)
        #expect(timers.expired(now: 10_999).isEmpty)
        #expect(timers.expired(now: 11_000) == ["s"])
        #expect(timers.expired(now: 50_000) == ["s"])
    }

    @Test("renewing moves the deadline, and removing forgets the session")
    func renewAndRemove() {
        var timers = SessionTimers()
        timers.renew("s", ttlMilliseconds: 10_000, now: 0)
        timers.renew("s", ttlMilliseconds: 10_000, now: 8_000)
        #expect(timers.expired(now: 12_000).isEmpty)
        #expect(timers.deadline("s") == 18_000)
        timers.remove("s")
        #expect(timers.deadline("s") == nil)
        #expect(timers.expired(now: .max).isEmpty)
        #expect(timers.count == 0)
    }

    @Test("sessions without a TTL are never tracked")
    func noTTL() {
        var timers = SessionTimers()
        timers.renew("forever", ttlMilliseconds: 0, now: 5)
        #expect(timers.deadline("forever") == nil)
        timers.renew("s", ttlMilliseconds: 10, now: 0)
        timers.renew("s", ttlMilliseconds: 0, now: 1)
        #expect(timers.expired(now: .max).isEmpty)
    }

    @Test("expired sessions are listed in id order, and the next deadline is the earliest")
    func ordering() {
        var timers = SessionTimers()
        timers.renew("c", ttlMilliseconds: 300, now: 0)
        timers.renew("a", ttlMilliseconds: 200, now: 0)
        timers.renew("b", ttlMilliseconds: 100, now: 0)
        timers.renew("d", ttlMilliseconds: 900, now: 0)
        #expect(timers.nextDeadline == 100)
        #expect(timers.expired(now: 300) == ["a", "b", "c"])
        #expect(SessionTimers().nextDeadline == nil)
    }

    @Test("after a leader change every session gets a full fresh TTL and only current sessions are tracked")
    func resetAll() {
        var timers = SessionTimers()
        timers.renew("stale", ttlMilliseconds: 10_000, now: 0)
        timers.renew("a", ttlMilliseconds: 10_000, now: 0)
        let sessions = [makeSession("a", ttl: 10_000), makeSession("b", ttl: 20_000), makeSession("c", ttl: 0)]
        timers.resetAll(sessions, now: 9_000)
        #expect(timers.deadline("stale") == nil)
        #expect(timers.deadline("a") == 19_000)
        #expect(timers.deadline("b") == 29_000)
        #expect(timers.deadline("c") == nil)
        #expect(timers.count == 2)
        #expect(timers.expired(now: 18_999).isEmpty)
    }

    @Test("a deadline past the end of time saturates instead of wrapping")
    func saturates() {
        var timers = SessionTimers()
        timers.renew("s", ttlMilliseconds: 10_000, now: .max - 5)
        #expect(timers.deadline("s") == .max)
        #expect(timers.expired(now: 0).isEmpty)
    }
}
