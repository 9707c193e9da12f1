import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// The flags every client command takes; each falls back to its environment variable.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Server client address(es), host:port, comma-separated (env CAIRN_ADDR).") var addr: String?
    @Option(help: "The cluster CA certificate (env CAIRN_CACERT).") var caFile: String?
    @Option(help: "The client certificate (env CAIRN_CLIENT_CERT).") var clientCert: String?
    @Option(help: "The client key (env CAIRN_CLIENT_KEY).") var clientKey: String?
    @Option(help: "The datacenter (env CAIRN_DATACENTER, default dc1).") var datacenter: String?

    func configuration() throws -> ClientConfiguration {
        let env = ProcessInfo.processInfo.environment
        func pick(_ flag: String?, _ name: String, _ flagName: String) throws -> String {
            if let flag, !flag.isEmpty { return flag }
            if let value = env[name], !value.isEmpty { return value }
            throw ValidationError("set \(flagName) or \(name)")
        }
        let addresses = try pick(addr, "CAIRN_ADDR", "--addr").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        var config = ClientConfiguration(
            addresses: addresses, caFile: try pick(caFile, "CAIRN_CACERT", "--ca-file"),
            certificateFile: try pick(clientCert, "CAIRN_CLIENT_CERT", "--client-cert"),
            keyFile: try pick(clientKey, "CAIRN_CLIENT_KEY", "--client-key"))
        config.datacenter = datacenter ?? env["CAIRN_DATACENTER"] ?? "dc1"
        return config
    }

    /// Runs `body` with a connected client, turning client errors into one line and exit code 1
    /// (unusable connection settings: exit code 2).
    func withClient<T>(_ body: (CairnClient) async throws -> T) async throws -> T {
        let client: CairnClient
        do {
            client = try CairnClient(configuration: try configuration())
        } catch let error as CairnClientError {
            fail(error.reason, code: 2)
        }
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch let error as CairnClientError {
            await client.close()
            fail(error.reason, code: 1)
        } catch let error as ValidationError {
            await client.close()
            throw error
        } catch {
            await client.close()
            fail("\(error)", code: 1)
        }
    }
}

/// `--stale`: the read consistency of a query command.
struct ReadOptions: ParsableArguments {
    @Flag(help: "Answer from any server without confirming leadership (may be stale).") var stale = false

    /// Linearizable unless `--stale` was given.
    var consistency: ReadConsistency { stale ? .stale : .linearizable }
}
