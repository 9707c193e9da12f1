import CairnWire
import NIOConcurrencyHelpers

/// A session kept alive: created (or adopted), then renewed in the background at half its TTL
/// until ``close(destroy:)``.
///
/// When the session is lost — a renewal says the servers no longer know it, or renewals failed
/// for a whole TTL (see ``SessionRenewal``) — the keeper stops renewing and reports it through
/// ``lost`` and ``loss``. Whoever holds locks with the session must then stop acting as their
/// holder: the servers have released them (or will shortly).
///
/// ```swift
/// let keeper = try await SessionKeeper.start(client: client, request: SessionRequest(name: "worker", ttlMilliseconds: 15_000))
/// Task { for await loss in keeper.lost { print("lost: \(loss)"); exit(1) } }
/// // … use keeper.sessionID with client.acquire(key:value:session:) …
/// await keeper.close()
/// ```
public final class SessionKeeper: Sendable {
    /// The TTL a keeper uses when the request asks for none: 15 s.
    public static let defaultTTL: Duration = .seconds(15)

    /// The session's id.
    public let sessionID: String
    /// The session's TTL as requested (renewals follow whatever the server reports).
    public let ttl: Duration
    private let client: CairnClient
    private let signal = OneShotSignal<SessionLoss>()
    private let renewer = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// Creates a session from `request` and starts renewing it. A request without a TTL gets
    /// ``defaultTTL``: a kept session always has one, or its loss could not be noticed.
    public static func start(client: CairnClient, request: SessionRequest = SessionRequest()) async throws -> SessionKeeper {
        var request = request
        if request.ttlMilliseconds == 0 { request.ttlMilliseconds = UInt64(CairnClient.milliseconds(defaultTTL)) }
        let sent = ContinuousClock.now
        let id = try await client.createSession(request)
        return SessionKeeper(client: client, sessionID: id, ttl: .milliseconds(request.ttlMilliseconds), created: sent)
    }

    /// Adopts session `sessionID`, which has TTL `ttl` and was created or last renewed at
    /// `created` (or later), and starts renewing it.
    public init(client: CairnClient, sessionID: String, ttl: Duration, created: ContinuousClock.Instant = .now) {
        self.client = client
        self.sessionID = sessionID
        self.ttl = ttl
        let signal = signal
        let task = Task {
            var renewal = SessionRenewal(ttl: ttl, created: created)
            var step = renewal.start()
            // Bounded: each pass sleeps at least the retry interval, and the loop ends at the
            // first loss or when close() cancels the task.
            while case .renew(let delay) = step {
                do { try await Task.sleep(for: delay) } catch { return }
                let sent = ContinuousClock.now
                do {
                    let session = try await client.renewSession(sessionID)
                    step = renewal.renewed(sentAt: sent, session: session)
                } catch {
                    if Task.isCancelled { return }
                    if let failure = error as? CairnClientError, failure.code == .closed { return }
                    step = renewal.failed(at: .now, reason: (error as? CairnClientError)?.reason ?? "\(error)")
                }
            }
            if case .lost(let loss) = step { signal.fire(loss) }
        }
        renewer.withLockedValue { $0 = task }
    }

    deinit {
        renewer.withLockedValue { $0 }?.cancel()
    }

    /// Why the session was lost; nil while it lives (as far as the keeper knows).
    public var loss: SessionLoss? { signal.value }

    /// A stream that yields once, when the session is lost (at once if it already is), then
    /// finishes. Each access returns a new stream, so any number of tasks can wait. After
    /// ``close(destroy:)`` without a loss, the streams finish without yielding.
    public var lost: AsyncStream<SessionLoss> { signal.stream() }

    /// Stops renewing and, with `destroy`, destroys the session, releasing (or deleting) what
    /// it holds. Best effort: if the destroy fails, the session expires after its TTL.
    public func close(destroy: Bool = true) async {
        let task = renewer.withLockedValue { t -> Task<Void, Never>? in
            defer { t = nil }
            return t
        }
        task?.cancel()
        await task?.value
        signal.close()
        if destroy && loss == nil {
            _ = try? await client.destroySession(sessionID)
        }
    }
}
