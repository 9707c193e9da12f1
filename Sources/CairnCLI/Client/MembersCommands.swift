import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn members`: every server, its role, term, last log index and reachability.
struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "members", abstract: "List the cluster's servers.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let members = try await connection.withClient { try await $0.members() }
        printTable(
            ["Node", "ID", "Address", "Status", "Role", "Term", "Last Index"],
            members.map { m in
                [m.name.isEmpty ? "?" : m.name, String(m.id), m.peerAddress.isEmpty ? "?" : m.peerAddress,
                 m.reachable ? "alive" : "unreachable", m.role, String(m.term), String(m.lastIndex)]
            })
    }
}

/// `cairn operator raft …`: inspect and change the Raft configuration.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "Cluster operations.", subcommands: [RaftCommand.self])
}

struct RaftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft", abstract: "Inspect and change the Raft configuration.", subcommands: [ListPeers.self, RemovePeer.self])
}

struct ListPeers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-peers", abstract: "List the Raft peers.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let members = try await connection.withClient { try await $0.members() }
        printTable(
            ["Node", "ID", "Address", "State", "Voter", "Raft Protocol"],
            members.map { m in
                [m.name.isEmpty ? "?" : m.name, String(m.id), m.peerAddress.isEmpty ? "?" : m.peerAddress,
                 m.role, m.voter ? "true" : "false", "cairn/1"]
            })
    }
}

struct RemovePeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-peer", abstract: "Remove a server from the Raft configuration.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The server's Raft id (see list-peers).") var id: UInt64

    func validate() throws {
        guard id != 0 else { throw ValidationError("--id must be a server's non-zero Raft id") }
    }

    func run() async throws {
        let index = try await connection.withClient { try await $0.removePeer(id: id) }
        print("Removed peer with id \"\(id)\" (at index \(index))")
    }
}
