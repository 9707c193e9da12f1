import CairnRaft
import Foundation
import NIOCore
import Testing

@testable import CairnWire

/// One golden vector: a file in Protocol/vectors, what it holds, and the value it must decode to.
struct GoldenVector: CustomTestStringConvertible, Sendable {
    enum Value: Sendable {
        case message(WireMessage)
        case preface(Preface)
    }

    var name: String
    var comment: String
    var value: Value

    var fileName: String { name + ".hex" }
    var testDescription: String { name }

    /// The bytes the value encodes to.
    var encoded: [UInt8] {
        switch value {
        case .message(let message):
            return frameBytes(message)
        case .preface(let preface):
            var buffer = ByteBufferAllocator().buffer(capacity: 8)
            buffer.writePreface(preface)
            return buffer.bytes
        }
    }

    /// The file's text: the comment line, then the hex.
    var fileText: String { "# \(comment)\n\(formatHex(encoded))\n" }
}

extension GoldenVector {
    static let membershipEntryData = Membership(voters: [1, 2, 3]).encoded()

    static let all: [GoldenVector] = [
        GoldenVector(
            name: "preface-peer", comment: "preface: version 1, role peer (1) — a server dialing a server",
            value: .preface(Preface(version: 1, role: .peer))),
        GoldenVector(
            name: "preface-client", comment: "preface: version 1, role client (2) — a client dialing a server",
            value: .preface(Preface(version: 1, role: .client))),
        GoldenVector(
            name: "preface-server", comment: "preface: version 1, role server (3) — the acceptor's answer",
            value: .preface(Preface(version: 1, role: .server))),

        GoldenVector(
            name: "raft-append",
            comment: "raft frame: from 1 to 2 term 5, append(prevIndex 10, prevTerm 4, entries [(term 5, index 11, normal, \"put a=1\"), (term 5, index 12, empty, \"\"), (term 5, index 13, membership, voters {1,2,3} in the log's little-endian membership encoding)], commit 10)",
            value: .message(
                .raft(
                    Message(
                        from: 1, to: 2, term: 5,
                        body: .append(
                            Message.Append(
                                prevIndex: 10, prevTerm: 4,
                                entries: [
                                    Entry(term: 5, index: 11, kind: .normal, data: bytesOf("put a=1")),
                                    Entry(term: 5, index: 12, kind: .empty),
                                    Entry(term: 5, index: 13, kind: .membership, data: membershipEntryData),
                                ],
                                commit: 10)))))),
        GoldenVector(
            name: "raft-append-response",
            comment: "raft frame: from 2 to 1 term 5, appendResponse(index 10, reject true, rejectHint 8, hintTerm 3)",
            value: .message(
                .raft(
                    Message(
                        from: 2, to: 1, term: 5,
                        body: .appendResponse(Message.AppendResponse(index: 10, reject: true, rejectHint: 8, hintTerm: 3)))
                ))),
        GoldenVector(
            name: "raft-vote",
            comment: "raft frame: from 3 to 1 term 6, vote(lastIndex 13, lastTerm 5, preVote true, transfer false)",
            value: .message(
                .raft(
                    Message(
                        from: 3, to: 1, term: 6,
                        body: .vote(Message.VoteRequest(lastIndex: 13, lastTerm: 5, preVote: true, transfer: false)))))),
        GoldenVector(
            name: "raft-vote-response",
            comment: "raft frame: from 1 to 3 term 6, voteResponse(granted true, preVote true)",
            value: .message(
                .raft(Message(from: 1, to: 3, term: 6, body: .voteResponse(Message.VoteResponse(granted: true, preVote: true)))))),
        GoldenVector(
            name: "raft-heartbeat",
            comment: "raft frame: from 1 to 2 term 5, heartbeat(commit 13, readContext 42)",
            value: .message(
                .raft(Message(from: 1, to: 2, term: 5, body: .heartbeat(Message.Heartbeat(commit: 13, readContext: 42)))))),
        GoldenVector(
            name: "raft-heartbeat-response",
            comment: "raft frame: from 2 to 1 term 5, heartbeatResponse(readContext 42)",
            value: .message(
                .raft(Message(from: 2, to: 1, term: 5, body: .heartbeatResponse(Message.HeartbeatResponse(readContext: 42)))))),
        GoldenVector(
            name: "raft-snapshot-chunk",
            comment: "raft frame: from 1 to 4 term 5, snapshotChunk(metadata(index 100, term 4, voters [1, 2, 3], learners [4]), totalSize 10, offset 0, data 00 01 02 03 04 05, done false)",
            value: .message(
                .raft(
                    Message(
                        from: 1, to: 4, term: 5,
                        body: .snapshotChunk(
                            Message.SnapshotChunk(
                                metadata: SnapshotMetadata(
                                    index: 100, term: 4, membership: Membership(voters: [1, 2, 3], learners: [4])),
                                totalSize: 10, offset: 0, data: [0, 1, 2, 3, 4, 5], done: false)))))),
        GoldenVector(
            name: "raft-snapshot-chunk-response",
            comment: "raft frame: from 4 to 1 term 5, snapshotChunkResponse(snapshotIndex 100, snapshotTerm 4, nextOffset 6)",
            value: .message(
                .raft(
                    Message(
                        from: 4, to: 1, term: 5,
                        body: .snapshotChunkResponse(
                            Message.SnapshotChunkResponse(snapshotIndex: 100, snapshotTerm: 4, nextOffset: 6)))))),
        GoldenVector(
            name: "raft-timeout-now", comment: "raft frame: from 1 to 2 term 5, timeoutNow (no body fields)",
            value: .message(.raft(Message(from: 1, to: 2, term: 5, body: .timeoutNow)))),

        GoldenVector(
            name: "request-kv-get",
            comment: "request frame, stream 1: kvGet(key \"config/café\" (é is 2 UTF-8 bytes), consistency linearizable (0))",
            value: .message(.request(streamID: 1, .kvGet(key: "config/café", consistency: .linearizable)))),
        GoldenVector(
            name: "request-kv-put",
            comment: "request frame, stream 2: kvPut(key \"app/port\", value \"8080\", flags 0, cas 17)",
            value: .message(.request(streamID: 2, .kvPut(key: "app/port", value: bytesOf("8080"), flags: 0, cas: 17)))),
        GoldenVector(
            name: "request-kv-delete",
            comment: "request frame, stream 3: kvDelete(key \"app/port\", cas absent)",
            value: .message(.request(streamID: 3, .kvDelete(key: "app/port", cas: nil)))),
        GoldenVector(
            name: "request-members", comment: "request frame, stream 4: members (no fields)",
            value: .message(.request(streamID: 4, .members))),
        GoldenVector(
            name: "request-remove-peer", comment: "request frame, stream 5: removePeer(id 3)",
            value: .message(.request(streamID: 5, .removePeer(id: 3)))),

        GoldenVector(
            name: "response-kv-get",
            comment: "response frame, stream 1: kvGet(present: key \"config/db\", value \"postgres://db:5432\", flags 0, createIndex 7, modifyIndex 9, lockIndex 0, session \"\")",
            value: .message(
                .response(
                    streamID: 1,
                    .kvGet(
                        KVEntry(
                            key: "config/db", value: bytesOf("postgres://db:5432"), flags: 0, createIndex: 7, modifyIndex: 9,
                            lockIndex: 0, session: ""))))),
        GoldenVector(
            name: "response-kv-get-absent", comment: "response frame, stream 1: kvGet(absent)",
            value: .message(.response(streamID: 1, .kvGet(nil)))),
        GoldenVector(
            name: "response-kv-put", comment: "response frame, stream 2: kvPut(succeeded true, index 18)",
            value: .message(.response(streamID: 2, .kvPut(succeeded: true, index: 18)))),
        GoldenVector(
            name: "response-kv-delete", comment: "response frame, stream 3: kvDelete(succeeded false, index 18)",
            value: .message(.response(streamID: 3, .kvDelete(succeeded: false, index: 18)))),
        GoldenVector(
            name: "response-members",
            comment: "response frame, stream 4: members [(1, \"cairn-1\", \"10.0.0.1:8300\", \"10.0.0.1:8502\", voter, \"leader\", term 5, lastIndex 18, reachable), (4, \"cairn-4\", \"10.0.0.4:8300\", \"10.0.0.4:8502\", learner, \"learner\", term 5, lastIndex 12, unreachable)]",
            value: .message(
                .response(
                    streamID: 4,
                    .members([
                        MemberInfo(
                            id: 1, name: "cairn-1", peerAddress: "10.0.0.1:8300", clientAddress: "10.0.0.1:8502", voter: true,
                            role: "leader", term: 5, lastIndex: 18, reachable: true),
                        MemberInfo(
                            id: 4, name: "cairn-4", peerAddress: "10.0.0.4:8300", clientAddress: "10.0.0.4:8502", voter: false,
                            role: "learner", term: 5, lastIndex: 12, reachable: false),
                    ])))),
        GoldenVector(
            name: "response-peer-removed", comment: "response frame, stream 5: peerRemoved(index 19)",
            value: .message(.response(streamID: 5, .peerRemoved(index: 19)))),
        GoldenVector(
            name: "response-not-leader",
            comment: "response frame, stream 6: notLeader(leaderID 2, leaderAddress \"10.0.0.2:8502\")",
            value: .message(.response(streamID: 6, .notLeader(leaderID: 2, leaderAddress: "10.0.0.2:8502")))),
        GoldenVector(
            name: "response-error",
            comment: "response frame, stream 7: error(code unknownOperation (2), message \"request operation 0x0999 is not defined\")",
            value: .message(
                .response(streamID: 7, .error(.unknownOperation, message: "request operation 0x0999 is not defined")))),

        GoldenVector(
            name: "peer-hello",
            comment: "peerHello frame: id 1, name \"cairn-1\", datacenter \"dc1\", peerAddress \"10.0.0.1:8300\", clientAddress \"10.0.0.1:8502\", bootstrapExpect 3, hasState false",
            value: .message(
                .peerHello(
                    PeerHello(
                        id: 1, name: "cairn-1", datacenter: "dc1", peerAddress: "10.0.0.1:8300",
                        clientAddress: "10.0.0.1:8502", bootstrapExpect: 3, hasState: false)))),
        GoldenVector(
            name: "error",
            comment: "error frame, stream 0 (the connection): code frameTooLarge (2), reason \"frame length 20000000 exceeds the limit of 16777216 bytes\"",
            value: .message(
                .error(
                    streamID: 0,
                    ErrorPayload(code: .frameTooLarge, reason: "frame length 20000000 exceeds the limit of 16777216 bytes")))),
        GoldenVector(
            name: "ping", comment: "ping frame: opaque 0x0123456789abcdef",
            value: .message(.ping(0x0123_4567_89ab_cdef))),
        GoldenVector(
            name: "pong", comment: "pong frame: opaque 0x0123456789abcdef (echoing the ping)",
            value: .message(.pong(0x0123_4567_89ab_cdef))),
    ]

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors")

