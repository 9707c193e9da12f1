import CairnWire

/// Sessions: the leases that locks hang on (Consul's `/v1/session`).
///
/// A session is invalidated when it is destroyed, when its TTL passes without a renewal, or when
/// one of its health checks turns critical; the locks it holds are then released (or their keys
/// deleted, with ``SessionBehavior/delete``). ``SessionKeeper`` creates one and renews it for you.
extension CairnClient {
    /// Creates a session; returns its id.
    ///
    /// Not retried after a lost connection (a retry could create a second session). A session
    /// created by a lost attempt expires after its TTL.
    public func createSession(_ request: SessionRequest = SessionRequest()) async throws -> String {
        guard case .sessionCreated(let id, _) = try await perform(.sessionCreate(request), idempotent: false) else { throw unexpected() }
        return id
    }

    /// Renews session `id`'s TTL; returns the session, or nil when it no longer exists (it
    /// expired or was destroyed: whatever it held is gone and a new session is needed).
    public func renewSession(_ id: String) async throws -> Session? {
        do {
            guard case .session(let session, _) = try await perform(.sessionRenew(id: id), idempotent: true) else { throw unexpected() }
            return session
        } catch let error as CairnClientError where error.serverCode == .notFound {
            return nil
        }
    }

    /// Destroys session `id`, releasing (or deleting) the keys it holds. True when it was
    /// destroyed; false when it did not exist (already destroyed or expired).
    @discardableResult
    public func destroySession(_ id: String) async throws -> Bool {
        do {
            guard case .applied = try await perform(.sessionDestroy(id: id), idempotent: true) else { throw unexpected() }
            return true
        } catch let error as CairnClientError where error.serverCode == .notFound {
            return false
        }
    }

    /// Session `id`, or nil when it does not exist.
    public func session(_ id: String, consistency: ReadConsistency = .linearizable) async throws -> Session? {
        do {
            guard case .session(let session, _) = try await perform(.sessionInfo(id: id, consistency: consistency), idempotent: true) else {
                throw unexpected()
            }
            return session
        } catch let error as CairnClientError where error.serverCode == .notFound {
            return nil
        }
    }

    /// Every session, ordered by id.
    public func sessions(consistency: ReadConsistency = .linearizable) async throws -> [Session] {
        guard case .sessions(let sessions, _) = try await perform(.sessionList(consistency: consistency), idempotent: true) else {
            throw unexpected()
        }
        return sessions
    }
}
