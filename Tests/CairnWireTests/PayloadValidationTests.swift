import CairnRaft
import NIOCore
import Testing

import CairnWire

/// Decodes `payload` as a frame of `kind`.
private func decode(_ kind: FrameKind, streamID: UInt64? = nil, _ payload: [UInt8]) throws -> WireMessage {
    let stream = streamID ?? (kind.requiresNonZeroStream ? 1 : 0)
    return try WireMessage(decoding: Frame(kind: kind, streamID: stream, payload: ByteBuffer(bytes: payload)))
}

/// The header of a Raft message: from 1, to 2, term 3, and a body kind.
private func raftHeader(_ bodyKind: UInt8) -> [UInt8] { be(UInt64(1)) + be(UInt64(2)) + be(UInt64(3)) + [bodyKind] }

private func string(_ value: String) -> [UInt8] { be(UInt32(value.utf8.count)) + Array(value.utf8) }

/// A snapshot chunk payload with the given membership lists.
private func snapshotChunk(voters: [UInt64], learners: [UInt64]) -> [UInt8] {
    raftHeader(7) + be(UInt64(100)) + be(UInt64(4))
        + be(UInt32(voters.count)) + voters.flatMap(be) + be(UInt32(learners.count)) + learners.flatMap(be)
        + be(UInt64(0)) + be(UInt64(0)) + be(UInt32(0)) + [1]
}

