import CairnRaft
import NIOCore
import Testing

@testable import CairnWire

/// Draws random protocol values from a seeded generator, so a failure replays from its seed.
struct MessageGenerator {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func bool() -> Bool { Bool.random(using: &random) }

    /// Mostly small numbers, sometimes the extremes.
    mutating func u64() -> UInt64 {
        switch int(0...9) {
        case 0: return 0
        case 1: return .max
        case 2...5: return UInt64(int(0...1000))
        default: return UInt64.random(in: 0 ... .max, using: &random)
        }
    }

    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: u64()) }

    mutating func bytes(maxCount: Int = 64) -> [UInt8] {
        (0..<int(0...maxCount)).map { _ in UInt8.random(in: 0 ... .max, using: &random) }
    }

    /// Strings of ASCII and multi-byte scalars (2, 3 and 4 UTF-8 bytes).
    mutating func string(maxCount: Int = 24) -> String {
        let alphabet: [Character] = ["a", "z", "/", "-", "0", " ", "é", "ß", "€", "中", "😀", "\u{0}"]
        return String((0..<int(0...maxCount)).map { _ in alphabet[int(0...alphabet.count - 1)] })
    }

    mutating func optionalU64() -> UInt64? { bool() ? u64() : nil }

    mutating func nodeIDs(_ count: Int) -> Set<NodeID> {
        var ids = Set<NodeID>()
        while ids.count < count { ids.insert(UInt64(int(1...1 << 20))) }
        return ids
    }

    mutating func membership() -> Membership {
        let all = Array(nodeIDs(int(0...7)))
        let voterCount = int(0...all.count)
        return Membership(voters: Set(all[..<voterCount]), learners: Set(all[voterCount...]))
    }

    mutating func entry() -> Entry {
        Entry(term: u64(), index: u64(), kind: [Entry.Kind.normal, .empty, .membership][int(0...2)], data: bytes())
    }

    mutating func raftMessage() -> Message {
        let body: Message.Body
        switch int(1...9) {
        case 1:
            body = .append(
                Message.Append(
                    prevIndex: u64(), prevTerm: u64(), entries: (0..<int(0...20)).map { _ in entry() }, commit: u64()))
        case 2:
            body = .appendResponse(Message.AppendResponse(index: u64(), reject: bool(), rejectHint: u64(), hintTerm: u64()))
        case 3:
            body = .vote(Message.VoteRequest(lastIndex: u64(), lastTerm: u64(), preVote: bool(), transfer: bool()))
        case 4: body = .voteResponse(Message.VoteResponse(granted: bool(), preVote: bool()))
        case 5: body = .heartbeat(Message.Heartbeat(commit: u64(), readContext: u64()))
        case 6: body = .heartbeatResponse(Message.HeartbeatResponse(readContext: u64()))
        case 7:
            body = .snapshotChunk(
                Message.SnapshotChunk(
                    metadata: SnapshotMetadata(index: u64(), term: u64(), membership: membership()), totalSize: u64(),
                    offset: u64(), data: bytes(maxCount: 300), done: bool()))
        case 8:
            body = .snapshotChunkResponse(
                Message.SnapshotChunkResponse(snapshotIndex: u64(), snapshotTerm: u64(), nextOffset: u64()))
        default: body = .timeoutNow
        }
        return Message(from: u64(), to: u64(), term: u64(), body: body)
    }

    mutating func request() -> ClientRequest {
        switch int(0...4) {
        case 0: return .kvGet(key: string(), consistency: bool() ? .linearizable : .stale)
        case 1: return .kvPut(key: string(), value: bytes(), flags: u64(), cas: optionalU64())
        case 2: return .kvDelete(key: string(), cas: optionalU64())
        case 3: return .members
        default: return .removePeer(id: u64())
        }
    }

    mutating func member() -> MemberInfo {
        MemberInfo(
            id: u64(), name: string(), peerAddress: string(), clientAddress: string(), voter: bool(), role: string(),
            term: u64(), lastIndex: u64(), reachable: bool())
    }

    mutating func response() -> ClientResponse {
        switch int(0...6) {
        case 0:
            return .kvGet(
                bool()
                    ? KVEntry(
                        key: string(), value: bytes(), flags: u64(), createIndex: u64(), modifyIndex: u64(),
                        lockIndex: u64(), session: string())
                    : nil)
        case 1: return .kvPut(succeeded: bool(), index: u64())
        case 2: return .kvDelete(succeeded: bool(), index: u64())
        case 3: return .members((0..<int(0...5)).map { _ in member() })
        case 4: return .peerRemoved(index: u64())
        case 5: return .notLeader(leaderID: u64(), leaderAddress: string())
        default: return .error(ClientErrorCode(rawValue: UInt16(truncatingIfNeeded: u64())), message: string())
        }
    }

    mutating func streamID() -> UInt64 { max(1, u64()) }

    mutating func wireMessage() -> WireMessage {
        switch int(0...6) {
        case 0: return .raft(raftMessage())
        case 1: return .request(streamID: streamID(), request())
        case 2: return .response(streamID: streamID(), response())
        case 3:
            return .error(
                streamID: bool() ? 0 : streamID(),
                ErrorPayload(code: WireError.Code(wireValue: UInt16(int(0...20))), reason: string()))
        case 4:
            return .peerHello(
                PeerHello(
                    id: u64(), name: string(), datacenter: string(), peerAddress: string(), clientAddress: string(),
                    bootstrapExpect: u32(), hasState: bool()))
        case 5: return .ping(u64())
        default: return .pong(u64())
        }
    }
}

