import CairnWire
import NIOConcurrencyHelpers

/// A held lock, from ``CairnLock/acquire()`` or ``LeaderElection/campaign(identity:)``.
///
/// While it is held, the lease watches for its loss: its session lost (``SessionKeeper``), or
/// the key released, taken over or deleted by someone else. The first loss is reported once
/// through ``lost`` and ``loss``; from then on the holder must act as if it never held the lock.
///
/// Call ``release()`` when done. A lease that is merely dropped stops watching and (for a
/// session the lock created) stops renewing: the session then expires after its TTL, and the
/// servers release the lock only then.
public final class LockLease: Sendable {
    /// The lock's key.
    public let key: String
    /// The session holding the lock.
    public let sessionID: String
    /// The key's lock index when this lease acquired it: a fencing token. It grows with every
    /// acquisition of the key, so a resource can refuse writes carrying a smaller one than it
    /// has seen.
    public let lockIndex: UInt64
    private let client: CairnClient
    /// The key's value while held (written again on release); ``proclaim(_:)`` changes it.
    private let value: NIOLockedValueBox<[UInt8]>
    private let flags: UInt64
    private let keeper: SessionKeeper?
    private let signal = OneShotSignal<LockLoss>()
    private let monitor = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(client: CairnClient, key: String, value: [UInt8], flags: UInt64, sessionID: String, lockIndex: UInt64,
         acquiredAt index: UInt64, keeper: SessionKeeper?) {
        self.client = client
        self.key = key
        self.value = NIOLockedValueBox(value)
        self.flags = flags
        self.sessionID = sessionID
        self.lockIndex = lockIndex
        self.keeper = keeper
        let signal = signal
        let task = Task {
            await withTaskGroup(of: LockLoss?.self) { group in
                if let keeper {
                    group.addTask {
                        for await loss in keeper.lost { return .session(loss) }
                        return nil
                    }
                }
                group.addTask {
                    do {
                        // From the index of the read that saw the lock held: every later
                        // change of the key is seen.
                        for try await event in client.watch(.key(key), fromIndex: index) {
                            guard let entry = event.entry(forKey: key) else { continue }
                            guard let entry else { return .deleted }
                            if entry.session != sessionID { return .released }
                        }
                    } catch {
                        // The watch cannot go on (the client closed): the session keeper, if
                        // any, still decides.
                    }
                    return nil
                }
                while let result = await group.next() {
                    if let loss = result {
                        signal.fire(loss)
                        break
                    }
                }
                group.cancelAll()
            }
        }
        monitor.withLockedValue { $0 = task }
    }

    deinit {
        monitor.withLockedValue { $0 }?.cancel()
    }

    /// Why the lock was lost; nil while it is held (as far as the lease knows).
    public var loss: LockLoss? { signal.value }

    /// Whether the lock was lost.
    public var isLost: Bool { loss != nil }

    /// A stream that yields once, when the lock is lost (at once if it already is), then
    /// finishes. Each access returns a new stream, so any number of tasks can wait. After
    /// ``release()``, the streams finish without yielding.
    public var lost: AsyncStream<LockLoss> { signal.stream() }

    /// Writes `newValue` as the key's value while keeping the lock (the holder acquiring again:
    /// the lock index, the fencing token, stays). False when the session no longer holds the
    /// key; the lease then reports its loss.
    ///
    /// - Throws: ``CairnClientError`` when the write could not be made.
    public func proclaim(_ newValue: [UInt8]) async throws -> Bool {
        guard try await client.acquire(key: key, value: newValue, flags: flags, session: sessionID) else { return false }
        value.withLockedValue { $0 = newValue }
        return true
    }

    /// Releases the lock: writes the key with its lock released, then — for a session the lock
    /// created — destroys the session (which releases the lock even if the first step failed).
    ///
    /// - Throws: ``CairnClientError`` when the release could not be sent and there is no
    ///   lock-owned session to destroy instead (the caller's session keeps the lock until it is
    ///   destroyed or expires).
    public func release() async throws {
        let task = monitor.withLockedValue { t -> Task<Void, Never>? in
            defer { t = nil }
            return t
        }
        task?.cancel()
        await task?.value
        signal.close()
        var failure: (any Error)? = nil
        do {
            _ = try await client.release(key: key, value: value.withLockedValue { $0 }, flags: flags, session: sessionID)
        } catch {
            failure = error
        }
        if let keeper {
            await keeper.close(destroy: true)
            return
        }
        if let failure { throw failure }
    }
}
