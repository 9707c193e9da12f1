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
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print a key's value, or the keys under a prefix.",
        discussion: """
            cairn kv get KEY                 the value
            cairn kv get --detailed KEY      the value with its indexes, flags and lock
            cairn kv get --recurse PREFIX    every key under PREFIX, as key:value lines
            cairn kv get --keys PREFIX       the keys under PREFIX, one level deep (--separator "" for all)
            """)
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Print the key's metadata too.") var detailed = false
    @Flag(help: "Print every key under the prefix with its value.") var recurse = false
    @Flag(help: "Print the keys under the prefix, without values.") var keys = false
    @Option(help: "With --keys: fold keys after this separator (\"\" lists every key).") var separator = "/"
    @OptionGroup var read: ReadOptions
    @Argument(help: "The key (with --recurse or --keys: the prefix, default the whole store).") var key: String?

    func validate() throws {
        if recurse && keys { throw ValidationError("give --recurse or --keys, not both") }
        if key == nil && !recurse && !keys { throw ValidationError("missing the key (or give --recurse / --keys for a prefix)") }
    }

    func run() async throws {
        let consistency = read.consistency
        let name = key ?? ""
        if keys {
            let found = try await connection.withClient { try await $0.keys(prefix: name, separator: separator, consistency: consistency) }
            if output.json { printJSON(.strings(found)) } else { emit(found.map { $0 + "\n" }.joined()) }
            return
        }
        if recurse {
            let entries = try await connection.withClient { try await $0.list(prefix: name, consistency: consistency) }
            if output.json {
                printJSON(.array(entries.map(\.json)))
            } else if detailed {
                emit(entries.map(Self.details).joined(separator: "\n"))
            } else {
                for entry in entries { StandardStreams.output(Array("\(entry.key):".utf8) + entry.value + [0x0A]) }
            }
            return
        }
        let entry = try await connection.withClient { try await $0.get(name, consistency: consistency) }
        guard let entry else { fail("No key exists at: \(name)", code: 1) }
        if output.json {
            printJSON(entry.json)
        } else if detailed {
            emit(Self.details(entry))
        } else {
            StandardStreams.output(entry.value + [0x0A])
        }
    }

    static func details(_ entry: KVEntry) -> String {
        fieldLines([
            ("CreateIndex", String(entry.createIndex)),
            ("Flags", String(entry.flags)),
            ("Key", entry.key),
            ("LockIndex", String(entry.lockIndex)),
            ("ModifyIndex", String(entry.modifyIndex)),
            ("Session", entry.session.isEmpty ? "-" : entry.session),
            ("Value", String(decoding: entry.value, as: UTF8.self)),
        ])
    }
}

struct KVPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Write a key.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Write only if the key's modify index equals N (0: only if absent).") var cas: UInt64?
    @Option(help: "Opaque flags stored with the value.") var flags: UInt64 = 0
    @Option(help: "Acquire the key's lock for this session while writing.") var acquire: String?
    @Option(help: "Release the key's lock held by this session while writing.") var release: String?
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value; '-' reads it from standard input.") var value: String = ""

    func validate() throws {
        if [cas != nil, acquire != nil, release != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --cas, --acquire and --release")
        }
        if acquire?.isEmpty == true || release?.isEmpty == true { throw ValidationError("the session id must not be empty") }
    }

    func run() async throws {
        let bytes: [UInt8] = value == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(value.utf8)
        if let session = acquire {
            let ok = try await connection.withClient { try await $0.acquire(key: key, value: bytes, flags: flags, session: session) }
            guard ok else { fail("Did not acquire the lock on \(key): another session holds it, or it is within a lock-delay", code: 1) }
            emit("Success! Lock acquired on: \(key)\n")
            return
        }
        if let session = release {
            let ok = try await connection.withClient { try await $0.release(key: key, value: bytes, flags: flags, session: session) }
            guard ok else { fail("Did not release the lock on \(key): session \(session) does not hold it", code: 1) }
            emit("Success! Lock released on: \(key)\n")
            return
        }
        let result = try await connection.withClient { try await $0.put(key, value: bytes, flags: flags, cas: cas) }
        guard result.succeeded else { fail("Did not write to \(key): the check-and-set index \(cas ?? 0) did not match", code: 1) }
        emit("Success! Data written to: \(key)\n")
    }
}

struct KVDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a key, or every key under a prefix.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Delete only if the key's modify index equals N.") var cas: UInt64?
    @Flag(help: "Delete every key starting with KEY.") var recurse = false
    @Argument(help: "The key (with --recurse: the prefix).") var key: String

    func validate() throws {
        if recurse && cas != nil { throw ValidationError("--cas applies to one key, not with --recurse") }
    }

    func run() async throws {
        if recurse {
            _ = try await connection.withClient { try await $0.deleteTree(prefix: key) }
            emit("Success! Deleted keys with prefix: \(key)\n")
            return
        }
        let result = try await connection.withClient { try await $0.delete(key, cas: cas) }
        guard result.succeeded else { fail("Did not delete \(key): the check-and-set index \(cas ?? 0) did not match", code: 1) }
        emit("Success! Deleted key: \(key)\n")
    }
}
