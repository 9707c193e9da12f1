import ArgumentParser
import CairnTLS
import Foundation

/// `cairn tls`: make the certificates a cluster's mutual TLS runs on.
public struct TLSCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Create a CA and the server, client and CLI certificates it signs.",
        discussion: """
            A three-node cluster, all files in the current directory:
              cairn tls ca create
              cairn tls cert create --server --node n1    (and n2, n3)
              cairn tls cert create --client
              cairn tls cert create --cli
            """,
        subcommands: [TLSCACommand.self, TLSCertCommand.self]
    )

    public init() {}
}

/// `cairn tls ca`.
public struct TLSCACommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the cluster's certificate authority.",
        subcommands: [TLSCACreateCommand.self]
    )

    public init() {}
}

/// `cairn tls cert`.
public struct TLSCertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Manage server, client and CLI certificates.",
        subcommands: [TLSCertCreateCommand.self]
    )

    public init() {}
}

/// How the `tls` commands report: each line of progress to standard output; a bad input as one
/// line on standard error and exit code 2 (nothing written).
enum TLSCommandRunner {
    /// The exit code of every refused input.
    static let badInputExitCode = ExitCode(2)

    static func run(_ body: (_ say: (String) -> Void) throws -> Void) throws {
        do {
            try body { line in print(line) }
        } catch let error as CairnTLSError {
            StandardStreams.error("error: \(error.reason)\n")
            throw Self.badInputExitCode
        }
    }
}
