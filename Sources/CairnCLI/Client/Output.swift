import ArgumentParser
import CairnClient
import Foundation

/// How a read command prints its answer.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    /// Aligned columns (or `Key  value` lines) for people.
    case table
    /// One JSON document (for `cairn watch`: one JSON line per event).
    case json
}

/// The `--format` flag of the read commands.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    var json: Bool { format == .json }
}

/// Prints one error line (`Error! …`) to standard error and exits with `code`: 1 for failures
/// the server or the cluster reported, 2 for bad usage or bad input files.
func fail(_ message: String, code: Int32) -> Never {
    StandardStreams.error("Error! \(message)\n")
    exit(code)
}

/// Writes `text` to standard output at once (unbuffered, so piped output is never held back; a
/// reader that has gone ends the command by SIGPIPE, see ``StandardStreams``).
func emit(_ text: String) {
    StandardStreams.output(text)
}

/// Prints a JSON document: pretty for a single answer, one line for a stream of events.
func printJSON(_ value: JSONValue, pretty: Bool = true) {
    emit(value.serialized(pretty: pretty) + "\n")
}

/// Prints aligned columns.
func printTable(_ header: [String], _ rows: [[String]]) {
    emit(TextTable(header: header, rows: rows).rendered())
}

/// `label  value` lines with the values aligned (`cairn kv get --detailed` style).
func fieldLines(_ fields: [(String, String)]) -> String {
    let width = fields.map(\.0.count).max() ?? 0
    return fields.map { $0.0.padding(toLength: width + 6, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
}
