import CairnRaft
import NIOCore

/// The `u16 op` of a request payload. High byte: the module (0x01 KV, 0x02 operator, 0x03 catalog
/// and health, 0x04 sessions, 0x05 watches).
enum ClientOperationCode: UInt16 {
    case kvGet = 0x0101
    case kvPut = 0x0102
    case kvDelete = 0x0103
    case kvList = 0x0104
    case kvKeys = 0x0105
    case kvDeleteTree = 0x0106
    case kvAcquire = 0x0107
    case kvRelease = 0x0108
    case kvTransaction = 0x0109
    case members = 0x0201
    case removePeer = 0x0202
    case snapshotSave = 0x0203
    case snapshotRestore = 0x0204
    case catalogRegister = 0x0301
    case catalogDeregister = 0x0302
    case catalogServices = 0x0303
    case catalogService = 0x0304
    case catalogNodes = 0x0305
    case catalogNodeServices = 0x0306
    case healthChecks = 0x0307
    case checkUpdate = 0x0308
    case sessionCreate = 0x0401
    case sessionRenew = 0x0402
    case sessionDestroy = 0x0403
    case sessionInfo = 0x0404
    case sessionList = 0x0405
    case watch = 0x0501
    case watchCancel = 0x0502
}

/// The `u16 kind` of a response payload: the operation it answers, or 0xFFxx for answers any
/// request may get.
enum ClientResponseCode: UInt16 {
    case kvGet = 0x0101
    case kvPut = 0x0102
    case kvDelete = 0x0103
    case kvList = 0x0104
    case kvKeys = 0x0105
    case kvTransaction = 0x0109
    case members = 0x0201
    case peerRemoved = 0x0202
    case snapshotArchive = 0x0203
    case catalogServices = 0x0303
    case catalogService = 0x0304
    case catalogNodes = 0x0305
    case catalogNodeServices = 0x0306
    case healthChecks = 0x0307
    case sessionCreated = 0x0401
    case session = 0x0404
    case sessions = 0x0405
    case watchEvent = 0x0501
    case notLeader = 0xFF01
    case error = 0xFF02
    case applied = 0xFF03
}

extension ClientRequest {
    var operationCode: ClientOperationCode {
        switch self {
        case .kvGet: return .kvGet
        case .kvList: return .kvList
        case .kvKeys: return .kvKeys
        case .kvPut: return .kvPut
        case .kvDelete: return .kvDelete
        case .kvDeleteTree: return .kvDeleteTree
        case .kvAcquire: return .kvAcquire
        case .kvRelease: return .kvRelease
        case .kvTransaction: return .kvTransaction
        case .members: return .members
        case .removePeer: return .removePeer
        case .snapshotSave: return .snapshotSave
        case .snapshotRestore: return .snapshotRestore
        case .catalogRegister: return .catalogRegister
        case .catalogDeregister: return .catalogDeregister
        case .catalogServices: return .catalogServices
        case .catalogService: return .catalogService
        case .catalogNodes: return .catalogNodes
        case .catalogNodeServices: return .catalogNodeServices
        case .healthChecks: return .healthChecks
        case .checkUpdate: return .checkUpdate
        case .sessionCreate: return .sessionCreate
        case .sessionRenew: return .sessionRenew
        case .sessionDestroy: return .sessionDestroy
        case .sessionInfo: return .sessionInfo
        case .sessionList: return .sessionList
        case .watch: return .watch
        case .watchCancel: return .watchCancel
        }
    }
}

extension ClientResponse {
    var responseCode: ClientResponseCode {
        switch self {
        case .kvGet: return .kvGet
        case .kvList: return .kvList
        case .kvKeys: return .kvKeys
        case .kvPut: return .kvPut
        case .kvDelete: return .kvDelete
        case .kvTransaction: return .kvTransaction
        case .members: return .members
        case .peerRemoved: return .peerRemoved
        case .snapshotArchive: return .snapshotArchive
        case .applied: return .applied
        case .catalogServices: return .catalogServices
        case .catalogService: return .catalogService
        case .catalogNodes: return .catalogNodes
        case .catalogNodeServices: return .catalogNodeServices
        case .healthChecks: return .healthChecks
        case .sessionCreated: return .sessionCreated
        case .session: return .session
        case .sessions: return .sessions
        case .watchEvent: return .watchEvent
        case .notLeader: return .notLeader
        case .error: return .error
        }
    }
}