    func readFile() throws -> [UInt8] {
        try parseHex(String(contentsOf: Self.directory.appendingPathComponent(fileName), encoding: .utf8))
    }
}

@Suite("Golden vectors in Protocol/vectors")
struct GoldenVectorTests {
    @Test("each vector file decodes to its value and the value encodes to the file's bytes", arguments: GoldenVector.all)
    func vectorMatches(_ vector: GoldenVector) throws {
        let bytes = try vector.readFile()
        #expect(bytes == vector.encoded, "the codec's encoding differs from \(vector.fileName)")
        switch vector.value {
        case .message(let expected):
            let decoded = try decodeMessage(bytes)
            #expect(decoded == expected)
            #expect(frameBytes(decoded) == bytes)
        case .preface(let expected):
            var buffer = ByteBuffer(bytes: bytes)
            #expect(try buffer.readPreface() == expected)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("each vector file starts with a comment line")
    func vectorFilesAreCommented() throws {
        for vector in GoldenVector.all {
            let text = try String(contentsOf: GoldenVector.directory.appendingPathComponent(vector.fileName), encoding: .utf8)
            #expect(text.hasPrefix("# "), "\(vector.fileName) lacks its comment header")
        }
    }

    @Test("the vectors cover every frame kind, Raft body, request operation and response kind")
    func vectorsCoverEveryKind() {
        var frameKinds = Set<FrameKind>()
        var raftKinds = Set<UInt8>()
        var operations = Set<UInt16>()
        var responses = Set<UInt16>()
        for vector in GoldenVector.all {
            guard case .message(let message) = vector.value else { continue }
            frameKinds.insert(message.kind)
            switch message {
            case .raft(let raft): raftKinds.insert(raft.body.wireKind.rawValue)
            case .request(_, let request): operations.insert(request.operationCode.rawValue)
            case .response(_, let response): responses.insert(response.responseCode.rawValue)
            default: break
            }
        }
        #expect(frameKinds == Set(FrameKind.allCases))
        #expect(raftKinds == Set(1...9))
        #expect(operations == [0x0101, 0x0102, 0x0103, 0x0201, 0x0202])
        #expect(responses == [0x0101, 0x0102, 0x0103, 0x0201, 0x0202, 0xFF01, 0xFF02])
    }

    @Test("the vectors directory holds exactly the vectors listed here")
    func noStaleVectorFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: GoldenVector.directory.path)
            .filter { $0.hasSuffix(".hex") }
        #expect(Set(files) == Set(GoldenVector.all.map(\.fileName)))
    }

    /// Regenerates the files: `CAIRN_WRITE_VECTORS=1 swift test --filter GoldenVectorTests`.
    @Test(
        "writing the vector files (only with CAIRN_WRITE_VECTORS=1)",
        .enabled(if: ProcessInfo.processInfo.environment["CAIRN_WRITE_VECTORS"] == "1"))
    func writeVectors() throws {
        try FileManager.default.createDirectory(at: GoldenVector.directory, withIntermediateDirectories: true)
        for vector in GoldenVector.all {
            try vector.fileText.write(
                to: GoldenVector.directory.appendingPathComponent(vector.fileName), atomically: true, encoding: .utf8)
        }
    }
}
