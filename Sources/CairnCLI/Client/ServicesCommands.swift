import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn services`: register and deregister service instances.
struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services", abstract: "Register and deregister services.",
        subcommands: [ServicesRegister.self, ServicesDeregister.self])
}

struct ServicesRegister: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register the services of a Consul service definition file.",
        discussion: """
            The file holds {"service": {...}} or {"services": [...]}, in Consul's format:
              {"service": {
                 "id": "web-1", "name": "web", "tags": ["v2"],
                 "address": "10.0.0.5", "port": 8080, "meta": {"team": "edge"},
                 "check": {"http": "http://10.0.0.5:8080/health",
                           "interval": "10s", "timeout": "2s"}}}

            Check kinds: "ttl": "30s", or "http": URL, or "tcp": "host:port" (with "interval" and an optional \
            "timeout"). Other check fields: "id", "name", "status", "deregister_critical_service_after". \
            Durations: 500ms, 10s, 1m, 1h, 1m30s. A bad file exits with code 2 before anything is sent.
            """)
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The service definition file (JSON).") var file: String

    func run() async throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            fail("cannot read \(file): \(error.localizedDescription)", code: 2)
        }
        let registrations: [ServiceRegistration]
        do {
            registrations = try ServiceDefinition.registrations(fromJSON: bytes)
        } catch {
            fail("\(file): \(error.reason)", code: 2)
        }
        try await connection.withClient { client in
            for registration in registrations {
                try await client.register(registration)
                let service = registration.service
                emit("Registered service: \(service.name)" + (service.id.isEmpty || service.id == service.name ? "" : " (id \(service.id))") + "\n")
            }
        }
    }
}

struct ServicesDeregister: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deregister", abstract: "Deregister a service instance and its checks.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The node the instance is registered on (default: whichever has it).") var node = ""
    @Argument(help: "The service instance's id.") var id: String

    func run() async throws {
        try await connection.withClient { _ = try await $0.deregister(serviceID: id, node: node) }
        emit("Deregistered service: \(id)\n")
    }
}
