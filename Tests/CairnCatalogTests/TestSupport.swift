import CairnCatalog
import CairnKernel
import CairnWire

extension CatalogStore {
    /// Applies `command` through its log-entry bytes (tag byte first), as a server would, and
    /// decodes the result; nil when the bytes are not a catalog result.
    @discardableResult
    mutating func run(_ command: CatalogCommand, at index: UInt64) -> CatalogResult? {
        let bytes = command.encoded()
        guard bytes.first == CatalogStore.moduleTag else { return nil }
        return CatalogResult(decoding: apply(bytes.dropFirst(), at: index))
    }
}

/// A registration of service `name` on `node`.
func registration(node: String = "n1", nodeAddress: String = "", id: String = "", name: String,
                  tags: [String] = [], address: String = "", port: UInt16 = 0, meta: [String: String] = [:],
                  checks: [CheckDefinition] = []) -> ServiceRegistration {
    ServiceRegistration(node: node, nodeAddress: nodeAddress,
                        service: ServiceInstance(id: id, name: name, tags: tags, address: address, port: port, meta: meta),
                        checks: checks)
}

/// A TTL check definition.
func ttlCheck(id: String = "", name: String = "", seconds: UInt64 = 10, initial: CheckStatus = .critical,
              deregisterAfter: UInt64 = 0) -> CheckDefinition {
    CheckDefinition(id: id, name: name, kind: .ttl(ttlMilliseconds: seconds * 1000), initialStatus: initial,
                    deregisterCriticalAfterMilliseconds: deregisterAfter)
}

/// An HTTP check definition (10 s interval, 5 s timeout unless given).
func httpCheck(id: String = "", url: String = "http://127.0.0.1:8080/health", interval: UInt64 = 10_000,
               timeout: UInt64 = 5_000, initial: CheckStatus = .critical, deregisterAfter: UInt64 = 0) -> CheckDefinition {
    CheckDefinition(id: id, kind: .http(url: url, intervalMilliseconds: interval, timeoutMilliseconds: timeout),
                    initialStatus: initial, deregisterCriticalAfterMilliseconds: deregisterAfter)
}

/// A TCP check definition (10 s interval, 5 s timeout unless given).
func tcpCheck(id: String = "", address: String = "127.0.0.1:5432", interval: UInt64 = 10_000, timeout: UInt64 = 5_000,
              initial: CheckStatus = .critical) -> CheckDefinition {
    CheckDefinition(id: id, kind: .tcp(address: address, intervalMilliseconds: interval, timeoutMilliseconds: timeout),
                    initialStatus: initial)
}

extension CatalogResult {
    /// Whether the result is a rejection (whatever the reason).
    var isRejected: Bool {
        if case .rejected = self { return true }
        return false
    }
}
