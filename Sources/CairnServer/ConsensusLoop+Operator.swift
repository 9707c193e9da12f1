import CairnCatalog
import CairnKV
import CairnKernel
import CairnRaft
import CairnWire

extension ConsensusLoop {
    /// Decides how to serve `request`: each module's planner handles its own operations.
    func plan(_ request: ClientRequest) -> RequestPlan {
        switch request {
        case .kvGet, .kvList, .kvKeys, .kvPut, .kvDelete, .kvDeleteTree, .kvAcquire, .kvRelease, .kvTransaction:
            return planKV(request)
        case .sessionCreate, .sessionRenew, .sessionDestroy, .sessionInfo, .sessionList:
            return planSession(request)
        case .catalogRegister, .catalogDeregister, .catalogServices, .catalogService, .catalogNodes, .catalogNodeServices,
             .healthChecks, .checkUpdate:
            return planCatalog(request)
        case .members, .removePeer, .snapshotSave, .snapshotRestore:
            return planOperator(request)
        case .watch, .watchCancel:
            // Watches travel as their own inputs (they need the connection); see ClientListener.
            return .answer(.error(.malformedRequest, message: "a watch request reached the request path"))
        }
    }

    /// Membership and whole-state operations.
    func planOperator(_ request: ClientRequest) -> RequestPlan {
        switch request {
        case .members:
            // The leader knows every server's log position: send the client there when it is
            // reachable; otherwise (no leader, or cut off from it) answer from here.
            if shouldRedirectMembers() { return .answer(notLeader()) }
            return .answer(.members(members()))
        case .removePeer(let peer):
            switch replica.withRaft({ $0.proposeMembershipChange(.remove(peer)) }) {
            case .accepted(let index, _, let term):
                return .accepted(index: index, term: term, complete: { _, index in .peerRemoved(index: index) })
            case .notLeader:
                return .answer(notLeader())
            case .invalidMembershipChange:
                return .answer(.error(.refused, message: "node \(peer) is not a member, or is the last voter"))
            case .membershipChangePending:
                return .answer(.error(.refused, message: "another membership change is in progress; retry shortly"))
            case .transferInProgress:
                return .answer(.error(.refused, message: "a leadership transfer is in progress; retry shortly"))
            default:
                return .answer(.error(.refused, message: "the change was refused"))
            }
        case .snapshotSave:
            // A linearizable read of the whole state: the archive holds every write acknowledged
            // before the request.
            return .read(.linearizable) { [replica] view in
                let archive = SnapshotArchive(index: view.meta.index, state: replica.stateMachine.snapshot())
                return .snapshotArchive(index: archive.index, archive: archive.encoded())
            }
        case .snapshotRestore(let bytes):
            let archive: SnapshotArchive
            do {
                archive = try SnapshotArchive(decoding: bytes)
            } catch {
                return .answer(.error(.invalidSnapshot, message: error.description))
            }
            // Check the sections decode before every server is asked to apply them.
            var trial = ModuleRouter(modules: [KVStore(), CatalogStore()])
            do {
                try trial.restore(archive.state, at: archive.index)
            } catch {
                return .answer(.error(.invalidSnapshot, message: "the snapshot's state does not decode: \(error)"))
            }
            return .propose(ModuleRouter.restoreCommand(archive.state)) { result, index in
                result == ModuleRouter.restoreAppliedResult
                    ? .applied(index: index)
                    : .error(.invalidSnapshot, message: String(decoding: result, as: UTF8.self))
            }
        default:
            return .answer(.error(.internalError, message: "operator planner given \(request)"))
        }
    }
}