@Suite("Round trips")
struct RoundTripTests {
    @Test("every golden value survives encode then decode", arguments: GoldenVector.all)
    func goldenValueRoundTrips(_ vector: GoldenVector) throws {
        guard case .message(let message) = vector.value else { return }
        #expect(try decodeMessage(frameBytes(message)) == message)
    }

    @Test("each payload codec reads back what it wrote and consumes it exactly")
    func payloadCodecsRoundTrip() throws {
        var generator = MessageGenerator(seed: 7)
        for _ in 0..<200 {
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            let raft = generator.raftMessage()
            let request = generator.request()
            let response = generator.response()
            buffer.writeRaftMessage(raft)
            var raftPayload = buffer
            #expect(try raftPayload.readRaftMessage() == raft)
            #expect(raftPayload.readableBytes == 0)
            buffer.clear()
            buffer.writeClientRequest(request)
            #expect(try buffer.readClientRequest() == request)
            buffer.clear()
            buffer.writeClientResponse(response)
            #expect(try buffer.readClientResponse() == response)
        }
    }

    @Test("randomized messages round-trip through frames, byte for byte", arguments: [1, 2, 3, 42, 2024] as [UInt64])
    func randomizedRoundTrip(seed: UInt64) throws {
        var generator = MessageGenerator(seed: seed)
        for _ in 0..<500 {
            let message = generator.wireMessage()
            let bytes = frameBytes(message)
            let decoded = try decodeMessage(bytes)
            #expect(decoded == message, "seed \(seed)")
            #expect(frameBytes(decoded) == bytes, "seed \(seed)")
        }
    }

    @Test("a stream of random frames split at random points decodes to the same messages")
    func randomStreamSplitAnywhere() throws {
        var generator = MessageGenerator(seed: 99)
        let messages = (0..<300).map { _ in generator.wireMessage() }
        let stream = messages.flatMap(frameBytes)
        var decoder = FrameDecoder()
        var cumulation = ByteBufferAllocator().buffer(capacity: 0)
        var decoded: [WireMessage] = []
        var position = 0
        while position < stream.count {
            let next = min(stream.count, position + generator.int(1...700))
            cumulation.writeBytes(stream[position..<next])
            position = next
            while let frame = try decoder.decode(buffer: &cumulation) {
                decoded.append(try WireMessage(decoding: frame))
            }
        }
        #expect(try decoder.decodeLast(buffer: &cumulation, seenEOF: true) == nil)
        #expect(decoded == messages)
    }

    @Test("a Raft message's precomputed size is exactly what it encodes to")
    func encodedSizeIsExact() {
        var generator = MessageGenerator(seed: 5)
        for _ in 0..<300 {
            let message = generator.raftMessage()
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            #expect(buffer.writeRaftMessage(message) == message.encodedSize)
        }
    }

    @Test("encoding an append of 10 000 entries grows the buffer at most once")
    func appendEncodingReservesOnce() {
        let entries = (1...10_000).map { Entry(term: 3, index: UInt64($0), data: Array(repeating: 0xAB, count: 100)) }
        let message = Message(
            from: 1, to: 2, term: 3, body: .append(Message.Append(prevIndex: 0, prevTerm: 0, entries: entries, commit: 0)))
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        buffer.writeRaftMessage(message)
        // One reservation of the exact size: the capacity is that size rounded up to a power of two.
        #expect(buffer.capacity < 2 * message.encodedSize)
        #expect(buffer.readableBytes == message.encodedSize)
    }

    @Test("Frame and WireMessage encodings of the same message are identical")
    func frameEncoderMatchesWireMessageEncoder() throws {
        var generator = MessageGenerator(seed: 11)
        for _ in 0..<100 {
            let message = generator.wireMessage()
            let frame = try decodeFrames(frameBytes(message))[0]
            var viaFrame = ByteBufferAllocator().buffer(capacity: 0)
            try FrameEncoder().encode(data: frame, out: &viaFrame)
            var viaMessage = ByteBufferAllocator().buffer(capacity: 0)
            try WireMessageEncoder().encode(data: message, out: &viaMessage)
            #expect(viaFrame == viaMessage)
        }
    }
}
