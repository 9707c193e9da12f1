import CairnWire
import Foundation

/// Consul's service definition files, read into ``ServiceRegistration``s (what
/// `cairn services register FILE.json` sends):
///
/// ```json
/// {"service": {
///   "id": "web-1", "name": "web", "tags": ["v2"], "address": "10.0.0.5", "port": 8080,
///   "meta": {"team": "edge"},
///   "check": {"http": "http://10.0.0.5:8080/health", "interval": "10s", "timeout": "2s"}
/// }}
/// ```
///
/// - The top level is `{"service": {…}}` or `{"services": [{…}, …]}`.
/// - Service fields: `name` (required), `id`, `tags`, `address`, `port` (0–65535), `meta`
///   (strings), and `check` (one) or `checks` (a list).
/// - Check fields: exactly one of `ttl` (a duration), `http` (a URL) or `tcp` (`host:port`);
///   `interval` (required with `http`/`tcp`) and `timeout` (default 10s); `id` (or `check_id`),
///   `name`, `status` (`passing`, `warning`, `critical`: the status before the first result,
///   default critical), `deregister_critical_service_after`, and `notes` (accepted, unused).
/// - Durations are ``ConsulDuration``s: `10s`, `1m`, `500ms`, `1h`.
/// - Field names match as Consul matches them: regardless of case and underscores
///   (`DeregisterCriticalServiceAfter` = `deregister_critical_service_after`, `ID` = `id`).
/// - Anything else is refused with a ``DefinitionError`` naming the field — a typo must not
///   silently drop a health check.
/// - Several checks without ids get `service:<id>:1`, `service:<id>:2`, … (Consul's default);
///   a single check without an id is left for the server to name (`service:<id>`).
public enum ServiceDefinition {
    /// The default timeout of HTTP and TCP checks: 10 s.
    public static let defaultCheckTimeoutMilliseconds: UInt64 = 10_000

