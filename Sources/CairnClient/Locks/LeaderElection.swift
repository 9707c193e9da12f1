import CairnWire
import NIOConcurrencyHelpers

/// Leader election on one key, Consul style: candidates ``campaign(identity:)`` for the key's
/// lock with their identity as the value; the holder is the leader; anyone can ``observe()``
/// who leads.
///
/// ```swift
/// let election = LeaderElection(client: client, key: "service/scheduler/leader")
/// Task { for try await leader in election.observe() { print("leader: \(leader ?? "none")") } }
/// let lease = try await election.campaign(identity: "scheduler-2")   // returns once elected
/// for await loss in lease.lost { print("no longer leader: \(loss)") }
/// ```
public final class LeaderElection: Sendable {
    /// The election's key.
    public let key: String
    private let client: CairnClient
    private let sessionTTL: Duration
    private let lockDelay: Duration
    private let retryInterval: Duration
    private let lease = NIOLockedValueBox<LockLease?>(nil)

    /// Creates an election on `key`; the session parameters are those of ``CairnLock``.
    public init(client: CairnClient, key: String, sessionTTL: Duration = SessionKeeper.defaultTTL,
                lockDelay: Duration = .seconds(15), retryInterval: Duration = .seconds(1)) {
        self.client = client
        self.key = key
        self.sessionTTL = sessionTTL
        self.lockDelay = lockDelay
        self.retryInterval = retryInterval
    }

    /// Campaigns until elected: acquires the key's lock with `identity` as its value. Returns
    /// the lease of the leadership (watch its ``LockLease/lost``); ``resign()`` gives it up.
    /// Cancel the task to stop campaigning.
    ///
    /// Called again while this election object leads, it keeps the leadership and only
    /// proclaims the new identity (the key's value changes, the lease and its fencing token stay)
    /// — rather than queueing behind its own lock.
    public func campaign(identity: String) async throws -> LockLease {
        let value = Array(identity.utf8)
        if let held = lease.withLockedValue({ $0 }), !held.isLost, try await held.proclaim(value) {
            return held
        }
        let lock = CairnLock(client: client, key: key, value: value, sessionTTL: sessionTTL,
                             lockDelay: lockDelay, retryInterval: retryInterval)
        let acquired = try await lock.acquire()
        let previous = lease.withLockedValue { held -> LockLease? in
            defer { held = acquired }
            return held
        }
        if let previous { try? await previous.release() }
        return acquired
    }

    /// Gives up the leadership this election object won, if any: releases the lock (the next
    /// candidate is elected) and destroys its session.
    public func resign() async throws {
        let held = lease.withLockedValue { held -> LockLease? in
            defer { held = nil }
            return held
        }
        try await held?.release()
    }

    /// The current leader's identity, then every change of it: nil while nobody leads.
    /// Consecutive repeats are folded. Ends like a ``CairnWatch`` (the consumer's cancellation,
    /// or an error retrying cannot fix).
    public func observe() -> LeaderObservation {
        LeaderObservation(watch: client.watch(.key(key)), key: key)
    }
}

/// The leaders of a ``LeaderElection`` over time: each element is the current leader's
/// identity (the lock key's value while a session holds it), nil while nobody leads. The first
/// element is the state when observation started; then one element per change.
public struct LeaderObservation: AsyncSequence, Sendable {
    /// The leader's identity, or nil.
    public typealias Element = String?
    /// Ends by throwing a ``CairnClientError``, like ``CairnWatch``.
    public typealias Failure = any Error

    private let watch: CairnWatch
    private let key: String

    init(watch: CairnWatch, key: String) {
        self.watch = watch
        self.key = key
    }

    /// Starts observing.
    public func makeAsyncIterator() -> Iterator {
        Iterator(events: watch.makeAsyncIterator(), key: key)
    }

    /// One observation.
    public struct Iterator: AsyncIteratorProtocol {
        private var events: CairnWatch.Iterator
        private let key: String
        private var last: String?? = nil

        init(events: CairnWatch.Iterator, key: String) {
            self.events = events
            self.key = key
        }

        /// The next leader (nil inside: nobody leads); nil when observation ended.
        public mutating func next() async throws -> String?? {
            try await next(isolation: nil)
        }

        /// The next leader (nil inside: nobody leads); nil when observation ended.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> String?? {
            // Bounded by the watch: each pass consumes one event.
            while let event = try await events.next(isolation: actor) {
                guard let entry = event.entry(forKey: key) else { continue }
                let leader: String? = entry.flatMap { $0.session.isEmpty ? nil : String(decoding: $0.value, as: UTF8.self) }
                if let last, last == leader { continue }
                last = .some(leader)
                return .some(leader)
            }
            return nil
        }
    }
}
