import ArgumentParser
import CairnCLI
import Foundation

/// The `cairn` executable: parses the command line and runs the chosen subcommand.
@main
enum CairnMain {
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try await Cairn.asyncParseAsRoot()
        } catch {
            // Bad flags of any command exit with 2 (ArgumentParser's own code is 64).
            if Cairn.exitCode(for: error) == .validationFailure {
                StandardStreams.error(Cairn.fullMessage(for: error) + "\n")
                exit(2)
            }
            Cairn.exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.runAsync()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch {
            Cairn.exit(withError: error)
        }
    }
}

extension AsyncParsableCommand {
    /// Calls the asynchronous `run()` (an existential call would pick the synchronous one).
    mutating func runAsync() async throws { try await run() }
}
