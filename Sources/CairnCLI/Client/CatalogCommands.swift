import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn catalog`: list services, nodes and the instances of a service.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "List services, nodes and service instances.",
        subcommands: [CatalogServices.self, CatalogNodes.self, CatalogService.self])
}

struct CatalogServices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "services", abstract: "List every service with its tags.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var read: ReadOptions

    func run() async throws {
        let services = try await connection.withClient { try await $0.services(consistency: read.consistency) }
        if output.json { return printJSON(services.json) }
        printTable(["Service", "Tags"], services.map { [$0.name, $0.tags.joined(separator: ",")] })
    }
}

struct CatalogNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "List every node.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var read: ReadOptions

    func run() async throws {
        let nodes = try await connection.withClient { try await $0.nodes(consistency: read.consistency) }
        if output.json { return printJSON(.array(nodes.map(\.json))) }
        printTable(["Node", "Address", "Meta"], nodes.map { [$0.name, $0.address, metaText($0.meta)] })
    }
}

struct CatalogService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service", abstract: "List the instances of a service with their health.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Only instances with this tag.") var tag = ""
    @Flag(help: "Only instances whose checks all pass.") var passing = false
    @OptionGroup var read: ReadOptions
    @Argument(help: "The service's name.") var name: String

    func run() async throws {
        let instances = try await connection.withClient {
            try await $0.service(name: name, tag: tag, passingOnly: passing, consistency: read.consistency)
        }
        if output.json { return printJSON(.array(instances.map(\.json))) }
        printTable(["Node", "ID", "Address", "Port", "Tags", "Status"], instances.map { instance in
            let address = instance.service.address.isEmpty ? instance.node.address : instance.service.address
            return [instance.node.name, instance.service.id, address, String(instance.service.port),
                    instance.service.tags.joined(separator: ","), instance.aggregateStatus.description]
        })
    }
}

/// `k=v` pairs in key order, comma-separated.
func metaText(_ meta: [String: String]) -> String {
    meta.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
}