extension ByteBuffer {
    // MARK: Requests

    /// Writes `request` as a `request` frame payload: `u16 op` and the operation's fields
    /// (Protocol/README.md §6.1). Maps are written with their keys in ascending UTF-8 byte order, so
    /// the bytes depend on the value only.
    @discardableResult
    public mutating func writeClientRequest(_ request: ClientRequest) -> Int {
        let start = writerIndex
        writeInteger(request.operationCode.rawValue)
        switch request {
        case .kvGet(let key, let consistency), .kvList(let key, let consistency):
            writeStringField(key)
            writeInteger(consistency.rawValue)
        case .kvKeys(let prefix, let separator, let consistency):
            writeStringField(prefix)
            writeStringField(separator)
            writeInteger(consistency.rawValue)
        case .kvPut(let key, let value, let flags, let cas):
            reserveCapacity(minimumWritableBytes: 4 + key.utf8.count + 4 + value.count + 8 + 9)
            writeStringField(key)
            writeBytesField(value)
            writeInteger(flags)
            writeOptionalU64Field(cas)
        case .kvDelete(let key, let cas):
            writeStringField(key)
            writeOptionalU64Field(cas)
        case .kvDeleteTree(let prefix):
            writeStringField(prefix)
        case .kvAcquire(let key, let value, let flags, let session),
            .kvRelease(let key, let value, let flags, let session):
            writeStringField(key)
            writeBytesField(value)
            writeInteger(flags)
            writeStringField(session)
        case .kvTransaction(let operations):
            writeListField(operations) { $0.writeTransactionOperation($1) }
        case .members, .snapshotSave:
            break
        case .removePeer(let id):
            writeInteger(id)
        case .snapshotRestore(let archive):
            writeBytesField(archive)
        case .catalogRegister(let registration):
            writeServiceRegistration(registration)
        case .catalogDeregister(let node, let serviceID):
            writeStringField(node)
            writeStringField(serviceID)
        case .catalogServices(let consistency), .catalogNodes(let consistency), .sessionList(let consistency):
            writeInteger(consistency.rawValue)
        case .catalogService(let name, let tag, let passingOnly, let consistency):
            writeStringField(name)
            writeStringField(tag)
            writeMultipleIntegers(UInt8(passingOnly ? 1 : 0), consistency.rawValue)
        case .catalogNodeServices(let name, let consistency), .healthChecks(let name, let consistency),
            .sessionInfo(let name, let consistency):
            writeStringField(name)
            writeInteger(consistency.rawValue)
        case .checkUpdate(let node, let checkID, let status, let output):
            writeStringField(node)
            writeStringField(checkID)
            writeInteger(status.rawValue)
            writeStringField(output)
        case .sessionCreate(let sessionRequest):
            writeSessionRequest(sessionRequest)
        case .sessionRenew(let id), .sessionDestroy(let id):
            writeStringField(id)
        case .watch(let target, let fromIndex):
            writeWatchTarget(target)
            writeInteger(fromIndex)
        case .watchCancel(let streamID):
            writeInteger(streamID)
        }
        return writerIndex - start
    }

    /// Reads a client request from a `request` frame payload: all readable bytes must form exactly
    /// one request.
    ///
    /// An operation code this version does not define fails with
    /// ``WireError/Code/unknownMessageKind`` — the one error a server answers with a response
    /// (``ClientErrorCode/unknownOperation``) instead of closing the connection. Otherwise fails
    /// like ``readRaftMessage()``; an undefined enum value or tag (a read consistency, a check
    /// status, a transaction operation, a watch target…) and a map whose keys are not strictly
    /// ascending fail with ``WireError/Code/invalidValue``. The reason names the full path of the
    /// field that failed (`catalogRegister.registration.checks[1].kind.tag: …`). On failure the
    /// reader index does not move.
    public mutating func readClientRequest() throws(WireError) -> ClientRequest {
        var input = self
        let request = try input.parseClientRequest()
        try input.checkFullyConsumed("client request")
        self = input
        return request
    }

