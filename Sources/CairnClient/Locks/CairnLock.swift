import CairnWire

/// A distributed lock on one key, following Consul's lock recipe: a session (created and kept
/// alive for you, unless you pass your own), `kvAcquire` on the key, and a watch on the key
/// while someone else holds it.
///
/// ```swift
/// let lock = CairnLock(client: client, key: "jobs/nightly/.lock", value: Array("worker-3".utf8))
/// let lease = try await lock.acquire()
/// defer { Task { try? await lease.release() } }
/// // Pass lease.lockIndex along with every write the lock protects (a fencing token), and stop
/// // as soon as lease.lost yields.
/// ```
///
/// Holding a lock is only ever as sure as the session behind it: when the session is
/// invalidated (its TTL passed without renewal, it was destroyed, or its node's check failed),
/// the servers release the lock and another client may take it — possibly before this one
/// notices. ``LockLease/lost`` tells the holder as soon as it can; ``LockLease/lockIndex``, the
/// key's lock index when it was acquired, lets the resources the lock protects reject a former
/// holder (it grows with every acquisition).
public final class CairnLock: Sendable {
    /// The lock's key.
    public let key: String
    /// The value written to the key when the lock is acquired (and released).
    public let value: [UInt8]
    /// The flags written with it.
    public let flags: UInt64
    /// The TTL of the session the lock creates (unused with a caller's session).
    public let sessionTTL: Duration
    /// The lock-delay of the session the lock creates: after that session is invalidated while
    /// holding the lock, nobody can take it for this long (Consul's default is 15 s).
    public let lockDelay: Duration
    /// How long to wait between attempts while the key looks free but cannot be acquired (a
    /// lock-delay).
    public let retryInterval: Duration
    private let client: CairnClient
    private let session: String?

    /// Creates a lock on `key`. Without `session`, each ``acquire()`` creates its own session
    /// (TTL `sessionTTL`, lock-delay `lockDelay`, behaviour release), renews it while the lock
    /// is held, and destroys it on release; with `session`, the lock uses that one and leaves
    /// its life to the caller.
    public init(client: CairnClient, key: String, value: [UInt8] = [], flags: UInt64 = 0, session: String? = nil,
                sessionTTL: Duration = SessionKeeper.defaultTTL, lockDelay: Duration = .seconds(15),
                retryInterval: Duration = .seconds(1)) {
        self.client = client
        self.key = key
        self.value = value
        self.flags = flags
        self.session = session
        self.sessionTTL = sessionTTL
        self.lockDelay = lockDelay
        self.retryInterval = retryInterval
    }

    /// Waits until the lock is acquired, for as long as it takes; cancel the task to stop
    /// waiting.
    ///
    /// - Throws: `CancellationError` when cancelled; ``CairnClientError`` when the servers
    ///   cannot be reached within a request timeout, refuse the request, or the session is
    ///   invalidated while waiting (``CairnClientError/Code/sessionInvalidated``). On any error a
    ///   session the lock created is destroyed, so nothing stays locked by mistake.
    public func acquire() async throws -> LockLease {
        var keeper: SessionKeeper? = nil
        let session: String
        if let provided = self.session {
            session = provided
        } else {
            let request = SessionRequest(name: "lock \(key)", ttlMilliseconds: UInt64(CairnClient.milliseconds(sessionTTL)),
                                         lockDelayMilliseconds: UInt64(CairnClient.milliseconds(lockDelay)), behavior: .release)
            let started = try await SessionKeeper.start(client: client, request: request)
            keeper = started
            session = started.sessionID
        }
        do {
            let (lockIndex, index) = try await acquireLoop(session: session, keeper: keeper)
            return LockLease(client: client, key: key, value: value, flags: flags, sessionID: session, lockIndex: lockIndex,
                             acquiredAt: index, keeper: keeper)
        } catch {
            if let keeper {
                await keeper.close(destroy: true)
            } else if error is CancellationError {
                // A lost answer may have left the caller's session holding the lock.
                _ = try? await client.release(key: key, value: value, flags: flags, session: session)
            }
            throw error
        }
    }

    /// Waits at most `timeout` for the lock; nil when it was not acquired in time.
    public func acquire(within timeout: Duration) async throws -> LockLease? {
        try await withThrowingTaskGroup(of: LockLease?.self) { group in
            group.addTask { try await self.acquire() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            let first = try await group.next() ?? nil
            if first == nil {
                // The timeout won; the acquisition is being cancelled. If it still finished
                // first, keep its lease rather than leave the lock held by nobody's lease.
                group.cancelAll()
                if case .some(.some(let lease)) = try? await group.next() { return lease }
            }
            return first
        }
    }

    /// Runs ``LockAcquisition`` until the lock is held; returns the key's lock index and the
    /// index of the read that saw it held.
    private func acquireLoop(session: String, keeper: SessionKeeper?) async throws -> (lockIndex: UInt64, index: UInt64) {
        var logic = LockAcquisition(session: session, retryInterval: retryInterval)
        var step = logic.start()
        // Bounded by the holder: each pass sends one request or waits for the key to change;
        // cancellation and errors end it.
        while true {
            try Task.checkCancellation()
            if let loss = keeper?.loss { throw CairnClientError(.sessionInvalidated, "\(loss) while acquiring \(key)") }
            switch step {
            case .attempt(let delay):
                if delay > .zero { try await Task.sleep(for: delay) }
                let ok = try await client.acquire(key: key, value: value, flags: flags, session: session)
                step = logic.attempted(succeeded: ok)
            case .waitForRelease:
                (step, logic) = try await waitForRelease(logic, keeper: keeper)
            case .acquired:
                let (entry, meta) = try await client.getWithMeta(key)
                if let entry, entry.session == session { return (entry.lockIndex, meta.index) }
                // Lost between the acquire and the read (released by someone, or the session
                // was invalidated): start over.
                step = logic.attempted(succeeded: false)
            }
        }
    }

    /// Watches the key until the logic wants another attempt, or the session is lost.
    private func waitForRelease(_ logic: LockAcquisition, keeper: SessionKeeper?) async throws -> (LockAcquisition.Step, LockAcquisition) {
        let client = client
        let key = key
        return try await withThrowingTaskGroup(of: (LockAcquisition.Step, LockAcquisition)?.self) { group in
            group.addTask {
                var logic = logic
                for try await event in client.watch(.key(key)) {
                    guard let entry = event.entry(forKey: key) else { continue }
                    if let step = logic.observed(entry) { return (step, logic) }
                }
                throw CancellationError()
            }
            if let keeper {
                group.addTask {
                    for await loss in keeper.lost {
                        throw CairnClientError(.sessionInvalidated, "\(loss) while waiting for \(key)")
                    }
                    return nil
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }
}
