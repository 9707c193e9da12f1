import CairnRaft
import Foundation

/// The servers a server has heard of, kept in `<data-dir>/peers.json` so that a restarted server
/// can dial its peers before anyone dials it.
enum AddressBook {
    static func path(dataDirectory: String) -> String { dataDirectory + "/peers.json" }

    /// The saved addresses; empty when there are none or the file does not decode.
    static func load(dataDirectory: String) -> [NodeID: ServerAddress] {
        guard let data = FileManager.default.contents(atPath: path(dataDirectory: dataDirectory)),
              let decoded = try? JSONDecoder().decode([String: ServerAddress].self, from: data) else { return [:] }
        var book: [NodeID: ServerAddress] = [:]
        for (key, value) in decoded { if let id = NodeID(key) { book[id] = value } }
        return book
    }

    /// Replaces the saved addresses atomically (a crash leaves the old file or the new one).
    static func save(_ book: [NodeID: ServerAddress], dataDirectory: String) {
        var out: [String: ServerAddress] = [:]
        for (key, value) in book { out[String(key)] = value }
        guard let data = try? JSONEncoder().encode(out) else { return }
        try? data.write(to: URL(fileURLWithPath: path(dataDirectory: dataDirectory)), options: .atomic)
    }
}
