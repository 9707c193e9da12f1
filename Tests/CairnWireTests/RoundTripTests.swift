import CairnRaft
import CairnTestSupport
import NIOCore
import Testing

import CairnWire

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

    mutating func consistency() -> ReadConsistency { bool() ? .linearizable : .stale }
    mutating func status() -> CheckStatus { CheckStatus.allCases[int(0...2)] }
    mutating func behavior() -> SessionBehavior { bool() ? .release : .delete }
    mutating func strings(maxCount: Int = 4) -> [String] { (0..<int(0...maxCount)).map { _ in string() } }
    mutating func list<T>(maxCount: Int = 3, _ item: (inout MessageGenerator) -> T) -> [T] {
        (0..<int(0...maxCount)).map { _ in item(&self) }
    }

    /// A map, its keys drawn from an alphabet with canonically equivalent spellings ("é" and
    /// "e\u{301}"), which a dictionary folds into one key.
    mutating func map() -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<int(0...4) { map[string(maxCount: 6) + (bool() ? "é" : "e\u{301}")] = string() }
        return map
    }

    mutating func kvEntry() -> KVEntry {
        KVEntry(
            key: string(), value: bytes(), flags: u64(), createIndex: u64(), modifyIndex: u64(), lockIndex: u64(),
            session: string())
    }

    mutating func readMeta() -> ReadMeta { ReadMeta(index: u64(), knownLeader: bool(), lastContactMilliseconds: u64()) }

    mutating func transactionOperation() -> KVTransactionOperation {
        switch int(0...11) {
        case 0: return .get(key: string())
        case 1: return .getTree(prefix: string())
        case 2: return .set(key: string(), value: bytes(), flags: u64())
        case 3: return .cas(key: string(), value: bytes(), flags: u64(), index: u64())
        case 4: return .lock(key: string(), value: bytes(), flags: u64(), session: string())
        case 5: return .unlock(key: string(), value: bytes(), flags: u64(), session: string())
        case 6: return .delete(key: string())
        case 7: return .deleteTree(prefix: string())
        case 8: return .deleteCAS(key: string(), index: u64())
        case 9: return .checkIndex(key: string(), index: u64())
        case 10: return .checkSession(key: string(), session: string())
        default: return .checkNotExists(key: string())
        }
    }

    mutating func transactionOutcome() -> KVTransactionOutcome {
        bool()
            ? .committed(index: u64(), results: list { $0.kvEntry() })
            : .failed(index: u64(), operation: u32(), reason: string())
    }

    mutating func node() -> CatalogNode { CatalogNode(name: string(), address: string(), meta: map()) }

    mutating func instance() -> ServiceInstance {
        ServiceInstance(
            id: string(), name: string(), tags: strings(), address: string(),
            port: UInt16(truncatingIfNeeded: u64()), meta: map(), node: string(), createIndex: u64(), modifyIndex: u64())
    }

    mutating func checkKind() -> CheckKind {
        switch int(0...2) {
        case 0: return .ttl(ttlMilliseconds: u64())
        case 1: return .http(url: string(), intervalMilliseconds: u64(), timeoutMilliseconds: u64())
        default: return .tcp(address: string(), intervalMilliseconds: u64(), timeoutMilliseconds: u64())
        }
    }

    mutating func checkDefinition() -> CheckDefinition {
        CheckDefinition(
            id: string(), name: string(), kind: checkKind(), initialStatus: status(),
            deregisterCriticalAfterMilliseconds: u64())
    }

    mutating func healthCheck() -> HealthCheck {
        HealthCheck(
            id: string(), name: string(), node: string(), serviceID: string(), serviceName: string(), status: status(),
            output: string(), definition: checkDefinition(), createIndex: u64(), modifyIndex: u64())
    }

    mutating func serviceHealth() -> ServiceHealth {
        ServiceHealth(node: node(), service: instance(), checks: list { $0.healthCheck() })
    }

    mutating func summary() -> ServiceSummary { ServiceSummary(name: string(), tags: strings()) }

    mutating func session() -> Session {
        Session(
            id: string(), name: string(), node: string(), ttlMilliseconds: u64(), lockDelayMilliseconds: u64(),
            behavior: behavior(), checks: strings(), createIndex: u64())
    }

    mutating func watchTarget() -> WatchTarget {
        switch int(0...3) {
        case 0: return .key(string())
        case 1: return .keyPrefix(string())
        case 2: return .service(name: string(), tag: string(), passingOnly: bool())
        default: return .services
        }
    }

    mutating func watchEvent() -> WatchEvent {
        let payload: WatchEvent.Payload
        switch int(0...2) {
        case 0:
            payload = .keys(list { KVChange(key: $0.string(), entry: $0.bool() ? $0.kvEntry() : nil) }, snapshot: bool())
        case 1: payload = .service(list { $0.serviceHealth() })
        default: payload = .services(list { $0.summary() })
        }
        return WatchEvent(index: u64(), payload: payload)
    }

    /// The number of ``ClientRequest`` cases ``request()`` draws from.
    static let requestCaseCount = 28

    mutating func request() -> ClientRequest {
        switch int(0...Self.requestCaseCount - 1) {
        case 0: return .kvGet(key: string(), consistency: consistency())
        case 1: return .kvList(prefix: string(), consistency: consistency())
        case 2: return .kvKeys(prefix: string(), separator: string(), consistency: consistency())
        case 3: return .kvPut(key: string(), value: bytes(), flags: u64(), cas: optionalU64())
        case 4: return .kvDelete(key: string(), cas: optionalU64())
        case 5: return .kvDeleteTree(prefix: string())
        case 6: return .kvAcquire(key: string(), value: bytes(), flags: u64(), session: string())
        case 7: return .kvRelease(key: string(), value: bytes(), flags: u64(), session: string())
        case 8: return .kvTransaction(list(maxCount: 8) { $0.transactionOperation() })
        case 9: return .members
        case 10: return .removePeer(id: u64())
        case 11: return .snapshotSave
        case 12: return .snapshotRestore(archive: bytes(maxCount: 300))
        case 13:
            return .catalogRegister(
                ServiceRegistration(
                    node: string(), nodeAddress: string(), service: instance(), checks: list { $0.checkDefinition() }))
        case 14: return .catalogDeregister(node: string(), serviceID: string())
        case 15: return .catalogServices(consistency: consistency())
        case 16: return .catalogService(name: string(), tag: string(), passingOnly: bool(), consistency: consistency())
        case 17: return .catalogNodes(consistency: consistency())
        case 18: return .catalogNodeServices(node: string(), consistency: consistency())
        case 19: return .healthChecks(serviceName: string(), consistency: consistency())
        case 20: return .checkUpdate(node: string(), checkID: string(), status: status(), output: string())
        case 21:
            return .sessionCreate(
                SessionRequest(
                    name: string(), node: string(), ttlMilliseconds: u64(), lockDelayMilliseconds: u64(),
                    behavior: behavior(), checks: strings()))
        case 22: return .sessionRenew(id: string())
        case 23: return .sessionDestroy(id: string())
        case 24: return .sessionInfo(id: string(), consistency: consistency())
        case 25: return .sessionList(consistency: consistency())
        case 26: return .watch(watchTarget(), fromIndex: u64())
        default: return .watchCancel(streamID: u64())
        }
    }

    mutating func member() -> MemberInfo {
        MemberInfo(
            id: u64(), name: string(), peerAddress: string(), clientAddress: string(), voter: bool(), role: string(),
            term: u64(), lastIndex: u64(), reachable: bool())
    }

    /// The number of ``ClientResponse`` cases ``response()`` draws from.
    static let responseCaseCount = 21

    mutating func response() -> ClientResponse {
        switch int(0...Self.responseCaseCount - 1) {
        case 0: return .kvGet(bool() ? kvEntry() : nil, readMeta())
        case 1: return .kvList(list(maxCount: 5) { $0.kvEntry() }, readMeta())
        case 2: return .kvKeys(strings(maxCount: 6), readMeta())
        case 3: return .kvPut(succeeded: bool(), index: u64())
        case 4: return .kvDelete(succeeded: bool(), index: u64())
        case 5: return .kvTransaction(transactionOutcome())
        case 6: return .members((0..<int(0...5)).map { _ in member() })
        case 7: return .peerRemoved(index: u64())
        case 8: return .snapshotArchive(index: u64(), archive: bytes(maxCount: 300))
        case 9: return .applied(index: u64())
        case 10: return .catalogServices(list(maxCount: 5) { $0.summary() }, readMeta())
        case 11: return .catalogService(list { $0.serviceHealth() }, readMeta())
        case 12: return .catalogNodes(list(maxCount: 5) { $0.node() }, readMeta())
        case 13: return .catalogNodeServices(bool() ? node() : nil, list { $0.instance() }, readMeta())
        case 14: return .healthChecks(list(maxCount: 5) { $0.healthCheck() }, readMeta())
        case 15: return .sessionCreated(id: string(), index: u64())
        case 16: return .session(bool() ? session() : nil, readMeta())
        case 17: return .sessions(list(maxCount: 5) { $0.session() }, readMeta())
        case 18: return .watchEvent(watchEvent())
        case 19: return .notLeader(leaderID: u64(), leaderAddress: string())
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
    @Test("every golden message survives encode then decode",
          arguments: GoldenVector.all.filter { if case .message = $0.value { true } else { false } })
    func goldenValueRoundTrips(_ vector: GoldenVector) throws {
        let message = try #require({ if case .message(let m) = vector.value { m } else { nil } }(), "a message vector")
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

    @Test("the generator draws every request operation and response kind of the specification")
    func generatorCoversEveryKind() async {
        await inBackground {
            var generator = MessageGenerator(seed: 3)
            var operations = Set<UInt16>()
            var responses = Set<UInt16>()
            for _ in 0..<2_000 {
                let request = payloadBytes(.request(streamID: 1, generator.request()))
                operations.insert(UInt16(request[0]) << 8 | UInt16(request[1]))
                let response = payloadBytes(.response(streamID: 1, generator.response()))
                responses.insert(UInt16(response[0]) << 8 | UInt16(response[1]))
            }
            #expect(operations == specifiedOperations)
            #expect(responses == specifiedResponseKinds)
            #expect(MessageGenerator.requestCaseCount == specifiedOperations.count)
            #expect(MessageGenerator.responseCaseCount == specifiedResponseKinds.count)
        }
    }

    @Test("every request and response case survives encode then decode, with random field values", arguments: [4, 8, 15, 16, 23] as [UInt64])
    func clientMessagesRoundTrip(seed: UInt64) async throws {
        try await inBackground {
            var generator = MessageGenerator(seed: seed)
            for _ in 0..<1_000 {
                var buffer = ByteBufferAllocator().buffer(capacity: 0)
                let request = generator.request()
                let requestSize = buffer.writeClientRequest(request)
                #expect(requestSize == buffer.readableBytes)
                let encodedRequest = buffer
                #expect(try buffer.readClientRequest() == request, "seed \(seed)")
                #expect(buffer.readableBytes == 0)
                // Byte for byte: decoding then encoding again gives the same bytes.
                var again = ByteBufferAllocator().buffer(capacity: 0)
                again.writeClientRequest(try encodedRequest.getClientRequest())
                #expect(again == encodedRequest, "seed \(seed)")

                buffer.clear()
                let response = generator.response()
                let responseSize = buffer.writeClientResponse(response)
                #expect(responseSize == buffer.readableBytes)
                let encodedResponse = buffer
                #expect(try buffer.readClientResponse() == response, "seed \(seed)")
                #expect(buffer.readableBytes == 0)
                again.clear()
                again.writeClientResponse(try encodedResponse.getClientResponse())
                #expect(again == encodedResponse, "seed \(seed)")
            }
        }
    }

    @Test("randomized messages round-trip through frames, byte for byte", arguments: [1, 2, 3, 42, 2024] as [UInt64])
    func randomizedRoundTrip(seed: UInt64) async throws {
        try await inBackground {
            var generator = MessageGenerator(seed: seed)
            for _ in 0..<500 {
                let message = generator.wireMessage()
                let bytes = frameBytes(message)
                let decoded = try decodeMessage(bytes)
                #expect(decoded == message, "seed \(seed)")
                #expect(frameBytes(decoded) == bytes, "seed \(seed)")
            }
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

    @Test("writing a Raft message returns the number of bytes it wrote")
    func writeReturnsItsSize() {
        var generator = MessageGenerator(seed: 5)
        for _ in 0..<300 {
            let message = generator.raftMessage()
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            #expect(buffer.writeRaftMessage(message) == buffer.readableBytes)
        }
    }

    @Test("encoding an append of 10 000 entries grows the buffer at most once")
    func appendEncodingReservesOnce() {
        let entries = (1...10_000).map { Entry(term: 3, index: UInt64($0), data: Array(repeating: 0xAB, count: 100)) }
        let message = Message(
            from: 1, to: 2, term: 3, body: .append(Message.Append(prevIndex: 0, prevTerm: 0, entries: entries, commit: 0)))
        // Header (from, to, term, body kind), prevIndex, prevTerm, count, each entry, commit.
        let size = 25 + 8 + 8 + 4 + entries.count * (8 + 8 + 1 + 4 + 100) + 8
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        buffer.writeRaftMessage(message)
        // One reservation of the exact size: the capacity is that size rounded up to a power of two.
        #expect(buffer.capacity < 2 * size)
        #expect(buffer.readableBytes == size)
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
