import CairnClient
import CairnWire
import Foundation
import Testing

/// `TextTable` and `JSONValue`: what the CLI prints.
@Suite("CLI output: tables and JSON")
struct ClientUnitPresentationTests {
    @Test("table columns are aligned to their widest cell plus two spaces, the last column unpadded")
    func alignedColumns() {
        let table = TextTable(header: ["Node", "Address", "Status"], rows: [
            ["n1", "127.0.0.1:8500", "alive"],
            ["node-two", "10.0.0.2", "unreachable"],
        ])
        #expect(table.rendered() == """
            Node      Address         Status
            n1        127.0.0.1:8500  alive
            node-two  10.0.0.2        unreachable

            """)
    }

    @Test("short rows are filled with empty cells and extra cells are ignored")
    func raggedRows() {
        let table = TextTable(header: ["A", "B"], rows: [["x"], ["y", "z", "ignored"]])
        #expect(table.rendered() == "A  B\nx  \ny  z\n")
    }

    @Test("JSON strings escape quotes, backslashes and control characters, and keep other text as is")
    func stringEscaping() {
        let value = JSONValue.string("a\"b\\c\nd\u{1}é🙂")
        #expect(value.serialized() == #""a\"b\\c\nd\u0001é🙂""#)
    }

    @Test("JSON objects keep their member order and 64-bit integers keep every digit")
    func objectOrderAndIntegers() {
        let value = JSONValue.object(["Z": .unsigned(UInt64.max), "A": .integer(-1), "M": .array([.bool(true), .null])])
        #expect(value.serialized() == #"{"Z":18446744073709551615,"A":-1,"M":[true,null]}"#)
        #expect(value.serialized(pretty: true) == """
            {
              "Z": 18446744073709551615,
              "A": -1,
              "M": [
                true,
                null
              ]
            }
            """)
    }

    @Test("serialized JSON reads back as the same document through Foundation")
    func roundTripsThroughFoundation() throws {
        let value = JSONValue.object(["Key": .string("k\t\"x\""), "List": .strings(["a", "b"]), "Meta": .strings(["b": "2", "a": "1"])])
        let text = value.serialized(pretty: true)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        // Decoded objects sort their members by name.
        #expect(decoded == .object(["Key": .string("k\t\"x\""), "List": .strings(["a", "b"]), "Meta": .strings(["a": "1", "b": "2"])]))
    }

    @Test("a KV entry's JSON follows Consul's API: base64 value, Session only when locked")
    func kvEntryJSON() {
        let entry = KVEntry(key: "config/a", value: Array("hi".utf8), flags: 7, createIndex: 3, modifyIndex: 5, lockIndex: 0)
        #expect(entry.json.serialized() == #"{"Key":"config/a","CreateIndex":3,"ModifyIndex":5,"LockIndex":0,"Flags":7,"Value":"aGk="}"#)
        var locked = entry
        locked.session = "s-1"
        #expect(locked.json["Session"] == .string("s-1"))
    }

    @Test("a watch event is one JSON line with its index, type and payload")
    func watchEventLine() {
        let keys = WatchEvent(index: 42, payload: .keys([KVChange(key: "a", entry: nil)], snapshot: false))
        #expect(keys.json.serialized() == #"{"Index":42,"Type":"keys","Snapshot":false,"Changes":[{"Key":"a","Entry":null}]}"#)
        let services = WatchEvent(index: 43, payload: .services([ServiceSummary(name: "web", tags: ["v2"]), ServiceSummary(name: "db", tags: [])]))
        #expect(services.json.serialized() == #"{"Index":43,"Type":"services","Services":{"web":["v2"],"db":[]}}"#)
        let health = ServiceHealth(node: CatalogNode(name: "n1", address: "10.0.0.1"),
                                   service: ServiceInstance(id: "web-1", name: "web", port: 80, node: "n1"), checks: [])
        let service = WatchEvent(index: 44, payload: .service([health]))
        #expect(service.json["Type"] == .string("service"))
        #expect(service.json["Instances"] == .array([health.json]))
        #expect(!service.json.serialized().contains("\n"))
    }

    @Test("a session's JSON writes its durations the way Consul does")
    func sessionJSON() {
        let session = Session(id: "s", name: "lock", node: "n1", ttlMilliseconds: 15_000, lockDelayMilliseconds: 15_000,
                              behavior: .delete, checks: ["serfHealth"], createIndex: 9)
        #expect(session.json["TTL"] == .string("15s"))
        #expect(session.json["LockDelay"] == .string("15s"))
        #expect(session.json["Behavior"] == .string("delete"))
    }
}
