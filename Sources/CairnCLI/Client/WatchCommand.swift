import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn watch`: print every change of a key, a prefix, a service or the service list.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print the changes of a key, prefix, service or the service list as JSON lines.",
        discussion: """
            One JSON line per event, each with its Raft "Index", for instance:
              {"Index":42,"Type":"keys","Snapshot":false,"Changes":[...]}
              {"Index":43,"Type":"service","Instances":[...]}
              {"Index":44,"Type":"services","Services":{"web":["v2"]}}
            A change is {"Key":"config/a","Entry":{...}}, with "Entry": null for a deletion; an \
            instance is {"Node":{...},"Service":{...},"Checks":[...]}.

            KV values are base64, as in Consul's API. A "Snapshot": true event holds the whole current state \
            (the first event, or after the server's history was compacted): replace what you know, don't merge.

            Runs until interrupted (SIGINT or SIGTERM: exit 0), and resumes by itself after connection or \
            server failures, without missing or repeating a change.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case key, keyprefix, service, services
    }

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "What to watch: key, keyprefix, service or services.") var type: Kind
    @Option(help: "With --type key: the key.") var key: String?
    @Option(help: "With --type keyprefix: the prefix (\"\" for the whole store).") var prefix: String?
    @Option(help: "With --type service: the service's name.") var service: String?
    @Option(help: "With --type service: only instances with this tag.") var tag: String?
    @Flag(help: "With --type service: only instances whose checks all pass.") var passing = false
    @Option(help: "Print the changes after this Raft index (default 0: first the current state).") var fromIndex: UInt64 = 0

    func validate() throws {
        _ = try target()
    }

    /// The watch target the flags describe.
    func target() throws -> WatchTarget {
        func unused(_ flags: [(String, Bool)]) throws {
            if let flag = flags.first(where: { $0.1 }) { throw ValidationError("\(flag.0) does not apply to --type \(type.rawValue)") }
        }
        switch type {
        case .key:
            try unused([("--prefix", prefix != nil), ("--service", service != nil), ("--tag", tag != nil), ("--passing", passing)])
            guard let key, !key.isEmpty else { throw ValidationError("--type key needs --key") }
            return .key(key)
        case .keyprefix:
            try unused([("--key", key != nil), ("--service", service != nil), ("--tag", tag != nil), ("--passing", passing)])
            guard let prefix else { throw ValidationError("--type keyprefix needs --prefix (\"\" for the whole store)") }
            return .keyPrefix(prefix)
        case .service:
            try unused([("--key", key != nil), ("--prefix", prefix != nil)])
            guard let service, !service.isEmpty else { throw ValidationError("--type service needs --service") }
            return .service(name: service, tag: tag ?? "", passingOnly: passing)
        case .services:
            try unused([("--key", key != nil), ("--prefix", prefix != nil), ("--service", service != nil), ("--tag", tag != nil), ("--passing", passing)])
            return .services
        }
    }

    func run() async throws {
        let target = try target()
        let trap = SignalTrap([SIGINT, SIGTERM]) { _ in Foundation.exit(0) }
        try await connection.withClient { client in
            for try await event in client.watch(target, fromIndex: fromIndex) {
                printJSON(event.json, pretty: false)
            }
        }
        withExtendedLifetime(trap) {}
    }
}