    /// Reads a service definition file's bytes.
    ///
    /// - Throws: ``DefinitionError``.
    public static func registrations(fromJSON bytes: [UInt8]) throws(DefinitionError) -> [ServiceRegistration] {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw DefinitionError(.invalidJSON, field: "", "the file is not valid JSON (\(describe(error)))")
        }
        let top = try Fields(document, path: "", allowed: ["service", "services"])
        if let one = top["service"] {
            if top["services"] != nil { throw DefinitionError(.invalidValue, field: "services", "give either \"service\" or \"services\", not both") }
            return [try registration(one, path: "service")]
        }
        guard let many = top["services"] else {
            throw DefinitionError(.missingField, field: "service", "service: missing (the file must hold {\"service\": {…}} or {\"services\": [{…}]})")
        }
        guard case .array(let items) = many else { throw typeError("services", "a list of services") }
        if items.isEmpty { throw DefinitionError(.invalidValue, field: "services", "services: the list is empty") }
        return try items.enumerated().map { (i, item) throws(DefinitionError) in try registration(item, path: "services[\(i)]") }
    }

    private static func registration(_ value: JSONValue, path: String) throws(DefinitionError) -> ServiceRegistration {
        let fields = try Fields(value, path: path, allowed: ["id", "name", "tags", "address", "port", "meta", "check", "checks"])
        let name = try fields.string("name") ?? ""
        if name.isEmpty { throw DefinitionError(.missingField, field: "\(path).name", "\(path).name: missing (every service needs a name)") }
        let id = try fields.string("id") ?? ""
        var service = ServiceInstance(id: id, name: name)
        service.tags = try fields.stringList("tags") ?? []
        service.address = try fields.string("address") ?? ""
        if let port = try fields.integer("port") {
            guard (0...65_535).contains(port) else {
                throw DefinitionError(.invalidValue, field: "\(path).port", "\(path).port: \(port) is not a port (0 to 65535)")
            }
            service.port = UInt16(port)
        }
        service.meta = try fields.stringMap("meta") ?? [:]
        var checkValues: [(JSONValue, String)] = []
        if let check = fields["check"] { checkValues.append((check, "\(path).check")) }
        if let checks = fields["checks"] {
            guard case .array(let items) = checks else { throw typeError("\(path).checks", "a list of checks") }
            checkValues += items.enumerated().map { ($1, "\(path).checks[\($0)]") }
        }
        var checks = try checkValues.map { (value, checkPath) throws(DefinitionError) in try check(value, path: checkPath) }
        if checks.count > 1 {
            for i in checks.indices where checks[i].id.isEmpty { checks[i].id = "service:\(id.isEmpty ? name : id):\(i + 1)" }
        }
        return ServiceRegistration(service: service, checks: checks)
    }

    private static func check(_ value: JSONValue, path: String) throws(DefinitionError) -> CheckDefinition {
        let fields = try Fields(value, path: path, allowed: [
            "id", "checkid", "name", "ttl", "http", "tcp", "interval", "timeout", "deregistercriticalserviceafter", "status", "notes",
        ])
        let kinds = ["ttl", "http", "tcp"].filter { fields[$0] != nil }
        guard kinds.count == 1 else {
            let why = kinds.isEmpty ? "needs one of \"ttl\", \"http\" or \"tcp\"" : "has both \"\(kinds[0])\" and \"\(kinds[1])\"; give one"
            throw DefinitionError(kinds.isEmpty ? .missingField : .invalidValue, field: path, "\(path): a check \(why)")
        }
        let kind: CheckKind
        switch kinds[0] {
        case "ttl":
            let ttl = try fields.duration("ttl") ?? 0
            guard ttl > 0 else { throw DefinitionError(.invalidValue, field: "\(path).ttl", "\(path).ttl: must be longer than 0") }
            if fields["interval"] != nil { throw DefinitionError(.invalidValue, field: "\(path).interval", "\(path).interval: a TTL check has no interval") }
            kind = .ttl(ttlMilliseconds: ttl)
        default:
            let target = try fields.string(kinds[0]) ?? ""
            if target.isEmpty { throw DefinitionError(.invalidValue, field: "\(path).\(kinds[0])", "\(path).\(kinds[0]): must not be empty") }
            guard let interval = try fields.duration("interval") else {
                throw DefinitionError(.missingField, field: "\(path).interval", "\(path).interval: missing (an \(kinds[0].uppercased()) check runs every interval)")
            }
            guard interval > 0 else { throw DefinitionError(.invalidValue, field: "\(path).interval", "\(path).interval: must be longer than 0") }
            let timeout = try fields.duration("timeout") ?? defaultCheckTimeoutMilliseconds
            guard timeout > 0 else { throw DefinitionError(.invalidValue, field: "\(path).timeout", "\(path).timeout: must be longer than 0") }
            if kinds[0] == "http" {
                guard target.hasPrefix("http://") else {
                    throw DefinitionError(.invalidValue, field: "\(path).http", "\(path).http: \"\(target)\" is not an http:// URL")
                }
                kind = .http(url: target, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
            } else {
                guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]), (1...65_535).contains(port),
                      colon != target.startIndex else {
                    throw DefinitionError(.invalidValue, field: "\(path).tcp", "\(path).tcp: \"\(target)\" is not host:port")
                }
                kind = .tcp(address: target, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
            }
        }
        if kinds[0] == "ttl", fields["timeout"] != nil {
            throw DefinitionError(.invalidValue, field: "\(path).timeout", "\(path).timeout: a TTL check has no timeout")
        }
        var status = CheckStatus.critical
        if let text = try fields.string("status") {
            guard let parsed = CheckStatus.allCases.first(where: { $0.description == text.lowercased() }) else {
                throw DefinitionError(.invalidValue, field: "\(path).status", "\(path).status: \"\(text)\" is not passing, warning or critical")
            }
            status = parsed
        }
        _ = try fields.string("notes")
        var id = try fields.string("id") ?? ""
        if id.isEmpty { id = try fields.string("checkid") ?? "" }
        return CheckDefinition(id: id, name: try fields.string("name") ?? "", kind: kind, initialStatus: status,
                               deregisterCriticalAfterMilliseconds: try fields.duration("deregistercriticalserviceafter") ?? 0)
    }

    private static func typeError(_ field: String, _ expected: String) -> DefinitionError {
        DefinitionError(.invalidValue, field: field, "\(field): must be \(expected)")
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError.map { "\($0.localizedDescription)" }) ?? context.debugDescription
        }
        return "\(error.localizedDescription)"
    }

    /// An object's members by normalized name (lower case, no underscores), with typed getters
    /// whose errors name the field by its path and its name as written.
    private struct Fields {
        private var members: [String: (written: String, value: JSONValue)] = [:]
        private let path: String

        init(_ value: JSONValue, path: String, allowed: Set<String>) throws(DefinitionError) {
            self.path = path
            guard case .object(let list) = value else {
                throw DefinitionError(.invalidValue, field: path, "\(path.isEmpty ? "the file" : path): must be a JSON object")
            }
            for member in list {
                let key = member.name.lowercased().replacingOccurrences(of: "_", with: "")
                let field = Self.join(path, member.name)
                guard allowed.contains(key) else {
                    throw DefinitionError(.unknownField, field: field, "\(field): unknown or unsupported field")
                }
                if members[key] != nil { throw DefinitionError(.invalidValue, field: field, "\(field): given twice") }
                members[key] = (member.name, member.value)
            }
        }

        private static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

        private func field(_ key: String) -> String { Self.join(path, members[key]?.written ?? key) }

        subscript(key: String) -> JSONValue? {
            guard let value = members[key]?.value, value != .null else { return nil }
            return value
        }

        func string(_ key: String) throws(DefinitionError) -> String? {
            guard let value = self[key] else { return nil }
            guard case .string(let text) = value else { throw ServiceDefinition.typeError(field(key), "a string") }
            return text
        }

        func integer(_ key: String) throws(DefinitionError) -> Int64? {
            switch self[key] {
            case nil: return nil
            case .integer(let n): return n
            case .unsigned(let n): return n > UInt64(Int64.max) ? Int64.max : Int64(n)
            case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int64(d)
            default: throw ServiceDefinition.typeError(field(key), "an integer")
            }
        }

        func stringList(_ key: String) throws(DefinitionError) -> [String]? {
            guard let value = self[key] else { return nil }
            guard case .array(let items) = value else { throw ServiceDefinition.typeError(field(key), "a list of strings") }
            var strings: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let text) = item else { throw ServiceDefinition.typeError("\(field(key))[\(i)]", "a string") }
                strings.append(text)
            }
            return strings
        }

        func stringMap(_ key: String) throws(DefinitionError) -> [String: String]? {
            guard let value = self[key] else { return nil }
            guard case .object(let list) = value else { throw ServiceDefinition.typeError(field(key), "an object of strings") }
            var map: [String: String] = [:]
            for member in list {
                guard case .string(let text) = member.value else { throw ServiceDefinition.typeError("\(field(key)).\(member.name)", "a string") }
                map[member.name] = text
            }
            return map
        }

        /// A duration string in milliseconds.
        func duration(_ key: String) throws(DefinitionError) -> UInt64? {
            guard let text = try string(key) else { return nil }
            return try ConsulDuration.milliseconds(text, field: field(key))
        }
    }
}
