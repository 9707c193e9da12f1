import CairnRaft
import NIOCore

/// The body kind byte of a Raft message on the wire.
enum RaftBodyKind: UInt8 {
    case append = 1
    case appendResponse = 2
    case vote = 3
    case voteResponse = 4
    case heartbeat = 5
    case heartbeatResponse = 6
    case snapshotChunk = 7
    case snapshotChunkResponse = 8
    case timeoutNow = 9
}

extension Message.Body {
    var wireKind: RaftBodyKind {
        switch self {
        case .append: return .append
        case .appendResponse: return .appendResponse
        case .vote: return .vote
        case .voteResponse: return .voteResponse
        case .heartbeat: return .heartbeat
        case .heartbeatResponse: return .heartbeatResponse
        case .snapshotChunk: return .snapshotChunk
        case .snapshotChunkResponse: return .snapshotChunkResponse
        case .timeoutNow: return .timeoutNow
        }
    }
}

/// The smallest encoded entry: term, index, kind, data length.
private let minimumEntrySize = 8 + 8 + 1 + 4

extension Message {
    /// The exact size of the encoded message, so that an encoder can reserve once.
    var encodedSize: Int {
        let header = 8 + 8 + 8 + 1
        switch body {
        case .append(let append):
            var size = header + 8 + 8 + 4 + 8
            for entry in append.entries { size += minimumEntrySize + entry.data.count }
            return size
        case .appendResponse: return header + 8 + 1 + 8 + 8
        case .vote: return header + 8 + 8 + 1 + 1
        case .voteResponse: return header + 1 + 1
        case .heartbeat: return header + 8 + 8
        case .heartbeatResponse: return header + 8
        case .snapshotChunk(let chunk):
            let membership = chunk.metadata.membership
            return header + 8 + 8 + 4 + 8 * membership.voters.count + 4 + 8 * membership.learners.count
                + 8 + 8 + 4 + chunk.data.count + 1
        case .snapshotChunkResponse: return header + 8 + 8 + 8
        case .timeoutNow: return header
        }
    }
}

extension ByteBuffer {
    /// Writes `message` as a `raft` frame payload: `u64 from, u64 to, u64 term, u8 bodyKind, body`.
    ///
    /// Reserves the message's exact size first and writes each entry's fields in place, so an
    /// append of many entries costs no allocation beyond (at most) one growth of this buffer.
    @discardableResult
    public mutating func writeRaftMessage(_ message: Message) -> Int {
        let start = writerIndex
        reserveCapacity(minimumWritableBytes: message.encodedSize)
        writeMultipleIntegers(message.from, message.to, message.term, message.body.wireKind.rawValue)
        switch message.body {
        case .append(let append):
            writeMultipleIntegers(append.prevIndex, append.prevTerm, UInt32(append.entries.count))
            for entry in append.entries {
                writeMultipleIntegers(entry.term, entry.index, entry.kind.rawValue, UInt32(entry.data.count))
                writeBytes(entry.data)
            }
            writeInteger(append.commit)
        case .appendResponse(let response):
            writeMultipleIntegers(
                response.index, UInt8(response.reject ? 1 : 0), response.rejectHint, response.hintTerm)
        case .vote(let vote):
            writeMultipleIntegers(
                vote.lastIndex, vote.lastTerm, UInt8(vote.preVote ? 1 : 0), UInt8(vote.transfer ? 1 : 0))
        case .voteResponse(let response):
            writeMultipleIntegers(UInt8(response.granted ? 1 : 0), UInt8(response.preVote ? 1 : 0))
        case .heartbeat(let heartbeat):
            writeMultipleIntegers(heartbeat.commit, heartbeat.readContext)
        case .heartbeatResponse(let response):
            writeInteger(response.readContext)
        case .snapshotChunk(let chunk):
            writeSnapshotMetadata(chunk.metadata)
            writeMultipleIntegers(chunk.totalSize, chunk.offset)
            writeBytesField(chunk.data)
            writeBoolField(chunk.done)
        case .snapshotChunkResponse(let response):
            writeMultipleIntegers(response.snapshotIndex, response.snapshotTerm, response.nextOffset)
        case .timeoutNow:
            break
        }
        return writerIndex - start
    }

    /// Reads a Raft message from a `raft` frame payload: all readable bytes must form exactly one
    /// message.
    ///
    /// Fails with ``WireError/Code/unknownMessageKind`` for an undefined body kind,
    /// ``WireError/Code/invalidValue`` for an undefined entry kind, a bool not 0/1 or a membership
    /// whose ids are zero, not strictly ascending or not disjoint, ``WireError/Code/fieldOverrun``
    /// when a list or a byte string claims more than remains, ``WireError/Code/truncated`` when the
    /// payload ends inside a field and ``WireError/Code/trailingBytes`` when bytes remain after the
    /// message. On failure the reader index does not move.
    public mutating func readRaftMessage() throws(WireError) -> Message {
        var input = self
        let message = try input.parseRaftMessage()
        try input.checkFullyConsumed("raft message")
        self = input
        return message
    }

