/// A node of the catalog: a machine (or container host) that services run on.
public struct CatalogNode: Sendable, Hashable {
    /// The node's unique name.
    public var name: String
    /// The node's address (an IP or host name).
    public var address: String
    /// Free-form metadata.
    public var meta: [String: String]

    /// Creates a node.
    public init(name: String, address: String, meta: [String: String] = [:]) {
        self.name = name
        self.address = address
        self.meta = meta
    }
}

/// One instance of a service, as registered.
public struct ServiceInstance: Sendable, Hashable {
    /// The instance's id, unique on its node (defaults to the name when registered empty).
    public var id: String
    /// The service's name: what clients look it up by.
    public var name: String
    /// Tags to filter instances by.
    public var tags: [String]
    /// Where the instance listens; empty means the node's address.
    public var address: String
    /// The instance's port.
    public var port: UInt16
    /// Free-form metadata.
    public var meta: [String: String]
    /// The node the instance runs on (filled in by the server when registered empty).
    public var node: String
    /// The Raft index that registered the instance.
    public var createIndex: UInt64
    /// The Raft index that last changed the registration.
    public var modifyIndex: UInt64

    /// Creates a service instance.
    public init(id: String, name: String, tags: [String] = [], address: String = "", port: UInt16 = 0,
                meta: [String: String] = [:], node: String = "", createIndex: UInt64 = 0, modifyIndex: UInt64 = 0) {
        self.id = id
        self.name = name
        self.tags = tags
        self.address = address
        self.port = port
        self.meta = meta
        self.node = node
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
    }
}

/// A health check's state. Ordered from best to worst, so the worst of several is their maximum.
public enum CheckStatus: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Healthy.
    case passing = 0
    /// Degraded but serving (an HTTP check answered 429).
    case warning = 1
    /// Failing.
    case critical = 2

    public static func < (lhs: CheckStatus, rhs: CheckStatus) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `passing`, `warning` or `critical`.
    public var description: String {
        switch self {
        case .passing: return "passing"
        case .warning: return "warning"
        case .critical: return "critical"
        }
    }
}

/// How a health check decides its status. The servers run HTTP and TCP checks themselves; a TTL
/// check is reported by the service (``ClientRequest/checkUpdate(node:checkID:status:output:)``) and
/// turns critical when no report arrives within the TTL.
public enum CheckKind: Sendable, Hashable {
    /// Critical unless reported within `ttlMilliseconds` of the last report.
    case ttl(ttlMilliseconds: UInt64)
    /// `GET url` every interval: 2xx passing, 429 warning, anything else (or no answer within
    /// the timeout) critical. Plain `http://` URLs.
    case http(url: String, intervalMilliseconds: UInt64, timeoutMilliseconds: UInt64)
    /// A TCP connect to `address` (`host:port`) every interval: connected within the timeout is
    /// passing, anything else critical.
    case tcp(address: String, intervalMilliseconds: UInt64, timeoutMilliseconds: UInt64)
}

/// A health check as registered with a service (or with a node, when `serviceID` is empty).
public struct CheckDefinition: Sendable, Hashable {
    /// The check's id, unique on its node (defaults to `service:<serviceID>` or the name).
    public var id: String
    /// A human name.
    public var name: String
    /// How the status is decided.
    public var kind: CheckKind
    /// The status before the first result (Consul starts checks critical).
    public var initialStatus: CheckStatus
    /// Deregister the check's service once the check has been critical this long (0: never).
    public var deregisterCriticalAfterMilliseconds: UInt64

    /// Creates a check definition.
    public init(id: String = "", name: String = "", kind: CheckKind, initialStatus: CheckStatus = .critical,
                deregisterCriticalAfterMilliseconds: UInt64 = 0) {
        self.id = id
        self.name = name
        self.kind = kind
        self.initialStatus = initialStatus
        self.deregisterCriticalAfterMilliseconds = deregisterCriticalAfterMilliseconds
    }
}

/// A health check and its current state, as the catalog holds it.
public struct HealthCheck: Sendable, Hashable {
    /// The check's id, unique on its node.
    public var id: String
    /// A human name.
    public var name: String
    /// The node it belongs to.
    public var node: String
    /// The service instance it checks; empty for a node-level check.
    public var serviceID: String
    /// The service's name; empty for a node-level check.
    public var serviceName: String
    /// The current status.
    public var status: CheckStatus
    /// What the last run said (an HTTP status line, a connect error, a TTL report's note).
    public var output: String
    /// How the status is decided.
    public var definition: CheckDefinition
    /// The Raft index that registered the check.
    public var createIndex: UInt64
    /// The Raft index that last changed it (its status, output or definition).
    public var modifyIndex: UInt64

    /// Creates a health check.
    public init(id: String, name: String, node: String, serviceID: String, serviceName: String, status: CheckStatus,
                output: String, definition: CheckDefinition, createIndex: UInt64 = 0, modifyIndex: UInt64 = 0) {
        self.id = id
        self.name = name
        self.node = node
        self.serviceID = serviceID
        self.serviceName = serviceName
        self.status = status
        self.output = output
        self.definition = definition
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
    }
}

/// What a client registers: a service instance, its node, and its checks (Consul's agent
/// service definition).
public struct ServiceRegistration: Sendable, Hashable {
    /// The node to register on; empty means the node of the server that handles the request.
    public var node: String
    /// The node's address; empty keeps a registered node's address, or uses the service address.
    public var nodeAddress: String
    /// The instance (`node`, `createIndex`, `modifyIndex` are filled in by the server).
    public var service: ServiceInstance
    /// The instance's checks.
    public var checks: [CheckDefinition]

    /// Creates a registration.
    public init(node: String = "", nodeAddress: String = "", service: ServiceInstance, checks: [CheckDefinition] = []) {
        self.node = node
        self.nodeAddress = nodeAddress
        self.service = service
        self.checks = checks
    }
}

/// One instance of a service with its node and the checks that decide its health (Consul's
/// `/health/service` entry).
public struct ServiceHealth: Sendable, Hashable {
    /// The node the instance runs on.
    public var node: CatalogNode
    /// The instance.
    public var service: ServiceInstance
    /// The node's checks and the instance's own checks.
    public var checks: [HealthCheck]

    /// Creates an entry.
    public init(node: CatalogNode, service: ServiceInstance, checks: [HealthCheck]) {
        self.node = node
        self.service = service
        self.checks = checks
    }

    /// The worst status among the checks; passing when there are none.
    public var aggregateStatus: CheckStatus { checks.map(\.status).max() ?? .passing }
}

/// A service name with the union of its instances' tags (`cairn catalog services`).
public struct ServiceSummary: Sendable, Hashable {
    /// The service's name.
    public var name: String
    /// Every tag any instance carries, sorted, without duplicates.
    public var tags: [String]

    /// Creates a summary.
    public init(name: String, tags: [String]) {
        self.name = name
        self.tags = tags
    }
}
