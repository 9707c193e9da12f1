import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn kv`: read and write the replicated key/value store.
struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv", abstract: "Read and write keys.", subcommands: [KVGet.self, KVPut.self, KVDelete.self])
}

struct KVGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a key's value.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the key's metadata too.") var detailed = false
    @Flag(help: "Answer from any server without confirming leadership (may be stale).") var stale = false
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let entry = try await connection.withClient { try await $0.get(key, consistency: stale ? .stale : .linearizable) }
        guard let entry else { fail("No key exists at: \(key)", code: 1) }
        if detailed {
            print("""
                CreateIndex      \(entry.createIndex)
                Flags            \(entry.flags)
                Key              \(entry.key)
                LockIndex        \(entry.lockIndex)
                ModifyIndex      \(entry.modifyIndex)
                Session          \(entry.session.isEmpty ? "-" : entry.session)
                Value            \(String(decoding: entry.value, as: UTF8.self))
                """)
        } else {
            FileHandle.standardOutput.write(Data(entry.value + [0x0A]))
        }
    }
}

struct KVPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Write a key.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Write only if the key's modify index equals N (0: only if absent).") var cas: UInt64?
    @Option(help: "Opaque flags stored with the value.") var flags: UInt64 = 0
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value; '-' reads it from standard input.") var value: String

    func run() async throws {
        let bytes: [UInt8] = value == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(value.utf8)
        let result = try await connection.withClient { try await $0.put(key, value: bytes, flags: flags, cas: cas) }
        guard result.succeeded else { fail("Did not write to \(key): the check-and-set index \(cas ?? 0) did not match", code: 1) }
        print("Success! Data written to: \(key)")
    }
}

struct KVDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a key.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Delete only if the key's modify index equals N.") var cas: UInt64?
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let result = try await connection.withClient { try await $0.delete(key, cas: cas) }
        guard result.succeeded else { fail("Did not delete \(key): the check-and-set index \(cas ?? 0) did not match", code: 1) }
        print("Success! Deleted key: \(key)")
    }
}
