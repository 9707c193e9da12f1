import ArgumentParser

/// The `cairn` command: agent, certificates, KV, membership and operator subcommands.
public struct Cairn: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Service discovery and configuration on a Raft consensus kernel.",
        subcommands: Cairn.subcommandList
    )

    /// Every subcommand, in the order `cairn --help` lists them.
    static var subcommandList: [any ParsableCommand.Type] { [AgentCommand.self, BenchCommand.self, KVCommand.self, MembersCommand.self, OperatorCommand.self, TLSCommand.self] }

    public init() {}
}
