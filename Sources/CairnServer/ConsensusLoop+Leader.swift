import CairnCatalog
import CairnKV
import CairnKernel
import CairnRaft
import CairnWire

/// The clocks only the leader runs: session TTLs and health checks. Both are pure values fed
/// with the loop's monotonic milliseconds; the loop turns what they decide into proposals.
struct LeaderDuties {
    /// Session TTL deadlines.
    var sessions = SessionTimers()
    /// When each health check runs or expires.
    var health = HealthSchedule()
    /// The sessions the timers know (to follow creations and destructions).
    var known: Set<String> = []
    /// Sessions whose invalidation was proposed and has not applied yet.
    var invalidating: Set<String> = []
    /// Checks whose status change was proposed and has not applied yet, with the status proposed.
    var proposedStatus: [String: CheckStatus] = [:]
}

extension ConsensusLoop {
    /// Leadership gained: every session and every TTL check gets a full fresh TTL (Consul's
    /// rule — the old leader's deadlines died with it), and the checks are scheduled anew.
    func becameLeader() {
        let view = state
        let now = monotonicMilliseconds
        leaderDuties = LeaderDuties()
        let sessions = view.kv.sessions()
        leaderDuties.sessions.resetAll(sessions, now: now)
        leaderDuties.known = Set(sessions.map(\.id))
        leaderDuties.health.sync(view.catalog.allChecks(), now: now)
        leaderDuties.health.resetAll(now: now)
    }

    /// Once per tick on the leader: expire sessions, run due checks, act on what they found.
    func runLeaderDuties() {
        let now = monotonicMilliseconds
        let view = state
        // Sessions created or destroyed since the last tick.
        let sessions = view.kv.sessions()
        if sessions.count != leaderDuties.known.count || sessions.contains(where: { !leaderDuties.known.contains($0.id) }) {
            let ids = Set(sessions.map(\.id))
            for gone in leaderDuties.known.subtracting(ids) { leaderDuties.sessions.remove(gone) }
            for session in sessions where !leaderDuties.known.contains(session.id) {
                leaderDuties.sessions.renew(session.id, ttlMilliseconds: session.ttlMilliseconds, now: now)
            }
            leaderDuties.known = ids
            leaderDuties.invalidating.formIntersection(ids)
        }
        for id in leaderDuties.sessions.expired(now: now) where !leaderDuties.invalidating.contains(id) {
            logger.info("session \(id) expired (TTL); invalidating it")
            invalidate(session: id)
        }
        for directive in leaderDuties.health.due(now: now) {
            switch directive {
            case .probe(let node, let checkID, let kind):
                guard let prober else { continue }
                prober.probe(kind).whenComplete { [weak self] result in
                    let (status, output): (CheckStatus, String)
                    switch result {
                    case .success(let outcome): (status, output) = (outcome.status, outcome.output)
                    case .failure(let error): (status, output) = (.critical, "probe failed: \(error)")
                    }
                    self?.submit(.probeResult(node: node, checkID: checkID, status: status, output: output))
                }
            case .setStatus(let node, let checkID, let status, let output):
                proposeStatus(node: node, checkID: checkID, status: status, output: output, view: view)
            case .deregister(let node, let serviceID):
                logger.info("deregistering service \(serviceID) on \(node): its check stayed critical past deregister_critical_service_after")
                proposeInternal(CatalogCommand.deregister(node: node, serviceID: serviceID).encoded())
            }
        }
    }

    /// A probe finished: record it, and propose the status only if it changed.
    func probeFinished(node: String, checkID: String, status: CheckStatus, output: String) {
        guard raft.role == .leader else { return }
        leaderDuties.health.probeFinished(node: node, checkID: checkID, now: monotonicMilliseconds)
        proposeStatus(node: node, checkID: checkID, status: status, output: output, view: state)
    }

    private func proposeStatus(node: String, checkID: String, status: CheckStatus, output: String, view: ServerState) {
        guard let check = view.catalog.check(node: node, id: checkID) else { return }
        let key = node + "\u{0}" + checkID
        let believed = leaderDuties.proposedStatus[key] ?? check.status
        guard believed != status else { return }
        leaderDuties.proposedStatus[key] = status
        logger.info("check \(checkID) on \(node): \(check.status) -> \(status) (\(output))")
        proposeInternal(CatalogCommand.updateCheck(node: node, checkID: checkID, status: status, output: output).encoded())
    }

    /// After entries applied on the leader: follow catalog changes, and invalidate sessions
    /// whose checks turned critical.
    func observeApplied(_ changes: [StateChange], restored: Bool) {
        let catalogChanged = restored || changes.contains { if case .key = $0 { return false } else { return true } }
        guard catalogChanged else { return }
        let view = state
        let checks = view.catalog.allChecks()
        leaderDuties.health.sync(checks, now: monotonicMilliseconds)
        for check in checks {
            let key = check.node + "\u{0}" + check.id
            if leaderDuties.proposedStatus[key] == check.status { leaderDuties.proposedStatus[key] = nil }
        }
        let critical = Set(checks.filter { $0.status == .critical }.map { $0.node + "\u{0}" + $0.id })
        guard !critical.isEmpty else { return }
        for session in view.kv.sessions() where !leaderDuties.invalidating.contains(session.id) {
            if let failed = session.checks.first(where: { critical.contains(session.node + "\u{0}" + $0) }) {
                logger.info("session \(session.id) invalidated: its check \(failed) is critical")
                invalidate(session: session.id)
            }
        }
    }

    private func invalidate(session id: String) {
        leaderDuties.invalidating.insert(id)
        leaderDuties.sessions.remove(id)
        proposeInternal(KVCommand.sessionDestroy(id: id, now: wallMilliseconds).encoded())
    }
}

extension ServerState: WatchStateSource {
    var appliedIndex: UInt64 { meta.index }
    func kvEntry(_ key: String) -> KVEntry? { kv.get(key) }
    func kvEntries(prefix: String) -> [KVEntry] { kv.list(prefix: prefix) }
    func serviceHealth(name: String) -> [ServiceHealth] { catalog.service(name: name, tag: "", passingOnly: false) }
    func serviceSummaries() -> [ServiceSummary] { catalog.services() }
}
