import CairnCatalog
import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Foundation

extension ConsensusLoop {
    /// Sessions: created and destroyed through Raft; renewed on the leader, which enforces TTLs.
    func planSession(_ request: ClientRequest) -> RequestPlan {
        switch request {
        case .sessionCreate(let asked):
            if let problem = KVStore.validateSessionRequest(asked) { return .answer(.error(problem.code, message: problem.message)) }
            guard raft.role == .leader else { return .answer(notLeader()) }
            let node = asked.node.isEmpty ? nodeName : asked.node
            let catalog = state.catalog
            for checkID in asked.checks {
                guard let check = catalog.check(node: node, id: checkID) else {
                    return .answer(.error(.notFound, message: "check \"\(checkID)\" is not registered on node \"\(node)\""))
                }
                if check.status == .critical {
                    return .answer(.error(.refused, message: "check \"\(checkID)\" on node \"\(node)\" is critical; a session cannot depend on it"))
                }
            }
            let session = Session(id: UUID().uuidString.lowercased(), name: asked.name, node: node, ttlMilliseconds: asked.ttlMilliseconds,
                                  lockDelayMilliseconds: asked.lockDelayMilliseconds, behavior: asked.behavior, checks: asked.checks,
                                  createIndex: 0)
            return .propose(KVCommand.sessionCreate(session).encoded()) { bytes, index in
                switch KVApplyResult(decoding: bytes) {
                case .sessionCreated(let id)?: return .sessionCreated(id: id, index: index)
                case .rejected(let reason)?: return .error(.invalidArgument, message: reason)
                default: return Self.unexpected(bytes, index)
                }
            }
        case .sessionRenew(let id):
            guard raft.role == .leader else { return .answer(notLeader()) }
            let view = state
            guard let session = view.kv.session(id) else { return .answer(.session(nil, view.meta)) }
            leaderDuties.sessions.renew(id, ttlMilliseconds: session.ttlMilliseconds, now: monotonicMilliseconds)
            return .answer(.session(session, view.meta))
        case .sessionDestroy(let id):
            return .propose(KVCommand.sessionDestroy(id: id, now: wallMilliseconds).encoded()) { _, index in .applied(index: index) }
        case .sessionInfo(let id, let consistency):
            return .read(consistency) { .session($0.kv.session(id), $0.meta) }
        case .sessionList(let consistency):
            return .read(consistency) { .sessions($0.kv.sessions(), $0.meta) }
        default:
            return .answer(.error(.internalError, message: "session planner given \(request)"))
        }
    }
}