    private mutating func parseClientRequest() throws(WireError) -> ClientRequest {
        let opValue: UInt16 = try readField("request.op")
        guard let op = ClientOperationCode(rawValue: opValue) else {
            throw WireError(.unknownMessageKind, "request operation 0x\(opValue.hex4) is not defined")
        }
        switch op {
        case .kvGet:
            let key = try readStringField("kvGet.key")
            let consistency = try readConsistencyField("kvGet.consistency")
            return .kvGet(key: key, consistency: consistency)
        case .kvList:
            let prefix = try readStringField("kvList.prefix")
            let consistency = try readConsistencyField("kvList.consistency")
            return .kvList(prefix: prefix, consistency: consistency)
        case .kvKeys:
            let prefix = try readStringField("kvKeys.prefix")
            let separator = try readStringField("kvKeys.separator")
            let consistency = try readConsistencyField("kvKeys.consistency")
            return .kvKeys(prefix: prefix, separator: separator, consistency: consistency)
        case .kvPut:
            let key = try readStringField("kvPut.key")
            let value = try readBytesField("kvPut.value")
            let flags: UInt64 = try readField("kvPut.flags")
            let cas = try readOptionalU64Field("kvPut.cas")
            return .kvPut(key: key, value: value, flags: flags, cas: cas)
        case .kvDelete:
            let key = try readStringField("kvDelete.key")
            let cas = try readOptionalU64Field("kvDelete.cas")
            return .kvDelete(key: key, cas: cas)
        case .kvDeleteTree:
            return .kvDeleteTree(prefix: try readStringField("kvDeleteTree.prefix"))
        case .kvAcquire:
            let key = try readStringField("kvAcquire.key")
            let value = try readBytesField("kvAcquire.value")
            let flags: UInt64 = try readField("kvAcquire.flags")
            let session = try readStringField("kvAcquire.session")
            return .kvAcquire(key: key, value: value, flags: flags, session: session)
        case .kvRelease:
            let key = try readStringField("kvRelease.key")
            let value = try readBytesField("kvRelease.value")
            let flags: UInt64 = try readField("kvRelease.flags")
            let session = try readStringField("kvRelease.session")
            return .kvRelease(key: key, value: value, flags: flags, session: session)
        case .kvTransaction:
            let operations = try readListField(
                "kvTransaction.operations", minimumItemSize: MinimumEncodedSize.transactionOperation
            ) { buffer throws(WireError) in try buffer.readTransactionOperation() }
            return .kvTransaction(operations)
        case .members:
            return .members
        case .removePeer:
            let id: NodeID = try readField("removePeer.id")
            return .removePeer(id: id)
        case .snapshotSave:
            return .snapshotSave
        case .snapshotRestore:
            return .snapshotRestore(archive: try readBytesField("snapshotRestore.archive"))
        case .catalogRegister:
            let registration = try readNested("catalogRegister.registration") { buffer throws(WireError) in
                try buffer.readServiceRegistration()
            }
            return .catalogRegister(registration)
        case .catalogDeregister:
            let node = try readStringField("catalogDeregister.node")
            let serviceID = try readStringField("catalogDeregister.serviceID")
            return .catalogDeregister(node: node, serviceID: serviceID)
        case .catalogServices:
            return .catalogServices(consistency: try readConsistencyField("catalogServices.consistency"))
        case .catalogService:
            let name = try readStringField("catalogService.name")
            let tag = try readStringField("catalogService.tag")
            let passingOnly = try readBoolField("catalogService.passingOnly")
            let consistency = try readConsistencyField("catalogService.consistency")
            return .catalogService(name: name, tag: tag, passingOnly: passingOnly, consistency: consistency)
        case .catalogNodes:
            return .catalogNodes(consistency: try readConsistencyField("catalogNodes.consistency"))
        case .catalogNodeServices:
            let node = try readStringField("catalogNodeServices.node")
            let consistency = try readConsistencyField("catalogNodeServices.consistency")
            return .catalogNodeServices(node: node, consistency: consistency)
        case .healthChecks:
            let serviceName = try readStringField("healthChecks.serviceName")
            let consistency = try readConsistencyField("healthChecks.consistency")
            return .healthChecks(serviceName: serviceName, consistency: consistency)
        case .checkUpdate:
            let node = try readStringField("checkUpdate.node")
            let checkID = try readStringField("checkUpdate.checkID")
            let status = try readCheckStatusField("checkUpdate.status")
            let output = try readStringField("checkUpdate.output")
            return .checkUpdate(node: node, checkID: checkID, status: status, output: output)
        case .sessionCreate:
            let sessionRequest = try readNested("sessionCreate.request") { buffer throws(WireError) in
                try buffer.readSessionRequest()
            }
            return .sessionCreate(sessionRequest)
        case .sessionRenew:
            return .sessionRenew(id: try readStringField("sessionRenew.id"))
        case .sessionDestroy:
            return .sessionDestroy(id: try readStringField("sessionDestroy.id"))
        case .sessionInfo:
            let id = try readStringField("sessionInfo.id")
            let consistency = try readConsistencyField("sessionInfo.consistency")
            return .sessionInfo(id: id, consistency: consistency)
        case .sessionList:
            return .sessionList(consistency: try readConsistencyField("sessionList.consistency"))
        case .watch:
            let target = try readNested("watch.target") { buffer throws(WireError) in try buffer.readWatchTarget() }
            let fromIndex: UInt64 = try readField("watch.fromIndex")
            return .watch(target, fromIndex: fromIndex)
        case .watchCancel:
            let streamID: UInt64 = try readField("watchCancel.streamID")
            return .watchCancel(streamID: streamID)
        }
    }

