import NIOCore
import Testing

import CairnWire

/// Decodes `payload` as a request.
private func decodeRequest(_ payload: [UInt8]) throws -> ClientRequest {
    var buffer = ByteBuffer(bytes: payload)
    return try buffer.readClientRequest()
}

/// Decodes `payload` as a response.
private func decodeResponse(_ payload: [UInt8]) throws -> ClientResponse {
    var buffer = ByteBuffer(bytes: payload)
    return try buffer.readClientResponse()
}

/// The payload of `request`.
private func encode(_ request: ClientRequest) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    buffer.writeClientRequest(request)
    return buffer.bytes
}

/// The payload of `response`.
private func encode(_ response: ClientResponse) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    buffer.writeClientResponse(response)
    return buffer.bytes
}

/// `bytes` with the first occurrence of `target` replaced by `replacement` (of the same length),
/// shifted by `offset` bytes; records an issue when `target` does not occur.
private func patching(
    _ bytes: [UInt8], _ target: String, offset: Int = 0, with replacement: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation
) -> [UInt8] {
    let needle = Array(target.utf8)
    guard let start = (0...(bytes.count - needle.count)).first(where: { Array(bytes[$0..<$0 + needle.count]) == needle })
    else {
        Issue.record("\(target) does not occur in the payload", sourceLocation: sourceLocation)
        return bytes
    }
    var patched = bytes
    patched.replaceSubrange(start + offset..<start + offset + replacement.count, with: replacement)
    return patched
}

