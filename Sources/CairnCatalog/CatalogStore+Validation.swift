import CairnWire

extension CatalogStore {
    /// Why `registration` cannot be registered, or nil when it can. The server calls this before
    /// proposing; ``apply(_:at:)`` applies the same rules (and also requires a non-empty node, which
    /// the server fills in), so a bad entry never changes the state.
    ///
    /// Rules: the service name is non-empty; names (node, service name and id, tags, meta keys
    /// and values, addresses, check ids and names) are at most ``maxNameBytes`` UTF-8 bytes; meta
    /// keys are non-empty; check ids are distinct once defaulted; and every check passes
    /// ``validate(check:)``. The port may be any value.
    public static func validate(_ registration: ServiceRegistration) -> (code: ClientErrorCode, message: String)? {
        let service = registration.service
        let problem = nameProblem("service name", service.name)
            ?? lengthProblem("service id", service.id)
            ?? lengthProblem("node name", registration.node)
            ?? lengthProblem("node address", registration.nodeAddress)
            ?? lengthProblem("service address", service.address)
            ?? service.tags.lazy.compactMap { lengthProblem("tag", $0) }.first
            ?? service.meta.keys.sorted().lazy.compactMap {
                nameProblem("meta key", $0) ?? lengthProblem("value of meta key \"\($0)\"", service.meta[$0]!)
            }.first
        if let problem { return (.invalidArgument, problem) }
        var seen = Set<String>()
        for check in defaultedChecks(registration.checks, serviceID: serviceID(of: service), serviceName: service.name) {
            guard seen.insert(check.id).inserted else {
                return (.invalidArgument, "two checks of service \"\(service.name)\" have the id \"\(check.id)\"")
            }
            if let problem = validate(check: check) { return problem }
        }
        return nil
    }

    /// Why `check` cannot be registered, or nil when it can.
    ///
    /// Rules: id and name at most ``maxNameBytes`` bytes; a TTL of at least
    /// ``minimumTTLMilliseconds``; an HTTP check's URL is a plain `http://host[:port][/path]`
    /// (``HTTPCheckURL``; https is not supported) and a TCP check's address is `host:port`
    /// (``TCPCheckAddress``); their interval is at least ``minimumIntervalMilliseconds`` and their
    /// timeout is above zero and at most the interval (the catalog has no defaults: clients fill
    /// them in); "deregister after critical for" is 0
    /// (never) or at least ``minimumDeregisterCriticalAfterMilliseconds``.
    public static func validate(check: CheckDefinition) -> (code: ClientErrorCode, message: String)? {
        if let problem = lengthProblem("check id", check.id) ?? lengthProblem("check name", check.name) {
            return (.invalidArgument, problem)
        }
        let label = "check \"\(check.id.isEmpty ? check.name : check.id)\""
        switch check.kind {
        case .ttl(let ttl):
            if ttl < minimumTTLMilliseconds {
                return (.invalidArgument, "the TTL of \(label) is \(ttl) ms; the minimum is \(minimumTTLMilliseconds) ms")
            }
        case .http(let url, let interval, let timeout):
            do throws(CheckTargetError) {
                _ = try HTTPCheckURL(parsing: url)
            } catch {
                return (.invalidArgument, "\(label): \(error.reason)")
            }
            if let problem = timingProblem(label, interval: interval, timeout: timeout) { return (.invalidArgument, problem) }
        case .tcp(let address, let interval, let timeout):
            do throws(CheckTargetError) {
                _ = try TCPCheckAddress(parsing: address)
            } catch {
                return (.invalidArgument, "\(label): \(error.reason)")
            }
            if let problem = timingProblem(label, interval: interval, timeout: timeout) { return (.invalidArgument, problem) }
        }
        let after = check.deregisterCriticalAfterMilliseconds
        if after != 0, after < minimumDeregisterCriticalAfterMilliseconds {
            return (.invalidArgument, "\(label) deregisters after \(after) ms critical; use 0 (never) or at least "
                + "\(minimumDeregisterCriticalAfterMilliseconds) ms")
        }
        return nil
    }

    /// The id an instance is stored under: its id, or its name when the id is empty.
    static func serviceID(of service: ServiceInstance) -> String { service.id.isEmpty ? service.name : service.id }

    /// `checks` with Consul's defaults filled in: an empty id becomes `service:<serviceID>` when
    /// there is one check, `service:<serviceID>:<n>` (its 1-based position) when there are several;
    /// an empty name becomes `Service '<serviceName>' check`.
    static func defaultedChecks(_ checks: [CheckDefinition], serviceID: String, serviceName: String) -> [CheckDefinition] {
        checks.enumerated().map { position, check in
            var check = check
            if check.id.isEmpty {
                check.id = checks.count == 1 ? "service:\(serviceID)" : "service:\(serviceID):\(position + 1)"
            }
            if check.name.isEmpty { check.name = "Service '\(serviceName)' check" }
            return check
        }
    }

    /// A problem when `value` is empty or longer than ``maxNameBytes``.
    static func nameProblem(_ label: String, _ value: String) -> String? {
        value.isEmpty ? "the \(label) is empty" : lengthProblem(label, value)
    }

    /// A problem when `value` is longer than ``maxNameBytes``.
    static func lengthProblem(_ label: String, _ value: String) -> String? {
        let size = value.utf8.count
        return size > maxNameBytes ? "the \(label) is \(size) bytes; the limit is \(maxNameBytes)" : nil
    }

    private static func timingProblem(_ label: String, interval: UInt64, timeout: UInt64) -> String? {
        if interval < minimumIntervalMilliseconds {
            return "the interval of \(label) is \(interval) ms; the minimum is \(minimumIntervalMilliseconds) ms"
        }
        if timeout == 0 || timeout > interval {
            return "the timeout of \(label) is \(timeout) ms; it must be above 0 and at most the interval (\(interval) ms)"
        }
        return nil
    }
}