    // MARK: Responses

    /// Writes `response` as a `response` frame payload: `u16 kind` and the kind's fields
    /// (Protocol/README.md §6.2). Maps are written with their keys in ascending UTF-8 byte order, so
    /// the bytes depend on the value only.
    @discardableResult
    public mutating func writeClientResponse(_ response: ClientResponse) -> Int {
        let start = writerIndex
        writeInteger(response.responseCode.rawValue)
        switch response {
        case .kvGet(let entry, let meta):
            writeOptionalKVEntry(entry)
            writeReadMeta(meta)
        case .kvList(let entries, let meta):
            writeListField(entries) { $0.writeKVEntry($1) }
            writeReadMeta(meta)
        case .kvKeys(let keys, let meta):
            writeStringListField(keys)
            writeReadMeta(meta)
        case .kvPut(let succeeded, let index), .kvDelete(let succeeded, let index):
            writeBoolField(succeeded)
            writeInteger(index)
        case .kvTransaction(let outcome):
            writeTransactionOutcome(outcome)
        case .members(let members):
            writeListField(members) { buffer, member in
                buffer.writeInteger(member.id)
                buffer.writeStringField(member.name)
                buffer.writeStringField(member.peerAddress)
                buffer.writeStringField(member.clientAddress)
                buffer.writeBoolField(member.voter)
                buffer.writeStringField(member.role)
                buffer.writeMultipleIntegers(member.term, member.lastIndex, UInt8(member.reachable ? 1 : 0))
            }
        case .peerRemoved(let index), .applied(let index):
            writeInteger(index)
        case .snapshotArchive(let index, let archive):
            reserveCapacity(minimumWritableBytes: 8 + 4 + archive.count)
            writeInteger(index)
            writeBytesField(archive)
        case .catalogServices(let services, let meta):
            writeListField(services) { $0.writeServiceSummary($1) }
            writeReadMeta(meta)
        case .catalogService(let instances, let meta):
            writeListField(instances) { $0.writeServiceHealth($1) }
            writeReadMeta(meta)
        case .catalogNodes(let nodes, let meta):
            writeListField(nodes) { $0.writeCatalogNode($1) }
            writeReadMeta(meta)
        case .catalogNodeServices(let node, let services, let meta):
            if let node {
                writeInteger(1, as: UInt8.self)
                writeCatalogNode(node)
            } else {
                writeInteger(0, as: UInt8.self)
            }
            writeListField(services) { $0.writeServiceInstance($1) }
            writeReadMeta(meta)
        case .healthChecks(let checks, let meta):
            writeListField(checks) { $0.writeHealthCheck($1) }
            writeReadMeta(meta)
        case .sessionCreated(let id, let index):
            writeStringField(id)
            writeInteger(index)
        case .session(let session, let meta):
            if let session {
                writeInteger(1, as: UInt8.self)
                writeSession(session)
            } else {
                writeInteger(0, as: UInt8.self)
            }
            writeReadMeta(meta)
        case .sessions(let sessions, let meta):
            writeListField(sessions) { $0.writeSession($1) }
            writeReadMeta(meta)
        case .watchEvent(let event):
            writeWatchEvent(event)
        case .notLeader(let leaderID, let leaderAddress):
            writeInteger(leaderID)
            writeStringField(leaderAddress)
        case .error(let code, let message):
            writeInteger(code.rawValue)
            writeStringField(message)
        }
        return writerIndex - start
    }

