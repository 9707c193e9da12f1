import ArgumentParser

/// The `cairn` command: agent, certificates, KV, catalog, sessions, locks, watches, snapshots,
/// membership and operator subcommands.
public struct Cairn: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Service discovery and configuration on a Raft consensus kernel.",
        subcommands: Cairn.subcommandList
    )

    /// Every subcommand, in the order `cairn --help` lists them.
    static var subcommandList: [any ParsableCommand.Type] { [
        AgentCommand.self, BenchCommand.self, CatalogCommand.self, KVCommand.self, LockCommand.self, MembersCommand.self,
        OperatorCommand.self, ServicesCommand.self, SessionCommand.self, SnapshotCommand.self, TLSCommand.self, WatchCommand.self,
    ] }

    public init() {}
}