    private mutating func parseRaftMessage() throws(WireError) -> Message {
        let from: NodeID = try readField("raft.from")
        let to: NodeID = try readField("raft.to")
        let term: Term = try readField("raft.term")
        let kindByte: UInt8 = try readField("raft.bodyKind")
        guard let kind = RaftBodyKind(rawValue: kindByte) else {
            throw WireError(.unknownMessageKind, "raft body kind \(kindByte) is not defined (1...9)")
        }
        let body: Message.Body
        switch kind {
        case .append:
            let prevIndex: LogIndex = try readField("append.prevIndex")
            let prevTerm: Term = try readField("append.prevTerm")
            let count = try readCountField("append.entries", minimumItemSize: minimumEntrySize)
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let entryTerm: Term = try readField("append.entries[].term")
                let index: LogIndex = try readField("append.entries[].index")
                let kindByte: UInt8 = try readField("append.entries[].kind")
                guard let entryKind = Entry.Kind(rawValue: kindByte) else {
                    throw WireError(.invalidValue, "append.entries[].kind: entry kind \(kindByte) is not defined (0...2)")
                }
                let data = try readBytesField("append.entries[].data")
                entries.append(Entry(term: entryTerm, index: index, kind: entryKind, data: data))
            }
            let commit: LogIndex = try readField("append.commit")
            body = .append(Message.Append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit))
        case .appendResponse:
            let index: LogIndex = try readField("appendResponse.index")
            let reject = try readBoolField("appendResponse.reject")
            let rejectHint: LogIndex = try readField("appendResponse.rejectHint")
            let hintTerm: Term = try readField("appendResponse.hintTerm")
            body = .appendResponse(
                Message.AppendResponse(index: index, reject: reject, rejectHint: rejectHint, hintTerm: hintTerm))
        case .vote:
            let lastIndex: LogIndex = try readField("vote.lastIndex")
            let lastTerm: Term = try readField("vote.lastTerm")
            let preVote = try readBoolField("vote.preVote")
            let transfer = try readBoolField("vote.transfer")
            body = .vote(Message.VoteRequest(lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote, transfer: transfer))
        case .voteResponse:
            let granted = try readBoolField("voteResponse.granted")
            let preVote = try readBoolField("voteResponse.preVote")
            body = .voteResponse(Message.VoteResponse(granted: granted, preVote: preVote))
        case .heartbeat:
            let commit: LogIndex = try readField("heartbeat.commit")
            let readContext: UInt64 = try readField("heartbeat.readContext")
            body = .heartbeat(Message.Heartbeat(commit: commit, readContext: readContext))
        case .heartbeatResponse:
            let readContext: UInt64 = try readField("heartbeatResponse.readContext")
            body = .heartbeatResponse(Message.HeartbeatResponse(readContext: readContext))
        case .snapshotChunk:
            let metadata = try readSnapshotMetadata()
            let totalSize: UInt64 = try readField("snapshotChunk.totalSize")
            let offset: UInt64 = try readField("snapshotChunk.offset")
            let data = try readBytesField("snapshotChunk.data")
            let done = try readBoolField("snapshotChunk.done")
            body = .snapshotChunk(
                Message.SnapshotChunk(metadata: metadata, totalSize: totalSize, offset: offset, data: data, done: done))
        case .snapshotChunkResponse:
            let snapshotIndex: LogIndex = try readField("snapshotChunkResponse.snapshotIndex")
            let snapshotTerm: Term = try readField("snapshotChunkResponse.snapshotTerm")
            let nextOffset: UInt64 = try readField("snapshotChunkResponse.nextOffset")
            body = .snapshotChunkResponse(
                Message.SnapshotChunkResponse(snapshotIndex: snapshotIndex, snapshotTerm: snapshotTerm, nextOffset: nextOffset))
        case .timeoutNow:
            body = .timeoutNow
        }
        return Message(from: from, to: to, term: term, body: body)
    }

    // MARK: Snapshot metadata and membership

    private mutating func writeSnapshotMetadata(_ metadata: SnapshotMetadata) {
        writeMultipleIntegers(metadata.index, metadata.term)
        writeNodeIDList(metadata.membership.voters)
        writeNodeIDList(metadata.membership.learners)
    }

    private mutating func writeNodeIDList(_ ids: Set<NodeID>) {
        writeInteger(UInt32(ids.count))
        for id in ids.sorted() { writeInteger(id) }
    }

    private mutating func readSnapshotMetadata() throws(WireError) -> SnapshotMetadata {
        let index: LogIndex = try readField("snapshotChunk.metadata.index")
        let term: Term = try readField("snapshotChunk.metadata.term")
        let voters = try readNodeIDList("snapshotChunk.metadata.voters")
        let learners = try readNodeIDList("snapshotChunk.metadata.learners")
        guard voters.isDisjoint(with: learners) else {
            let both = voters.intersection(learners).sorted().map(String.init).joined(separator: ", ")
            throw WireError(.invalidValue, "snapshotChunk.metadata: nodes \(both) are both voter and learner")
        }
        return SnapshotMetadata(index: index, term: term, membership: Membership(voters: voters, learners: learners))
    }

    /// Reads a `list<u64>` of node ids, which must be non-zero and strictly ascending.
    private mutating func readNodeIDList(_ field: StaticString) throws(WireError) -> Set<NodeID> {
        let count = try readCountField(field, minimumItemSize: 8)
        var ids = Set<NodeID>(minimumCapacity: count)
        var previous: NodeID = 0
        for _ in 0..<count {
            let id: NodeID = try readField(field)
            guard id > previous else {
                throw WireError(
                    .invalidValue,
                    id == 0
                        ? "\(field): node id 0 is not a node"
                        : "\(field): ids must be strictly ascending, \(id) follows \(previous)")
            }
            ids.insert(id)
            previous = id
        }
        return ids
    }
}
