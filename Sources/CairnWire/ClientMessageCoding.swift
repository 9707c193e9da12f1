import CairnRaft
import NIOCore

/// The `u16 op` of a request payload. High byte: the module (0x01 KV, 0x02 operator; 0x03 catalog,
/// 0x04 sessions, 0x05 watches are reserved for them).
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

/// Smallest encodings of list items, for count checks.
private let minimumMemberSize = 8 + 4 + 4 + 4 + 1 + 4 + 8 + 8 + 1

extension ClientRequest {
    var operationCode: ClientOperationCode {
        switch self {
        case .kvGet: return .kvGet
        case .kvPut: return .kvPut
        case .kvDelete: return .kvDelete
        case .members: return .members
        case .removePeer: return .removePeer
        default: fatalError("PENDING codec")
        }
    }
}

extension ClientResponse {
    var responseCode: ClientResponseCode {
        switch self {
        case .kvGet: return .kvGet
        case .kvPut: return .kvPut
        case .kvDelete: return .kvDelete
        case .members: return .members
        case .peerRemoved: return .peerRemoved
        case .notLeader: return .notLeader
        case .error: return .error
        default: fatalError("PENDING codec")
        }
    }
}

extension ByteBuffer {
    // MARK: Requests

    /// Writes `request` as a `request` frame payload: `u16 op` and the operation's fields.
    @discardableResult
    public mutating func writeClientRequest(_ request: ClientRequest) -> Int {
        let start = writerIndex
        writeInteger(request.operationCode.rawValue)
        switch request {
        case .kvGet(let key, let consistency):
            writeStringField(key)
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
        case .members:
            break
        case .removePeer(let id):
            writeInteger(id)
        default: fatalError("PENDING codec")
        }
        return writerIndex - start
    }

    /// Reads a client request from a `request` frame payload: all readable bytes must form exactly
    /// one request.
    ///
    /// An operation code this version does not define fails with
    /// ``WireError/Code/unknownMessageKind`` — the one error a server answers with a response
    /// (``ClientErrorCode/unknownOperation``) instead of closing the connection. Otherwise fails
    /// like ``readRaftMessage()``. On failure the reader index does not move.
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
            let consistencyByte: UInt8 = try readField("kvGet.consistency")
            guard let consistency = ReadConsistency(rawValue: consistencyByte) else {
                throw WireError(
                    .invalidValue, "kvGet.consistency: \(consistencyByte) is not defined (0 linearizable, 1 stale)")
            }
            return .kvGet(key: key, consistency: consistency)
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
        case .members:
            return .members
        case .removePeer:
            let id: NodeID = try readField("removePeer.id")
            return .removePeer(id: id)
        default: fatalError("PENDING codec")
        }
    }

    // MARK: Responses

    /// Writes `response` as a `response` frame payload: `u16 kind` and the kind's fields.
    @discardableResult
    public mutating func writeClientResponse(_ response: ClientResponse) -> Int {
        let start = writerIndex
        writeInteger(response.responseCode.rawValue)
        switch response {
        case .kvGet(let entry, _):
            if let entry {
                reserveCapacity(
                    minimumWritableBytes: 1 + 4 + entry.key.utf8.count + 4 + entry.value.count + 32 + 4
                        + entry.session.utf8.count)
                writeInteger(1, as: UInt8.self)
                writeStringField(entry.key)
                writeBytesField(entry.value)
                writeMultipleIntegers(entry.flags, entry.createIndex, entry.modifyIndex, entry.lockIndex)
                writeStringField(entry.session)
            } else {
                writeInteger(0, as: UInt8.self)
            }
        case .kvPut(let succeeded, let index), .kvDelete(let succeeded, let index):
            writeBoolField(succeeded)
            writeInteger(index)
        case .members(let members):
            writeInteger(UInt32(members.count))
            for member in members {
                writeInteger(member.id)
                writeStringField(member.name)
                writeStringField(member.peerAddress)
                writeStringField(member.clientAddress)
                writeBoolField(member.voter)
                writeStringField(member.role)
                writeMultipleIntegers(member.term, member.lastIndex, UInt8(member.reachable ? 1 : 0))
            }
        case .peerRemoved(let index):
            writeInteger(index)
        case .notLeader(let leaderID, let leaderAddress):
            writeInteger(leaderID)
            writeStringField(leaderAddress)
        case .error(let code, let message):
            writeInteger(code.rawValue)
            writeStringField(message)
        default: fatalError("PENDING codec")
        }
        return writerIndex - start
    }

    /// Reads a client response from a `response` frame payload: all readable bytes must form
    /// exactly one response. An undefined response kind fails with
    /// ``WireError/Code/unknownMessageKind``; otherwise fails like ``readRaftMessage()``. Error
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
            guard try readPresenceField("kvGet.entry") else { return .kvGet(nil, ReadMeta(index: 0, knownLeader: true, lastContactMilliseconds: 0)) }
            let key = try readStringField("kvGet.entry.key")
            let value = try readBytesField("kvGet.entry.value")
            let flags: UInt64 = try readField("kvGet.entry.flags")
            let createIndex: UInt64 = try readField("kvGet.entry.createIndex")
            let modifyIndex: UInt64 = try readField("kvGet.entry.modifyIndex")
            let lockIndex: UInt64 = try readField("kvGet.entry.lockIndex")
            let session = try readStringField("kvGet.entry.session")
            return .kvGet(
                KVEntry(
                    key: key, value: value, flags: flags, createIndex: createIndex, modifyIndex: modifyIndex,
                    lockIndex: lockIndex, session: session), ReadMeta(index: 0, knownLeader: true, lastContactMilliseconds: 0))
        case .kvPut:
            let succeeded = try readBoolField("kvPut.succeeded")
            let index: UInt64 = try readField("kvPut.index")
            return .kvPut(succeeded: succeeded, index: index)
        case .kvDelete:
            let succeeded = try readBoolField("kvDelete.succeeded")
            let index: UInt64 = try readField("kvDelete.index")
            return .kvDelete(succeeded: succeeded, index: index)
        case .members:
            let count = try readCountField("members", minimumItemSize: minimumMemberSize)
            var members: [MemberInfo] = []
            members.reserveCapacity(count)
            for _ in 0..<count {
                let id: NodeID = try readField("members[].id")
                let name = try readStringField("members[].name")
                let peerAddress = try readStringField("members[].peerAddress")
                let clientAddress = try readStringField("members[].clientAddress")
                let voter = try readBoolField("members[].voter")
                let role = try readStringField("members[].role")
                let term: UInt64 = try readField("members[].term")
                let lastIndex: UInt64 = try readField("members[].lastIndex")
                let reachable = try readBoolField("members[].reachable")
                members.append(
                    MemberInfo(
                        id: id, name: name, peerAddress: peerAddress, clientAddress: clientAddress, voter: voter,
                        role: role, term: term, lastIndex: lastIndex, reachable: reachable))
            }
            return .members(members)
        case .peerRemoved:
            let index: UInt64 = try readField("peerRemoved.index")
            return .peerRemoved(index: index)
        case .notLeader:
            let leaderID: NodeID = try readField("notLeader.leaderID")
            let leaderAddress = try readStringField("notLeader.leaderAddress")
            return .notLeader(leaderID: leaderID, leaderAddress: leaderAddress)
        case .error:
            let code: UInt16 = try readField("error.code")
            let message = try readStringField("error.message")
            return .error(ClientErrorCode(rawValue: code), message: message)
        default: fatalError("PENDING codec")
        }
    }
}

extension UInt16 {
    /// Four lowercase hex digits, for error reasons.
    var hex4: String {
        let digits = String(self, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