/// Expects decoding to fail with `code` and a reason that starts with `reasonPrefix`.
private func expectFailure(
    _ code: WireError.Code, reasonPrefix: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(WireError) -> Void
) {
    do {
        try body()
        Issue.record("expected WireError.\(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        #expect(error.reason.hasPrefix(reasonPrefix), "got \(error.reason)", sourceLocation: sourceLocation)
    }
}

/// One malformed payload and how it must fail.
struct MalformedPayload: CustomTestStringConvertible, Sendable {
    var name: String
    var isRequest: Bool
    var bytes: [UInt8]
    var code: WireError.Code
    var reasonPrefix: String

    var testDescription: String { name }

    static func request(_ name: String, _ bytes: [UInt8], _ code: WireError.Code, _ reasonPrefix: String) -> Self {
        MalformedPayload(name: name, isRequest: true, bytes: bytes, code: code, reasonPrefix: reasonPrefix)
    }

    static func response(_ name: String, _ bytes: [UInt8], _ code: WireError.Code, _ reasonPrefix: String) -> Self {
        MalformedPayload(name: name, isRequest: false, bytes: bytes, code: code, reasonPrefix: reasonPrefix)
    }
}

/// A registration whose strings are markers to patch.
private let markedRegistration = ServiceRegistration(
    node: "n", nodeAddress: "", service: ServiceInstance(
        id: "web-1", name: "web", tags: ["v1", "TAG-é"], address: "", port: 80,
        meta: ["aa": "1", "bb": "VALUE-é"]),
    checks: [
        CheckDefinition(kind: .ttl(ttlMilliseconds: 10_000)),
        CheckDefinition(id: "CHECK-2", kind: .http(url: "URL", intervalMilliseconds: 1, timeoutMilliseconds: 1)),
    ])

/// A watch event whose strings are markers to patch.
private let markedEvent = WatchEvent(
    index: 9,
    payload: .keys(
        [
            KVChange(key: "a", entry: nil),
            KVChange(key: "b", entry: KVEntry(key: "b", value: [1], session: "SESSION-é")),
        ], snapshot: false))

/// A service health entry whose strings are markers to patch.
private let markedHealth = ServiceHealth(
    node: CatalogNode(name: "node-1", address: "10.0.0.1"),
    service: ServiceInstance(id: "web-1", name: "web"),
    checks: [
        HealthCheck(
            id: "c1", name: "", node: "node-1", serviceID: "", serviceName: "", status: .passing, output: "",
            definition: CheckDefinition(kind: .ttl(ttlMilliseconds: 1))),
        HealthCheck(
            id: "c2", name: "", node: "node-1", serviceID: "web-1", serviceName: "web", status: .passing, output: "OUT",
            definition: CheckDefinition(id: "DEF", kind: .tcp(address: "ADDR", intervalMilliseconds: 1, timeoutMilliseconds: 1))),
    ])

extension MalformedPayload {
    static let all: [MalformedPayload] = [
        // Undefined enum values and tags.
        .request(
            "a transaction operation tag 0", be(UInt16(0x0109)) + be(UInt32(1)) + [0] + stringField("k"),
            .invalidValue, "kvTransaction.operations[0].tag: 0 is not defined"),
        .request(
            "a transaction operation tag 13",
            be(UInt16(0x0109)) + be(UInt32(1)) + [13] + stringField("k"),
            .invalidValue, "kvTransaction.operations[0].tag: 13 is not defined"),
        .response(
            "a transaction outcome tag 3", be(UInt16(0x0109)) + [3] + be(UInt64(1)), .invalidValue,
            "kvTransaction.outcome.tag: 3 is not defined"),
        .request(
            "a check kind tag 4",
            patching(encode(.catalogRegister(markedRegistration)), "URL", offset: -5, with: [4]), .invalidValue,
            "catalogRegister.registration.checks[1].kind.tag: 4 is not defined (1 ttl, 2 http, 3 tcp)"),
        .request(
            "a check's initial status 3",
            patching(encode(.catalogRegister(markedRegistration)), "URL", offset: 3 + 16, with: [3]), .invalidValue,
            "catalogRegister.registration.checks[1].initialStatus: 3 is not defined"),
        .request(
            "a watch target tag 0", be(UInt16(0x0501)) + [0] + be(UInt64(0)), .invalidValue,
            "watch.target.tag: 0 is not defined"),
        .request(
            "a watch target tag 5", be(UInt16(0x0501)) + [5] + be(UInt64(0)), .invalidValue,
            "watch.target.tag: 5 is not defined"),
        .response(
            "a watch event payload tag 4", be(UInt16(0x0501)) + be(UInt64(1)) + [4] + be(UInt32(0)), .invalidValue,
            "watchEvent.tag: 4 is not defined"),
        .request(
            "a check update status 3", be(UInt16(0x0308)) + stringField("") + stringField("c") + [3] + stringField(""),
            .invalidValue, "checkUpdate.status: 3 is not defined (0 passing, 1 warning, 2 critical)"),
        .request(
            "a session behavior 2",
            be(UInt16(0x0401)) + stringField("") + stringField("") + be(UInt64(0)) + be(UInt64(0)) + [2] + be(UInt32(0)),
            .invalidValue, "sessionCreate.request.behavior: 2 is not defined (0 release, 1 delete)"),
        .request(
            "a kvList consistency 2", be(UInt16(0x0104)) + stringField("p") + [2], .invalidValue,
            "kvList.consistency: 2 is not defined"),
        .request(
            "a catalogServices consistency 0xff", be(UInt16(0x0303)) + [0xff], .invalidValue,
            "catalogServices.consistency: 255 is not defined"),
        .request(
            "a sessionList consistency 7", be(UInt16(0x0405)) + [7], .invalidValue, "sessionList.consistency: 7 is not defined"),
        .response(
            "a health check status 9 deep in a service's entry",
            patching(encode(.catalogService([markedHealth], sampleReadMeta)), "OUT", offset: -5, with: [9]),
            .invalidValue, "catalogService.instances[0].checks[1].status: 9 is not defined"),
        .response(
            "a check kind tag 0 deep in a watch event",
            patching(encode(.watchEvent(WatchEvent(index: 1, payload: .service([markedHealth])))), "ADDR", offset: -5, with: [0]),
            .invalidValue, "watchEvent.instances[0].checks[1].definition.kind.tag: 0 is not defined"),

        // Bools and presence bytes of the new messages.
        .request(
            "a passingOnly of 2", be(UInt16(0x0304)) + stringField("web") + stringField("") + [2, 0], .invalidValue,
            "catalogService.passingOnly: bool must be 0 or 1"),
        .response(
            "a knownLeader of 2", be(UInt16(0x0105)) + be(UInt32(0)) + be(UInt64(1)) + [2] + be(UInt64(0)), .invalidValue,
            "kvKeys.meta.knownLeader: bool must be 0 or 1"),
        .response(
            "a session presence byte of 2", be(UInt16(0x0404)) + [2] + readMetaBytes(sampleReadMeta), .invalidValue,
            "session.session: presence byte must be 0 or 1"),
        .response(
            "a watch change's entry presence byte of 3",
            patching(encode(.watchEvent(markedEvent)), "a", offset: 1, with: [3]), .invalidValue,
            "watchEvent.changes[0].entry: presence byte must be 0 or 1"),

        // Counts that cannot fit.
        .request(
            "4 billion transaction operations", be(UInt16(0x0109)) + be(UInt32(0xffff_ffff)) + [1] + stringField("k"),
            .fieldOverrun, "kvTransaction.operations: declares 4294967295 items"),
        .response(
            "a kvList entry in 43 bytes", be(UInt16(0x0104)) + be(UInt32(1)) + Array(repeating: 0, count: 43), .fieldOverrun,
            "kvList.entries: declares 1 items of at least 44 bytes"),
        .response(
            "a million service instances", be(UInt16(0x0304)) + be(UInt32(1_000_000)) + Array(repeating: 0, count: 100),
            .fieldOverrun, "catalogService.instances: declares 1000000 items"),
        .request(
            "a meta of 2^32-1 entries",
            patching(encode(.catalogRegister(markedRegistration)), "aa", offset: -8, with: be(UInt32(0xffff_ffff))),
            .fieldOverrun, "catalogRegister.registration.service.meta: declares 4294967295 items"),
        .response(
            "a watch event of 2^31 key changes", be(UInt16(0x0501)) + be(UInt64(1)) + [1] + be(UInt32(1 << 31)) + [0],
            .fieldOverrun, "watchEvent.changes: declares 2147483648 items"),
        .response(
            "two sessions' checks in 9 bytes", be(UInt16(0x0405)) + be(UInt32(2)) + Array(repeating: 0, count: 9),
            .fieldOverrun, "sessions.sessions: declares 2 items"),

        // Truncated structures.
        .response(
            "a kvGet's read metadata cut short", be(UInt16(0x0101)) + [0] + be(UInt64(1)) + [1, 0, 0, 0], .truncated,
            "kvGet.meta.lastContactMilliseconds: needs 8 bytes, 3 remain"),
        .response(
            "a transaction failure cut inside its operation number", be(UInt16(0x0109)) + [2] + be(UInt64(5)) + [0, 0],
            .truncated, "kvTransaction.outcome.operation: needs 4 bytes"),
        .request(
            "a registration cut inside its service's port", Array(encode(.catalogRegister(markedRegistration)).prefix(52)),
            .truncated, "catalogRegister.registration.service.port: needs 2 bytes, 1 remain"),
        .request("a watch without its fromIndex", be(UInt16(0x0501)) + [4] + [0, 0], .truncated, "watch.fromIndex: needs 8 bytes"),

        // Invalid UTF-8 in nested fields.
        .request(
            "invalid UTF-8 in a registered service's second tag",
            patching(encode(.catalogRegister(markedRegistration)), "TAG-é", offset: 5, with: [0x28]), .invalidValue,
            "catalogRegister.registration.service.tags: the 6 bytes are not valid UTF-8"),
        .request(
            "invalid UTF-8 in a meta value",
            patching(encode(.catalogRegister(markedRegistration)), "VALUE-é", offset: 6, with: [0xff]), .invalidValue,
            "catalogRegister.registration.service.meta: the 8 bytes are not valid UTF-8"),
        .response(
            "invalid UTF-8 in a watched entry's session",
            patching(encode(.watchEvent(markedEvent)), "SESSION-é", offset: 8, with: [0x80]), .invalidValue,
            "watchEvent.changes[1].entry.session: the 10 bytes are not valid UTF-8"),
        .request(
            "invalid UTF-8 in a transaction operation's session",
            patching(encode(.kvTransaction([.get(key: "a"), .checkSession(key: "k", session: "sé")])), "sé", offset: 1, with: [0xed]),
            .invalidValue, "kvTransaction.operations[1].session: the 3 bytes are not valid UTF-8"),

        // Maps with more than one encoding.
        .response(
            "map keys out of order",
            be(UInt16(0x0305)) + be(UInt32(1)) + stringField("n") + stringField("a") + be(UInt32(2))
                + stringField("b") + stringField("") + stringField("a") + stringField("") + readMetaBytes(sampleReadMeta),
            .invalidValue, "catalogNodes.nodes[0].meta: keys must be in strictly ascending UTF-8 byte order"),
        .response(
            "a repeated map key",
            be(UInt16(0x0305)) + be(UInt32(1)) + stringField("n") + stringField("a") + be(UInt32(2))
                + stringField("a") + stringField("1") + stringField("a") + stringField("2") + readMetaBytes(sampleReadMeta),
            .invalidValue, "catalogNodes.nodes[0].meta: keys must be in strictly ascending UTF-8 byte order"),
        .response(
            "canonically equivalent map keys",
            be(UInt16(0x0305)) + be(UInt32(1)) + stringField("n") + stringField("a") + be(UInt32(2))
                + stringField("e\u{301}") + stringField("1") + stringField("é") + stringField("2") + readMetaBytes(sampleReadMeta),
            .invalidValue, "catalogNodes.nodes[0].meta: key \"é\" is canonically equivalent to key"),

        // Trailing bytes.
        .request(
            "a byte after a registration", encode(.catalogRegister(markedRegistration)) + [0], .trailingBytes,
            "client request: 1 bytes follow the message"),
        .response(
            "a byte after a watch event", encode(.watchEvent(markedEvent)) + [0], .trailingBytes,
            "client response: 1 bytes follow the message"),
    ]
}

@Suite("Client payload validation")
struct ClientPayloadValidationTests {
    @Test("a malformed client payload fails with the right code and a reason naming the field", arguments: MalformedPayload.all)
    func malformedPayloadFails(_ payload: MalformedPayload) {
        expectFailure(payload.code, reasonPrefix: payload.reasonPrefix) { () throws(WireError) in
            if payload.isRequest {
                var buffer = ByteBuffer(bytes: payload.bytes)
                _ = try buffer.readClientRequest()
            } else {
                var buffer = ByteBuffer(bytes: payload.bytes)
                _ = try buffer.readClientResponse()
            }
        }
    }

    @Test("the marked values decode before they are damaged")
    func markedValuesAreValid() throws {
        #expect(try decodeRequest(encode(.catalogRegister(markedRegistration))) == .catalogRegister(markedRegistration))
        #expect(try decodeResponse(encode(.watchEvent(markedEvent))) == .watchEvent(markedEvent))
        #expect(
            try decodeResponse(encode(.catalogService([markedHealth], sampleReadMeta)))
                == .catalogService([markedHealth], sampleReadMeta))
    }

    @Test("a failed nested decode leaves the reader index where it was")
    func failedNestedReadConsumesNothing() {
        let bytes = patching(encode(.watchEvent(markedEvent)), "SESSION-é", offset: 8, with: [0x80])
        var buffer = ByteBuffer(bytes: bytes)
        expectWireError(.invalidValue) { _ = try buffer.readClientResponse() }
        #expect(buffer.readableBytes == bytes.count)
    }

    @Test("map entries are written in ascending UTF-8 byte order whatever the dictionary's order")
    func mapsAreWrittenSorted() throws {
        let meta = ["b": "2", "a": "1", "Z": "0", "é": "4", "aa": "3"]
        let bytes = encode(.catalogNodes([CatalogNode(name: "", address: "", meta: meta)], sampleReadMeta))
        let expectedMeta = be(UInt32(5))
            + [("Z", "0"), ("a", "1"), ("aa", "3"), ("b", "2"), ("é", "4")].flatMap { stringField($0) + stringField($1) }
        #expect(bytes == be(UInt16(0x0305)) + be(UInt32(1)) + stringField("") + stringField("") + expectedMeta + readMetaBytes(sampleReadMeta))
        #expect(try decodeResponse(bytes) == .catalogNodes([CatalogNode(name: "", address: "", meta: meta)], sampleReadMeta))
    }

    @Test("map keys that differ only in Unicode normalization are ordered by their bytes")
    func canonicallyDistinctKeysKeepTheirBytes() throws {
        // "e\u{301}" (65 cc 81) sorts before "f" (66), though it reads as "é" (c3 a9) which sorts after.
        let meta = ["f": "1", "e\u{301}": "2"]
        let bytes = encode(.catalogNodes([CatalogNode(name: "", address: "", meta: meta)], sampleReadMeta))
        let keyStart = 2 + 4 + 4 + 4 + 4
        #expect(Array(bytes[keyStart..<keyStart + 7]) == stringField("e\u{301}"))
        #expect(try decodeResponse(bytes) == .catalogNodes([CatalogNode(name: "", address: "", meta: meta)], sampleReadMeta))
    }

    @Test("a kvGet response carries its read metadata after the entry")
    func kvGetCarriesReadMeta() throws {
        let meta = ReadMeta(index: 0x0102_0304_0506_0708, knownLeader: false, lastContactMilliseconds: 250)
        let bytes = encode(.kvGet(nil, meta))
        #expect(bytes == be(UInt16(0x0101)) + [0] + be(UInt64(0x0102_0304_0506_0708)) + [0] + be(UInt64(250)))
        #expect(try decodeResponse(bytes) == .kvGet(nil, meta))
    }

    @Test("error responses keep the codes of watches and the new request errors")
    func watchErrorCodes() throws {
        let codes: [(ClientErrorCode, UInt16)] = [
            (.historyCompacted, 10), (.watchTooSlow, 11), (.notFound, 12), (.invalidArgument, 13), (.invalidSnapshot, 14),
        ]
        for (code, value) in codes {
            #expect(code.rawValue == value)
            #expect(try decodeResponse(be(UInt16(0xff02)) + be(value) + stringField("why")) == .error(code, message: "why"))
        }
    }
}

