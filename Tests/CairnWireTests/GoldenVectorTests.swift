import CairnRaft
import Foundation
import NIOCore
import Testing

import CairnWire

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

    static let all: [GoldenVector] = transport + requests + responses

    /// The prefaces, the Raft messages, the peer hello and the connection-level frames.
    static let transport: [GoldenVector] = [
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

/// The request operations of Protocol/README.md §6.1.
let specifiedOperations: Set<UInt16> = [
    0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0106, 0x0107, 0x0108, 0x0109,
    0x0201, 0x0202, 0x0203, 0x0204,
    0x0301, 0x0302, 0x0303, 0x0304, 0x0305, 0x0306, 0x0307, 0x0308,
    0x0401, 0x0402, 0x0403, 0x0404, 0x0405,
    0x0501, 0x0502,
]

/// The response kinds of Protocol/README.md §6.2.
let specifiedResponseKinds: Set<UInt16> = [
    0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0109,
    0x0201, 0x0202, 0x0203,
    0x0303, 0x0304, 0x0305, 0x0306, 0x0307,
    0x0401, 0x0404, 0x0405,
    0x0501,
    0xFF01, 0xFF02, 0xFF03,
]

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
            let payload = payloadBytes(message)
            switch message {
            case .raft: raftKinds.insert(payload[24])
            case .request: operations.insert(UInt16(payload[0]) << 8 | UInt16(payload[1]))
            case .response: responses.insert(UInt16(payload[0]) << 8 | UInt16(payload[1]))
            default: break
            }
        }
        #expect(frameKinds == Set(FrameKind.allCases))
        #expect(raftKinds == Set(1...9))
        #expect(operations == specifiedOperations)
        #expect(responses == specifiedResponseKinds)
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
