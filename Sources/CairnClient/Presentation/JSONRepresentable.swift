import CairnWire
import Foundation

/// A value with a JSON form, shaped like Consul's HTTP API answers (PascalCase names, KV values
/// in base64, durations as `10s`), so that scripts written against Consul's JSON read Cairn's.
public protocol JSONRepresentable {
    /// The JSON form.
    var json: JSONValue { get }
}

extension KVEntry: JSONRepresentable {
    /// `{"Key", "CreateIndex", "ModifyIndex", "LockIndex", "Flags", "Value" (base64), "Session"
    /// (only when locked)}` — Consul's `/v1/kv` entry.
    public var json: JSONValue {
        var members: [JSONValue.Member] = [
            .init("Key", .string(key)), .init("CreateIndex", .unsigned(createIndex)), .init("ModifyIndex", .unsigned(modifyIndex)),
            .init("LockIndex", .unsigned(lockIndex)), .init("Flags", .unsigned(flags)),
            .init("Value", .string(Data(value).base64EncodedString())),
        ]
        if !session.isEmpty { members.append(.init("Session", .string(session))) }
        return .object(members)
    }
}

extension KVChange: JSONRepresentable {
    /// `{"Key", "Entry"}`, the entry null when the change deleted the key.
    public var json: JSONValue {
        .object(["Key": .string(key), "Entry": entry?.json ?? .null])
    }
}

extension CatalogNode: JSONRepresentable {
    /// `{"Node", "Address", "Meta"}`.
    public var json: JSONValue {
        .object(["Node": .string(name), "Address": .string(address), "Meta": .strings(meta)])
    }
}

extension ServiceInstance: JSONRepresentable {
    /// `{"ID", "Service", "Tags", "Address", "Port", "Meta", "Node", "CreateIndex", "ModifyIndex"}`.
    public var json: JSONValue {
        .object([
            "ID": .string(id), "Service": .string(name), "Tags": .strings(tags), "Address": .string(address),
            "Port": .unsigned(UInt64(port)), "Meta": .strings(meta), "Node": .string(node),
            "CreateIndex": .unsigned(createIndex), "ModifyIndex": .unsigned(modifyIndex),
        ])
    }
}

extension CheckDefinition: JSONRepresentable {
    /// The definition in Consul's service-definition form: `{"CheckID", "Name", "TTL"}` or
    /// `{…, "HTTP"/"TCP", "Interval", "Timeout"}`, with "Status" and, when set,
    /// "DeregisterCriticalServiceAfter".
    public var json: JSONValue {
        var members: [JSONValue.Member] = [.init("CheckID", .string(id)), .init("Name", .string(name))]
        switch kind {
        case .ttl(let ttl):
            members.append(.init("TTL", .string(ConsulDuration.format(milliseconds: ttl))))
        case .http(let url, let interval, let timeout):
            members += [.init("HTTP", .string(url)), .init("Interval", .string(ConsulDuration.format(milliseconds: interval))),
                        .init("Timeout", .string(ConsulDuration.format(milliseconds: timeout)))]
        case .tcp(let address, let interval, let timeout):
            members += [.init("TCP", .string(address)), .init("Interval", .string(ConsulDuration.format(milliseconds: interval))),
                        .init("Timeout", .string(ConsulDuration.format(milliseconds: timeout)))]
        }
        members.append(.init("Status", .string(initialStatus.description)))
        if deregisterCriticalAfterMilliseconds > 0 {
            members.append(.init("DeregisterCriticalServiceAfter", .string(ConsulDuration.format(milliseconds: deregisterCriticalAfterMilliseconds))))
        }
        return .object(members)
    }
}

extension CheckKind {
    /// `ttl`, `http` or `tcp`.
    public var name: String {
        switch self {
        case .ttl: return "ttl"
        case .http: return "http"
        case .tcp: return "tcp"
        }
    }
}

extension HealthCheck: JSONRepresentable {
    /// `{"Node", "CheckID", "Name", "Status", "Output", "ServiceID", "ServiceName", "Type",
    /// "CreateIndex", "ModifyIndex"}` — Consul's `/v1/health` check.
    public var json: JSONValue {
        .object([
            "Node": .string(node), "CheckID": .string(id), "Name": .string(name), "Status": .string(status.description),
            "Output": .string(output), "ServiceID": .string(serviceID), "ServiceName": .string(serviceName),
            "Type": .string(definition.kind.name), "CreateIndex": .unsigned(createIndex), "ModifyIndex": .unsigned(modifyIndex),
        ])
    }
}

extension ServiceHealth: JSONRepresentable {
    /// `{"Node", "Service", "Checks"}` — Consul's `/v1/health/service` entry.
    public var json: JSONValue {
        .object(["Node": node.json, "Service": service.json, "Checks": .array(checks.map(\.json))])
    }
}

extension Session: JSONRepresentable {
    /// `{"ID", "Name", "Node", "TTL", "LockDelay", "Behavior", "Checks", "CreateIndex"}`.
    public var json: JSONValue {
        .object([
            "ID": .string(id), "Name": .string(name), "Node": .string(node),
            "TTL": .string(ttlMilliseconds == 0 ? "" : ConsulDuration.format(milliseconds: ttlMilliseconds)),
            "LockDelay": .string(ConsulDuration.format(milliseconds: lockDelayMilliseconds)), "Behavior": .string(behavior.description),
            "Checks": .strings(checks), "CreateIndex": .unsigned(createIndex),
        ])
    }
}

extension ReadMeta: JSONRepresentable {
    /// `{"Index", "KnownLeader", "LastContact"}` (LastContact in milliseconds).
    public var json: JSONValue {
        .object(["Index": .unsigned(index), "KnownLeader": .bool(knownLeader), "LastContact": .unsigned(lastContactMilliseconds)])
    }
}

extension Array where Element == ServiceSummary {
    /// `{"name": ["tag", …], …}` — Consul's `/v1/catalog/services`.
    public var json: JSONValue {
        .object(map { JSONValue.Member($0.name, .strings($0.tags)) })
    }
}

extension WatchEvent: JSONRepresentable {
    /// One line of `cairn watch`: `{"Index", "Type": "keys", "Snapshot", "Changes": [KVChange]}`,
    /// `{"Index", "Type": "service", "Instances": [ServiceHealth]}` or
    /// `{"Index", "Type": "services", "Services": {"name": [tags]}}`.
    public var json: JSONValue {
        switch payload {
        case .keys(let changes, let snapshot):
            return .object(["Index": .unsigned(index), "Type": .string("keys"), "Snapshot": .bool(snapshot),
                            "Changes": .array(changes.map(\.json))])
        case .service(let instances):
            return .object(["Index": .unsigned(index), "Type": .string("service"), "Instances": .array(instances.map(\.json))])
        case .services(let services):
            return .object(["Index": .unsigned(index), "Type": .string("services"), "Services": services.json])
        }
    }
}