/// The UTF-8 check of every string field against the standard library's own validation, on the
/// sequences UTF-8 decoders get wrong.
@Suite("UTF-8 in string fields")
struct StringFieldUTF8Tests {
    static let cases: [[UInt8]] = [
        Array("plain".utf8), Array("ключ/值/🔑".utf8), [0xEF, 0xBF, 0xBD],  // a literal U+FFFD is valid
        [], [0x00], [0x7F],
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80],  // overlong
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],  // beyond U+10FFFF
        [0xE2, 0x82], [0x61, 0xF0, 0x9F, 0x94], [0x80], [0x61, 0xBF, 0x62],  // cut short, stray continuation
    ]

    @Test("a key is accepted exactly when the standard library calls its bytes valid UTF-8", arguments: cases)
    func keyBytes(_ bytes: [UInt8]) throws {
        let placeholder = String(repeating: "\u{1}", count: bytes.count)
        let payload = patching(encode(.kvGet(key: "<" + placeholder + ">", consistency: .linearizable)), "<", offset: 1, with: bytes)
        let reference = String(validating: bytes, as: UTF8.self)
        do {
            let request = try decodeRequest(payload)
            #expect(request == .kvGet(key: "<" + (reference ?? "?") + ">", consistency: .linearizable))
            #expect(reference != nil, "accepted bytes the standard library refuses: \(bytes)")
        } catch {
            #expect(reference == nil, "refused valid UTF-8 \(bytes): \(error)")
        }
    }
}