    /// Reads a client response from a `response` frame payload: all readable bytes must form
    /// exactly one response. An undefined response kind fails with
    /// ``WireError/Code/unknownMessageKind``; otherwise fails like ``readClientRequest()``. Error
    /// codes (``ClientErrorCode``) are not checked: a code a newer server defines keeps its value.
    /// On failure the reader index does not move.
    public mutating func readClientResponse() throws(WireError) -> ClientResponse {
        var input = self
        let response = try input.parseClientResponse()
        try input.checkFullyConsumed("client response")
        self = input
        return response
    }

    private mutating func parseClientResponse() throws(WireError) -> ClientResponse {
        let kindValue: UInt16 = try readField("response.kind")
        guard let kind = ClientResponseCode(rawValue: kindValue) else {
            throw WireError(.unknownMessageKind, "response kind 0x\(kindValue.hex4) is not defined")
        }
        switch kind {
        case .kvGet:
            let entry = try readOptionalKVEntry("kvGet.entry")
            return .kvGet(entry, try readMetaField("kvGet.meta"))
        case .kvList:
            let entries = try readKVEntryList("kvList.entries")
            return .kvList(entries, try readMetaField("kvList.meta"))
        case .kvKeys:
            let keys = try readStringListField("kvKeys.keys")
            return .kvKeys(keys, try readMetaField("kvKeys.meta"))
        case .kvPut:
            let succeeded = try readBoolField("kvPut.succeeded")
            let index: UInt64 = try readField("kvPut.index")
            return .kvPut(succeeded: succeeded, index: index)
        case .kvDelete:
            let succeeded = try readBoolField("kvDelete.succeeded")
            let index: UInt64 = try readField("kvDelete.index")
            return .kvDelete(succeeded: succeeded, index: index)
        case .kvTransaction:
            let outcome = try readNested("kvTransaction.outcome") { buffer throws(WireError) in
                try buffer.readTransactionOutcome()
            }
            return .kvTransaction(outcome)
        case .members:
            let members = try readListField("members", minimumItemSize: MinimumEncodedSize.member) {
                buffer throws(WireError) in try buffer.readMember()
            }
            return .members(members)
        case .peerRemoved:
            let index: UInt64 = try readField("peerRemoved.index")
            return .peerRemoved(index: index)
        case .snapshotArchive:
            let index: UInt64 = try readField("snapshotArchive.index")
            let archive = try readBytesField("snapshotArchive.archive")
            return .snapshotArchive(index: index, archive: archive)
        case .applied:
            let index: UInt64 = try readField("applied.index")
            return .applied(index: index)
        case .catalogServices:
            let services = try readServiceSummaryList("catalogServices.services")
            return .catalogServices(services, try readMetaField("catalogServices.meta"))
        case .catalogService:
            let instances = try readServiceHealthList("catalogService.instances")
            return .catalogService(instances, try readMetaField("catalogService.meta"))
        case .catalogNodes:
            let nodes = try readListField("catalogNodes.nodes", minimumItemSize: MinimumEncodedSize.catalogNode) {
                buffer throws(WireError) in try buffer.readCatalogNode()
            }
            return .catalogNodes(nodes, try readMetaField("catalogNodes.meta"))
        case .catalogNodeServices:
            var node: CatalogNode?
            if try readPresenceField("catalogNodeServices.node") {
                node = try readNested("catalogNodeServices.node") { buffer throws(WireError) in
                    try buffer.readCatalogNode()
                }
            }
            let services = try readListField(
                "catalogNodeServices.services", minimumItemSize: MinimumEncodedSize.serviceInstance
            ) { buffer throws(WireError) in try buffer.readServiceInstance() }
            return .catalogNodeServices(node, services, try readMetaField("catalogNodeServices.meta"))
        case .healthChecks:
            let checks = try readListField("healthChecks.checks", minimumItemSize: MinimumEncodedSize.healthCheck) {
                buffer throws(WireError) in try buffer.readHealthCheck()
            }
            return .healthChecks(checks, try readMetaField("healthChecks.meta"))
        case .sessionCreated:
            let id = try readStringField("sessionCreated.id")
            let index: UInt64 = try readField("sessionCreated.index")
            return .sessionCreated(id: id, index: index)
        case .session:
            var session: Session?
            if try readPresenceField("session.session") {
                session = try readNested("session.session") { buffer throws(WireError) in try buffer.readSession() }
            }
            return .session(session, try readMetaField("session.meta"))
        case .sessions:
            let sessions = try readListField("sessions.sessions", minimumItemSize: MinimumEncodedSize.session) {
                buffer throws(WireError) in try buffer.readSession()
            }
            return .sessions(sessions, try readMetaField("sessions.meta"))
        case .watchEvent:
            let event = try readNested("watchEvent") { buffer throws(WireError) in try buffer.readWatchEvent() }
            return .watchEvent(event)
        case .notLeader:
            let leaderID: NodeID = try readField("notLeader.leaderID")
            let leaderAddress = try readStringField("notLeader.leaderAddress")
            return .notLeader(leaderID: leaderID, leaderAddress: leaderAddress)
        case .error:
            let code: UInt16 = try readField("error.code")
            let message = try readStringField("error.message")
            return .error(ClientErrorCode(rawValue: code), message: message)
        }
    }

    /// Reads the `readMeta` that ends every read response.
    private mutating func readMetaField(_ field: StaticString) throws(WireError) -> ReadMeta {
        try readNested(field) { buffer throws(WireError) in try buffer.readReadMeta() }
    }

    /// `member` = `u64 id, string name, string peerAddress, string clientAddress, bool voter,
    /// string role, u64 term, u64 lastIndex, bool reachable`.
    private mutating func readMember() throws(WireError) -> MemberInfo {
        let id: NodeID = try readField("id")
        let name = try readStringField("name")
        let peerAddress = try readStringField("peerAddress")
        let clientAddress = try readStringField("clientAddress")
        let voter = try readBoolField("voter")
        let role = try readStringField("role")
        let term: UInt64 = try readField("term")
        let lastIndex: UInt64 = try readField("lastIndex")
        let reachable = try readBoolField("reachable")
        return MemberInfo(
            id: id, name: name, peerAddress: peerAddress, clientAddress: clientAddress, voter: voter, role: role,
            term: term, lastIndex: lastIndex, reachable: reachable)
    }
}

extension UInt16 {
    /// Four lowercase hex digits, for error reasons.
    var hex4: String {
        let digits = String(self, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