@Suite("Payload validation")
struct PayloadValidationTests {
    @Test("every strict prefix of every golden payload fails as truncated or fieldOverrun", arguments: GoldenVector.all)
    func everyPrefixFails(_ vector: GoldenVector) {
        guard case .message(let message) = vector.value else { return }
        let payload = payloadBytes(message)
        for count in 0..<payload.count {
            do {
                _ = try decode(message.kind, streamID: message.streamID, Array(payload.prefix(count)))
                Issue.record("\(vector.name): a \(count)-byte prefix decoded")
            } catch let error as WireError {
                #expect(error.code == .truncated || error.code == .fieldOverrun, "\(vector.name) prefix \(count): \(error)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("a byte after any golden payload fails with trailingBytes", arguments: GoldenVector.all)
    func trailingByteFails(_ vector: GoldenVector) {
        guard case .message(let message) = vector.value else { return }
        expectWireError(.trailingBytes) { _ = try decode(message.kind, streamID: message.streamID, payloadBytes(message) + [0]) }
    }

    @Test("a failed read leaves the reader index where it was")
    func failedReadConsumesNothing() {
        var buffer = ByteBuffer(bytes: raftHeader(4) + [1, 2])
        expectWireError(.invalidValue) { _ = try buffer.readRaftMessage() }
        #expect(buffer.readableBytes == 25 + 2)
    }

    // MARK: Kinds and operations

    @Test("an unknown Raft body kind fails with unknownMessageKind", arguments: [0, 10, 0xff] as [UInt8])
    func unknownRaftBody(kind: UInt8) {
        expectWireError(.unknownMessageKind) { _ = try decode(.raft, raftHeader(kind)) }
    }

    @Test("an unknown client operation fails with unknownMessageKind", arguments: [0, 0x0100, 0x010a, 0x0205, 0x0300, 0x0309, 0x0406, 0x0503, 0x0999, 0xff01, 0xffff] as [UInt16])
    func unknownOperation(op: UInt16) {
        expectWireError(.unknownMessageKind) { _ = try decode(.request, be(op)) }
    }

    @Test("an unknown response kind fails with unknownMessageKind", arguments: [0, 0x0106, 0x0107, 0x0108, 0x0204, 0x0301, 0x0302, 0x0308, 0x0402, 0x0403, 0x0502, 0xff00, 0xff04] as [UInt16])
    func unknownResponseKind(kind: UInt16) {
        expectWireError(.unknownMessageKind) { _ = try decode(.response, be(kind)) }
    }

    @Test("an undefined entry kind fails with invalidValue")
    func undefinedEntryKind() {
        let payload = raftHeader(1) + be(UInt64(0)) + be(UInt64(0)) + be(UInt32(1))
            + be(UInt64(1)) + be(UInt64(1)) + [3] + be(UInt32(0)) + be(UInt64(0))
        expectWireError(.invalidValue) { _ = try decode(.raft, payload) }
    }

    @Test("an undefined read consistency fails with invalidValue")
    func undefinedConsistency() {
        expectWireError(.invalidValue) { _ = try decode(.request, be(UInt16(0x0101)) + string("k") + [2]) }
    }

    // MARK: Bools and optionals

    @Test("a bool that is not 0 or 1 fails with invalidValue", arguments: [2, 0x80, 0xff] as [UInt8])
    func badBool(value: UInt8) {
        expectWireError(.invalidValue) { _ = try decode(.raft, raftHeader(4) + [value, 0]) }
        expectWireError(.invalidValue) { _ = try decode(.raft, raftHeader(4) + [1, value]) }
        expectWireError(.invalidValue) { _ = try decode(.response, be(UInt16(0x0102)) + [value] + be(UInt64(1))) }
        let hello = be(UInt64(1)) + string("n") + string("dc") + string("p") + string("c") + be(UInt32(0)) + [value]
        expectWireError(.invalidValue) { _ = try decode(.peerHello, hello) }
    }

    @Test("a presence byte that is not 0 or 1 fails with invalidValue")
    func badPresence() {
        expectWireError(.invalidValue) { _ = try decode(.request, be(UInt16(0x0103)) + string("k") + [2] + be(UInt64(1))) }
        expectWireError(.invalidValue) { _ = try decode(.response, be(UInt16(0x0101)) + [7]) }
    }

    // MARK: Strings

    @Test(
        "a string that is not UTF-8 fails with invalidValue",
        arguments: [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) {
        let key = be(UInt32(bytes.count)) + bytes
        expectWireError(.invalidValue) { _ = try decode(.request, be(UInt16(0x0101)) + key + [0]) }
        expectWireError(.invalidValue) { _ = try decode(.error, be(UInt16(1)) + key) }
        expectWireError(.invalidValue) { _ = try decode(.response, be(UInt16(0xff01)) + be(UInt64(1)) + key) }
    }

    @Test("valid multi-byte UTF-8 and NUL are accepted as they are")
    func validUTF8() throws {
        let key = "é€😀\u{0}中"
        #expect(try decode(.request, be(UInt16(0x0101)) + string(key) + [1]) == .request(streamID: 1, .kvGet(key: key, consistency: .stale)))
    }

    // MARK: Lengths and counts

    @Test("a string or bytes field longer than what remains fails with fieldOverrun")
    func fieldRunsPastFrame() {
        expectWireError(.fieldOverrun) { _ = try decode(.request, be(UInt16(0x0102)) + be(UInt32(1000)) + Array("short".utf8)) }
        expectWireError(.fieldOverrun) {
            _ = try decode(.request, be(UInt16(0x0102)) + string("k") + be(UInt32(0xffff_ffff)) + [1, 2, 3])
        }
        expectWireError(.fieldOverrun) {
            _ = try decode(.raft, raftHeader(7) + be(UInt64(1)) + be(UInt64(1)) + be(UInt32(0)) + be(UInt32(0))
                + be(UInt64(0)) + be(UInt64(0)) + be(UInt32(2)) + [1])
        }
    }

    @Test("a fixed-width field cut by the end of the payload fails with truncated")
    func fixedFieldTruncated() {
        expectWireError(.truncated) { _ = try decode(.raft, be(UInt64(1)) + [0, 0, 0]) }
        expectWireError(.truncated) { _ = try decode(.ping, [1, 2, 3, 4, 5, 6, 7]) }
        expectWireError(.truncated) { _ = try decode(.request, [1]) }
    }

    @Test("a list count that cannot fit fails with fieldOverrun without allocating for it")
    func countOverrun() {
        // 4 billion entries claimed, 8 bytes left: rejected before any array is reserved.
        expectWireError(.fieldOverrun) {
            _ = try decode(.raft, raftHeader(1) + be(UInt64(0)) + be(UInt64(0)) + be(UInt32(0xffff_ffff)) + be(UInt64(0)))
        }
        // 1 entry claimed, 20 bytes left: an entry needs at least 21.
        expectWireError(.fieldOverrun) {
            _ = try decode(.raft, raftHeader(1) + be(UInt64(0)) + be(UInt64(0)) + be(UInt32(1)) + Array(repeating: 0, count: 20))
        }
        expectWireError(.fieldOverrun) { _ = try decode(.response, be(UInt16(0x0201)) + be(UInt32(1_000_000)) + [0]) }
        expectWireError(.fieldOverrun) {
            _ = try decode(.raft, raftHeader(7) + be(UInt64(1)) + be(UInt64(1)) + be(UInt32(3)) + be(UInt64(1)))
        }
    }

    @Test("ping and pong carry exactly 8 bytes")
    func pingPayloadSize() throws {
        #expect(try decode(.ping, be(UInt64(5))) == .ping(5))
        expectWireError(.trailingBytes) { _ = try decode(.pong, be(UInt64(5)) + [0]) }
        expectWireError(.truncated) { _ = try decode(.pong, []) }
    }

    // MARK: Membership

    @Test("membership ids must be non-zero, strictly ascending and voters and learners disjoint")
    func membershipValidation() throws {
        #expect(throws: Never.self) { _ = try decode(.raft, snapshotChunk(voters: [1, 2, 3], learners: [4, 9])) }
        expectWireError(.invalidValue) { _ = try decode(.raft, snapshotChunk(voters: [0, 1], learners: [])) }
        expectWireError(.invalidValue) { _ = try decode(.raft, snapshotChunk(voters: [1], learners: [0])) }
        expectWireError(.invalidValue) { _ = try decode(.raft, snapshotChunk(voters: [1, 2, 2], learners: [])) }
        expectWireError(.invalidValue) { _ = try decode(.raft, snapshotChunk(voters: [3, 1], learners: [])) }
        expectWireError(.invalidValue) { _ = try decode(.raft, snapshotChunk(voters: [1, 2], learners: [2])) }
    }

    @Test("a membership is written with ids ascending whatever the set's order")
    func membershipWrittenSorted() throws {
        let ids: Set<UInt64> = [9, 1, 1000, 42, 7]
        let message = WireMessage.raft(
            Message(
                from: 1, to: 2, term: 1,
                body: .snapshotChunk(
                    Message.SnapshotChunk(
                        metadata: SnapshotMetadata(index: 1, term: 1, membership: Membership(voters: ids)),
                        totalSize: 0, offset: 0, data: [], done: true))))
        let payload = payloadBytes(message)
        let voters = payload[45..<85]
        #expect(Array(voters) == [1, 7, 9, 42, 1000].flatMap { be(UInt64($0)) })
    }

    // MARK: Error codes

    @Test("error codes have the wire values of the specification and keep unknown values")
    func errorCodeValues() throws {
        let codes: [(WireError.Code, UInt16)] = [
            (.malformedFrame, 1), (.frameTooLarge, 2), (.unknownFrameKind, 3), (.unsupportedVersion, 4), (.badMagic, 5),
            (.fieldOverrun, 6), (.unknownMessageKind, 7), (.invalidValue, 8), (.trailingBytes, 9), (.unexpectedFrame, 10),
            (.shuttingDown, 11), (.truncated, 12),
        ]
        for (code, value) in codes {
            #expect(code.wireValue == value)
            #expect(!code.description.hasPrefix("code"))
        }
        #expect(Set(codes.map(\.0.description)).count == codes.count)
        #expect(try decode(.error, be(UInt16(999)) + string("?")) == .error(streamID: 0, ErrorPayload(code: WireError.Code(wireValue: 999), reason: "?")))
        #expect(WireError.Code(wireValue: 999).description == "code 999")
    }

    @Test("WireError equality compares the code only")
    func errorEquality() {
        #expect(WireError(.badMagic, "one") == WireError(.badMagic, "two"))
        #expect(WireError(.badMagic, "one") != WireError(.trailingBytes, "one"))
        #expect("\(WireError(.badMagic, "why"))".contains("badMagic: why"))
    }

    @Test("a client error code unknown to this version keeps its value")
    func unknownClientErrorCode() throws {
        #expect(
            try decode(.response, be(UInt16(0xff02)) + be(UInt16(0x4242)) + string("later"))
                == .response(streamID: 1, .error(ClientErrorCode(rawValue: 0x4242), message: "later")))
    }
}
