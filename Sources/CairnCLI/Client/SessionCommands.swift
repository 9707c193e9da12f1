import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn session`: inspect and destroy sessions.
struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Inspect and destroy sessions.",
        subcommands: [SessionList.self, SessionInfo.self, SessionDestroy.self])
}

struct SessionList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every session.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var read: ReadOptions

    func run() async throws {
        let sessions = try await connection.withClient { try await $0.sessions(consistency: read.consistency) }
        if output.json { return printJSON(.array(sessions.map(\.json))) }
        printTable(["ID", "Name", "Node", "TTL", "LockDelay", "Behavior", "Checks"], sessions.map { s in
            [s.id, s.name, s.node, s.ttlMilliseconds == 0 ? "-" : ConsulDuration.format(milliseconds: s.ttlMilliseconds),
             ConsulDuration.format(milliseconds: s.lockDelayMilliseconds), s.behavior.description, s.checks.joined(separator: ",")]
        })
    }
}

struct SessionInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe one session.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var read: ReadOptions
    @Argument(help: "The session's id.") var id: String

    func run() async throws {
        let session = try await connection.withClient { try await $0.session(id, consistency: read.consistency) }
        guard let s = session else { fail("No session exists with id: \(id)", code: 1) }
        if output.json { return printJSON(s.json) }
        emit(fieldLines([
            ("ID", s.id), ("Name", s.name.isEmpty ? "-" : s.name), ("Node", s.node),
            ("TTL", s.ttlMilliseconds == 0 ? "-" : ConsulDuration.format(milliseconds: s.ttlMilliseconds)),
            ("LockDelay", ConsulDuration.format(milliseconds: s.lockDelayMilliseconds)), ("Behavior", s.behavior.description),
            ("Checks", s.checks.isEmpty ? "-" : s.checks.joined(separator: ",")), ("CreateIndex", String(s.createIndex)),
        ]))
    }
}

struct SessionDestroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Destroy a session, releasing (or deleting) what it holds.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The session's id.") var id: String

    func run() async throws {
        let destroyed = try await connection.withClient { try await $0.destroySession(id) }
        guard destroyed else { fail("No session exists with id: \(id)", code: 1) }
        emit("Success! Destroyed session: \(id)\n")
    }
}
