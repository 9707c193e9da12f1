import NIOCore

// The encodings of the structures that client messages carry (Protocol/README.md §6.4): KV
// entries, read metadata, the catalog's nodes, services and checks, sessions, transaction
// operations and outcomes, watch targets and events.
//
// Readers of nested structures name their fields relative to the structure ("key", "meta") and are
// called through `readNested`, which prefixes the path of the structure in its message, so that a
// failure names the full path of the field: "catalogService.instances[2].checks[0].status: …".

extension ByteBuffer {
    // MARK: Nesting, lists, maps, enums

    /// Runs `read`; a failure's reason gets `context` (and `[index]`) and a dot in front, so that it
    /// names the full path of the field that failed.
    mutating func readNested<T>(
        _ context: StaticString, index: Int? = nil, _ read: (inout ByteBuffer) throws(WireError) -> T
    ) throws(WireError) -> T {
        do {
            return try read(&self)
        } catch {
            var nested = error
            let inner = error.reason
            if let index {
                nested.reason = "\(context)[\(index)].\(inner)"
            } else {
                nested.reason = "\(context).\(inner)"
            }
            throw nested
        }
    }

    /// Reads a `list<T>`: its count (checked against `minimumItemSize`), then each item with
    /// `read`, nested as `field[i]`.
    mutating func readListField<T>(
        _ field: StaticString, minimumItemSize: Int, _ read: (inout ByteBuffer) throws(WireError) -> T
    ) throws(WireError) -> [T] {
        let count = try readCountField(field, minimumItemSize: minimumItemSize)
        var items: [T] = []
        items.reserveCapacity(count)
        for index in 0..<count {
            items.append(try readNested(field, index: index, read))
        }
        return items
    }

    /// Writes a `list<T>`: the count, then each item with `write`.
    mutating func writeListField<T>(_ items: [T], _ write: (inout ByteBuffer, T) -> Void) {
        writeInteger(UInt32(items.count))
        for item in items { write(&self, item) }
    }

    /// Reads a `list<string>`.
    mutating func readStringListField(_ field: StaticString) throws(WireError) -> [String] {
        let count = try readCountField(field, minimumItemSize: MinimumEncodedSize.string)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try readStringField(field)) }
        return strings
    }

    /// Writes a `list<string>`.
    mutating func writeStringListField(_ strings: [String]) {
        writeInteger(UInt32(strings.count))
        for string in strings { writeStringField(string) }
    }

    /// Reads a `map`: a `list<(string key, string value)>` whose keys are in strictly ascending
    /// order of their UTF-8 bytes. Keys out of order, repeated, or canonically equivalent to an
    /// earlier one (which a Swift dictionary cannot hold apart) fail with
    /// ``WireError/Code/invalidValue``, so a map has exactly one encoding.
    mutating func readStringMapField(_ field: StaticString) throws(WireError) -> [String: String] {
        let count = try readCountField(field, minimumItemSize: MinimumEncodedSize.mapEntry)
        var map: [String: String] = [:]
        map.reserveCapacity(count)
        var previous: String?
        for _ in 0..<count {
            let key = try readStringField(field)
            let value = try readStringField(field)
            if let previous, !previous.utf8.lexicographicallyPrecedes(key.utf8) {
                throw WireError(
                    .invalidValue,
                    "\(field): keys must be in strictly ascending UTF-8 byte order, \"\(key)\" follows \"\(previous)\"")
            }
            if let existing = map.index(forKey: key) {
                throw WireError(
                    .invalidValue,
                    "\(field): key \"\(key)\" is canonically equivalent to key \"\(map[existing].key)\"")
            }
            map[key] = value
            previous = key
        }
        return map
    }

    /// Writes a `map`, keys in ascending order of their UTF-8 bytes.
    mutating func writeStringMapField(_ map: [String: String]) {
        writeInteger(UInt32(map.count))
        for (key, value) in map.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            writeStringField(key)
            writeStringField(value)
        }
    }

    /// Reads a `u8` enum; an undefined value fails with ``WireError/Code/invalidValue``, the reason
    /// listing the `defined` values.
    mutating func readEnumField<T: RawRepresentable>(
        _ field: StaticString, as: T.Type = T.self, defined: @autoclosure () -> String
    ) throws(WireError) -> T where T.RawValue == UInt8 {
        let value: UInt8 = try readField(field)
        guard let result = T(rawValue: value) else {
            throw WireError(.invalidValue, "\(field): \(value) is not defined (\(defined()))")
        }
        return result
    }

    /// Reads a ``ReadConsistency`` (`u8`).
    mutating func readConsistencyField(_ field: StaticString) throws(WireError) -> ReadConsistency {
        try readEnumField(field, defined: "0 linearizable, 1 stale")
    }

    /// Reads a ``CheckStatus`` (`u8`).
    mutating func readCheckStatusField(_ field: StaticString) throws(WireError) -> CheckStatus {
        try readEnumField(field, defined: "0 passing, 1 warning, 2 critical")
    }

    /// Reads a ``SessionBehavior`` (`u8`).
    mutating func readSessionBehaviorField(_ field: StaticString) throws(WireError) -> SessionBehavior {
        try readEnumField(field, defined: "0 release, 1 delete")
    }

    // MARK: Read metadata

    /// `readMeta` = `u64 index, bool knownLeader, u64 lastContactMilliseconds`.
    mutating func writeReadMeta(_ meta: ReadMeta) {
        writeMultipleIntegers(meta.index, UInt8(meta.knownLeader ? 1 : 0), meta.lastContactMilliseconds)
    }

    mutating func readReadMeta() throws(WireError) -> ReadMeta {
        let index: UInt64 = try readField("index")
        let knownLeader = try readBoolField("knownLeader")
        let lastContact: UInt64 = try readField("lastContactMilliseconds")
        return ReadMeta(index: index, knownLeader: knownLeader, lastContactMilliseconds: lastContact)
    }

    // MARK: KV

    /// `kvEntry` = `string key, bytes value, u64 flags, u64 createIndex, u64 modifyIndex,
    /// u64 lockIndex, string session`.
    mutating func writeKVEntry(_ entry: KVEntry) {
        reserveCapacity(
            minimumWritableBytes: MinimumEncodedSize.kvEntry + entry.key.utf8.count + entry.value.count
                + entry.session.utf8.count)
        writeStringField(entry.key)
        writeBytesField(entry.value)
        writeMultipleIntegers(entry.flags, entry.createIndex, entry.modifyIndex, entry.lockIndex)
        writeStringField(entry.session)
    }

    mutating func readKVEntry() throws(WireError) -> KVEntry {
        let key = try readStringField("key")
        let value = try readBytesField("value")
        let flags: UInt64 = try readField("flags")
        let createIndex: UInt64 = try readField("createIndex")
        let modifyIndex: UInt64 = try readField("modifyIndex")
        let lockIndex: UInt64 = try readField("lockIndex")
        let session = try readStringField("session")
        return KVEntry(
            key: key, value: value, flags: flags, createIndex: createIndex, modifyIndex: modifyIndex,
            lockIndex: lockIndex, session: session)
    }

    /// `optional<kvEntry>`.
    mutating func writeOptionalKVEntry(_ entry: KVEntry?) {
        if let entry {
            writeInteger(1, as: UInt8.self)
            writeKVEntry(entry)
        } else {
            writeInteger(0, as: UInt8.self)
        }
    }

    mutating func readOptionalKVEntry(_ field: StaticString) throws(WireError) -> KVEntry? {
        guard try readPresenceField(field) else { return nil }
        return try readNested(field) { buffer throws(WireError) in try buffer.readKVEntry() }
    }

    /// Reads a `list<kvEntry>`.
    mutating func readKVEntryList(_ field: StaticString) throws(WireError) -> [KVEntry] {
        try readListField(field, minimumItemSize: MinimumEncodedSize.kvEntry) { buffer throws(WireError) in
            try buffer.readKVEntry()
        }
    }

    /// `kvChange` = `string key, optional<kvEntry> entry`.
    mutating func writeKVChange(_ change: KVChange) {
        writeStringField(change.key)
        writeOptionalKVEntry(change.entry)
    }

    mutating func readKVChange() throws(WireError) -> KVChange {
        let key = try readStringField("key")
        let entry = try readOptionalKVEntry("entry")
        return KVChange(key: key, entry: entry)
    }

    /// `txnOp` = `u8 tag`, then the operation's fields (Protocol/README.md §6.4).
    mutating func writeTransactionOperation(_ operation: KVTransactionOperation) {
        typealias Tag = WireTag.TransactionOperation
        switch operation {
        case .get(let key):
            writeInteger(Tag.get.rawValue)
            writeStringField(key)
        case .getTree(let prefix):
            writeInteger(Tag.getTree.rawValue)
            writeStringField(prefix)
        case .set(let key, let value, let flags):
            writeInteger(Tag.set.rawValue)
            writeStringField(key)
            writeBytesField(value)
            writeInteger(flags)
        case .cas(let key, let value, let flags, let index):
            writeInteger(Tag.cas.rawValue)
            writeStringField(key)
            writeBytesField(value)
            writeMultipleIntegers(flags, index)
        case .lock(let key, let value, let flags, let session):
            writeInteger(Tag.lock.rawValue)
            writeStringField(key)
            writeBytesField(value)
            writeInteger(flags)
            writeStringField(session)
        case .unlock(let key, let value, let flags, let session):
            writeInteger(Tag.unlock.rawValue)
            writeStringField(key)
            writeBytesField(value)
            writeInteger(flags)
            writeStringField(session)
        case .delete(let key):
            writeInteger(Tag.delete.rawValue)
            writeStringField(key)
        case .deleteTree(let prefix):
            writeInteger(Tag.deleteTree.rawValue)
            writeStringField(prefix)
        case .deleteCAS(let key, let index):
            writeInteger(Tag.deleteCAS.rawValue)
            writeStringField(key)
            writeInteger(index)
        case .checkIndex(let key, let index):
            writeInteger(Tag.checkIndex.rawValue)
            writeStringField(key)
            writeInteger(index)
        case .checkSession(let key, let session):
            writeInteger(Tag.checkSession.rawValue)
            writeStringField(key)
            writeStringField(session)
        case .checkNotExists(let key):
            writeInteger(Tag.checkNotExists.rawValue)
            writeStringField(key)
        }
    }

    mutating func readTransactionOperation() throws(WireError) -> KVTransactionOperation {
        let tag: WireTag.TransactionOperation = try readEnumField(
            "tag",
            defined: "1 get, 2 getTree, 3 set, 4 cas, 5 lock, 6 unlock, 7 delete, 8 deleteTree, 9 deleteCAS, "
                + "10 checkIndex, 11 checkSession, 12 checkNotExists")
        switch tag {
        case .get:
            return .get(key: try readStringField("key"))
        case .getTree:
            return .getTree(prefix: try readStringField("prefix"))
        case .set:
            let key = try readStringField("key")
            let value = try readBytesField("value")
            let flags: UInt64 = try readField("flags")
            return .set(key: key, value: value, flags: flags)
        case .cas:
            let key = try readStringField("key")
            let value = try readBytesField("value")
            let flags: UInt64 = try readField("flags")
            let index: UInt64 = try readField("index")
            return .cas(key: key, value: value, flags: flags, index: index)
        case .lock, .unlock:
            let key = try readStringField("key")
            let value = try readBytesField("value")
            let flags: UInt64 = try readField("flags")
            let session = try readStringField("session")
            return tag == .lock
                ? .lock(key: key, value: value, flags: flags, session: session)
                : .unlock(key: key, value: value, flags: flags, session: session)
        case .delete:
            return .delete(key: try readStringField("key"))
        case .deleteTree:
            return .deleteTree(prefix: try readStringField("prefix"))
        case .deleteCAS:
            let key = try readStringField("key")
            let index: UInt64 = try readField("index")
            return .deleteCAS(key: key, index: index)
        case .checkIndex:
            let key = try readStringField("key")
            let index: UInt64 = try readField("index")
            return .checkIndex(key: key, index: index)
        case .checkSession:
            let key = try readStringField("key")
            let session = try readStringField("session")
            return .checkSession(key: key, session: session)
        case .checkNotExists:
            return .checkNotExists(key: try readStringField("key"))
        }
    }

    /// `txnOutcome` = `u8 tag`, then `committed`: `u64 index, list<kvEntry> results`, or
    /// `failed`: `u64 index, u32 operation, string reason`.
    mutating func writeTransactionOutcome(_ outcome: KVTransactionOutcome) {
        switch outcome {
        case .committed(let index, let results):
            writeMultipleIntegers(WireTag.TransactionOutcome.committed.rawValue, index)
            writeListField(results) { $0.writeKVEntry($1) }
        case .failed(let index, let operation, let reason):
            writeMultipleIntegers(WireTag.TransactionOutcome.failed.rawValue, index, operation)
            writeStringField(reason)
        }
    }

    mutating func readTransactionOutcome() throws(WireError) -> KVTransactionOutcome {
        let tag: WireTag.TransactionOutcome = try readEnumField("tag", defined: "1 committed, 2 failed")
        switch tag {
        case .committed:
            let index: UInt64 = try readField("index")
            let results = try readKVEntryList("results")
            return .committed(index: index, results: results)
        case .failed:
            let index: UInt64 = try readField("index")
            let operation: UInt32 = try readField("operation")
            let reason = try readStringField("reason")
            return .failed(index: index, operation: operation, reason: reason)
        }
    }

    // MARK: Catalog

    /// `catalogNode` = `string name, string address, map meta`.
    mutating func writeCatalogNode(_ node: CatalogNode) {
        writeStringField(node.name)
        writeStringField(node.address)
        writeStringMapField(node.meta)
    }

    mutating func readCatalogNode() throws(WireError) -> CatalogNode {
        let name = try readStringField("name")
        let address = try readStringField("address")
        let meta = try readStringMapField("meta")
        return CatalogNode(name: name, address: address, meta: meta)
    }

    /// `serviceInstance` = `string id, string name, list<string> tags, string address, u16 port,
    /// map meta, string node, u64 createIndex, u64 modifyIndex`.
    mutating func writeServiceInstance(_ service: ServiceInstance) {
        writeStringField(service.id)
        writeStringField(service.name)
        writeStringListField(service.tags)
        writeStringField(service.address)
        writeInteger(service.port)
        writeStringMapField(service.meta)
        writeStringField(service.node)
        writeMultipleIntegers(service.createIndex, service.modifyIndex)
    }

    mutating func readServiceInstance() throws(WireError) -> ServiceInstance {
        let id = try readStringField("id")
        let name = try readStringField("name")
        let tags = try readStringListField("tags")
        let address = try readStringField("address")
        let port: UInt16 = try readField("port")
        let meta = try readStringMapField("meta")
        let node = try readStringField("node")
        let createIndex: UInt64 = try readField("createIndex")
        let modifyIndex: UInt64 = try readField("modifyIndex")
        return ServiceInstance(
            id: id, name: name, tags: tags, address: address, port: port, meta: meta, node: node,
            createIndex: createIndex, modifyIndex: modifyIndex)
    }

    /// `checkKind` = `u8 tag`, then `ttl`: `u64 ttlMilliseconds`; `http`: `string url,
    /// u64 intervalMilliseconds, u64 timeoutMilliseconds`; `tcp`: `string address,
    /// u64 intervalMilliseconds, u64 timeoutMilliseconds`.
    mutating func writeCheckKind(_ kind: CheckKind) {
        switch kind {
        case .ttl(let ttl):
            writeMultipleIntegers(WireTag.CheckKind.ttl.rawValue, ttl)
        case .http(let url, let interval, let timeout):
            writeInteger(WireTag.CheckKind.http.rawValue)
            writeStringField(url)
            writeMultipleIntegers(interval, timeout)
        case .tcp(let address, let interval, let timeout):
            writeInteger(WireTag.CheckKind.tcp.rawValue)
            writeStringField(address)
            writeMultipleIntegers(interval, timeout)
        }
    }

    mutating func readCheckKind() throws(WireError) -> CheckKind {
        let tag: WireTag.CheckKind = try readEnumField("tag", defined: "1 ttl, 2 http, 3 tcp")
        switch tag {
        case .ttl:
            return .ttl(ttlMilliseconds: try readField("ttlMilliseconds"))
        case .http:
            let url = try readStringField("url")
            let interval: UInt64 = try readField("intervalMilliseconds")
            let timeout: UInt64 = try readField("timeoutMilliseconds")
            return .http(url: url, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
        case .tcp:
            let address = try readStringField("address")
            let interval: UInt64 = try readField("intervalMilliseconds")
            let timeout: UInt64 = try readField("timeoutMilliseconds")
            return .tcp(address: address, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
        }
    }

    /// `checkDefinition` = `string id, string name, checkKind kind, u8 initialStatus,
    /// u64 deregisterCriticalAfterMilliseconds`.
    mutating func writeCheckDefinition(_ check: CheckDefinition) {
        writeStringField(check.id)
        writeStringField(check.name)
        writeCheckKind(check.kind)
        writeMultipleIntegers(check.initialStatus.rawValue, check.deregisterCriticalAfterMilliseconds)
    }

    mutating func readCheckDefinition() throws(WireError) -> CheckDefinition {
        let id = try readStringField("id")
        let name = try readStringField("name")
        let kind = try readNested("kind") { buffer throws(WireError) in try buffer.readCheckKind() }
        let initialStatus = try readCheckStatusField("initialStatus")
        let deregisterAfter: UInt64 = try readField("deregisterCriticalAfterMilliseconds")
        return CheckDefinition(
            id: id, name: name, kind: kind, initialStatus: initialStatus,
            deregisterCriticalAfterMilliseconds: deregisterAfter)
    }

    /// `healthCheck` = `string id, string name, string node, string serviceID, string serviceName,
    /// u8 status, string output, checkDefinition definition, u64 createIndex, u64 modifyIndex`.
    mutating func writeHealthCheck(_ check: HealthCheck) {
        writeStringField(check.id)
        writeStringField(check.name)
        writeStringField(check.node)
        writeStringField(check.serviceID)
        writeStringField(check.serviceName)
        writeInteger(check.status.rawValue)
        writeStringField(check.output)
        writeCheckDefinition(check.definition)
        writeMultipleIntegers(check.createIndex, check.modifyIndex)
    }

    mutating func readHealthCheck() throws(WireError) -> HealthCheck {
        let id = try readStringField("id")
        let name = try readStringField("name")
        let node = try readStringField("node")
        let serviceID = try readStringField("serviceID")
        let serviceName = try readStringField("serviceName")
        let status = try readCheckStatusField("status")
        let output = try readStringField("output")
        let definition = try readNested("definition") { buffer throws(WireError) in try buffer.readCheckDefinition() }
        let createIndex: UInt64 = try readField("createIndex")
        let modifyIndex: UInt64 = try readField("modifyIndex")
        return HealthCheck(
            id: id, name: name, node: node, serviceID: serviceID, serviceName: serviceName, status: status,
            output: output, definition: definition, createIndex: createIndex, modifyIndex: modifyIndex)
    }

    /// `serviceRegistration` = `string node, string nodeAddress, serviceInstance service,
    /// list<checkDefinition> checks`.
    mutating func writeServiceRegistration(_ registration: ServiceRegistration) {
        writeStringField(registration.node)
        writeStringField(registration.nodeAddress)
        writeServiceInstance(registration.service)
        writeListField(registration.checks) { $0.writeCheckDefinition($1) }
    }

    mutating func readServiceRegistration() throws(WireError) -> ServiceRegistration {
        let node = try readStringField("node")
        let nodeAddress = try readStringField("nodeAddress")
        let service = try readNested("service") { buffer throws(WireError) in try buffer.readServiceInstance() }
        let checks = try readListField("checks", minimumItemSize: MinimumEncodedSize.checkDefinition) {
            buffer throws(WireError) in try buffer.readCheckDefinition()
        }
        return ServiceRegistration(node: node, nodeAddress: nodeAddress, service: service, checks: checks)
    }

    /// `serviceHealth` = `catalogNode node, serviceInstance service, list<healthCheck> checks`.
    mutating func writeServiceHealth(_ health: ServiceHealth) {
        writeCatalogNode(health.node)
        writeServiceInstance(health.service)
        writeListField(health.checks) { $0.writeHealthCheck($1) }
    }

    mutating func readServiceHealth() throws(WireError) -> ServiceHealth {
        let node = try readNested("node") { buffer throws(WireError) in try buffer.readCatalogNode() }
        let service = try readNested("service") { buffer throws(WireError) in try buffer.readServiceInstance() }
        let checks = try readListField("checks", minimumItemSize: MinimumEncodedSize.healthCheck) {
            buffer throws(WireError) in try buffer.readHealthCheck()
        }
        return ServiceHealth(node: node, service: service, checks: checks)
    }

    /// Reads a `list<serviceHealth>`.
    mutating func readServiceHealthList(_ field: StaticString) throws(WireError) -> [ServiceHealth] {
        try readListField(field, minimumItemSize: MinimumEncodedSize.serviceHealth) { buffer throws(WireError) in
            try buffer.readServiceHealth()
        }
    }

    /// `serviceSummary` = `string name, list<string> tags`.
    mutating func writeServiceSummary(_ summary: ServiceSummary) {
        writeStringField(summary.name)
        writeStringListField(summary.tags)
    }

    mutating func readServiceSummary() throws(WireError) -> ServiceSummary {
        let name = try readStringField("name")
        let tags = try readStringListField("tags")
        return ServiceSummary(name: name, tags: tags)
    }

    /// Reads a `list<serviceSummary>`.
    mutating func readServiceSummaryList(_ field: StaticString) throws(WireError) -> [ServiceSummary] {
        try readListField(field, minimumItemSize: MinimumEncodedSize.serviceSummary) { buffer throws(WireError) in
            try buffer.readServiceSummary()
        }
    }

    // MARK: Sessions

    /// `sessionRequest` = `string name, string node, u64 ttlMilliseconds, u64 lockDelayMilliseconds,
    /// u8 behavior, list<string> checks`.
    mutating func writeSessionRequest(_ request: SessionRequest) {
        writeStringField(request.name)
        writeStringField(request.node)
        writeMultipleIntegers(request.ttlMilliseconds, request.lockDelayMilliseconds, request.behavior.rawValue)
        writeStringListField(request.checks)
    }

    mutating func readSessionRequest() throws(WireError) -> SessionRequest {
        let name = try readStringField("name")
        let node = try readStringField("node")
        let ttl: UInt64 = try readField("ttlMilliseconds")
        let lockDelay: UInt64 = try readField("lockDelayMilliseconds")
        let behavior = try readSessionBehaviorField("behavior")
        let checks = try readStringListField("checks")
        return SessionRequest(
            name: name, node: node, ttlMilliseconds: ttl, lockDelayMilliseconds: lockDelay, behavior: behavior,
            checks: checks)
    }

    /// `session` = `string id, string name, string node, u64 ttlMilliseconds,
    /// u64 lockDelayMilliseconds, u8 behavior, list<string> checks, u64 createIndex`.
    mutating func writeSession(_ session: Session) {
        writeStringField(session.id)
        writeStringField(session.name)
        writeStringField(session.node)
        writeMultipleIntegers(session.ttlMilliseconds, session.lockDelayMilliseconds, session.behavior.rawValue)
        writeStringListField(session.checks)
        writeInteger(session.createIndex)
    }

    mutating func readSession() throws(WireError) -> Session {
        let id = try readStringField("id")
        let name = try readStringField("name")
        let node = try readStringField("node")
        let ttl: UInt64 = try readField("ttlMilliseconds")
        let lockDelay: UInt64 = try readField("lockDelayMilliseconds")
        let behavior = try readSessionBehaviorField("behavior")
        let checks = try readStringListField("checks")
        let createIndex: UInt64 = try readField("createIndex")
        return Session(
            id: id, name: name, node: node, ttlMilliseconds: ttl, lockDelayMilliseconds: lockDelay, behavior: behavior,
            checks: checks, createIndex: createIndex)
    }

    // MARK: Watches

    /// `watchTarget` = `u8 tag`, then `key`: `string key`; `keyPrefix`: `string prefix`;
    /// `service`: `string name, string tag, bool passingOnly`; `services`: nothing.
    mutating func writeWatchTarget(_ target: WatchTarget) {
        switch target {
        case .key(let key):
            writeInteger(WireTag.WatchTarget.key.rawValue)
            writeStringField(key)
        case .keyPrefix(let prefix):
            writeInteger(WireTag.WatchTarget.keyPrefix.rawValue)
            writeStringField(prefix)
        case .service(let name, let tag, let passingOnly):
            writeInteger(WireTag.WatchTarget.service.rawValue)
            writeStringField(name)
            writeStringField(tag)
            writeBoolField(passingOnly)
        case .services:
            writeInteger(WireTag.WatchTarget.services.rawValue)
        }
    }

    mutating func readWatchTarget() throws(WireError) -> WatchTarget {
        let tag: WireTag.WatchTarget = try readEnumField("tag", defined: "1 key, 2 keyPrefix, 3 service, 4 services")
        switch tag {
        case .key:
            return .key(try readStringField("key"))
        case .keyPrefix:
            return .keyPrefix(try readStringField("prefix"))
        case .service:
            let name = try readStringField("name")
            let serviceTag = try readStringField("tag")
            let passingOnly = try readBoolField("passingOnly")
            return .service(name: name, tag: serviceTag, passingOnly: passingOnly)
        case .services:
            return .services
        }
    }

    /// `watchEvent` = `u64 index, u8 tag`, then `keys`: `list<kvChange> changes, bool snapshot`;
    /// `service`: `list<serviceHealth> instances`; `services`: `list<serviceSummary> services`.
    mutating func writeWatchEvent(_ event: WatchEvent) {
        switch event.payload {
        case .keys(let changes, let snapshot):
            writeMultipleIntegers(event.index, WireTag.WatchPayload.keys.rawValue)
            writeListField(changes) { $0.writeKVChange($1) }
            writeBoolField(snapshot)
        case .service(let instances):
            writeMultipleIntegers(event.index, WireTag.WatchPayload.service.rawValue)
            writeListField(instances) { $0.writeServiceHealth($1) }
        case .services(let services):
            writeMultipleIntegers(event.index, WireTag.WatchPayload.services.rawValue)
            writeListField(services) { $0.writeServiceSummary($1) }
        }
    }

    mutating func readWatchEvent() throws(WireError) -> WatchEvent {
        let index: UInt64 = try readField("index")
        let tag: WireTag.WatchPayload = try readEnumField("tag", defined: "1 keys, 2 service, 3 services")
        switch tag {
        case .keys:
            let changes = try readListField("changes", minimumItemSize: MinimumEncodedSize.kvChange) {
                buffer throws(WireError) in try buffer.readKVChange()
            }
            let snapshot = try readBoolField("snapshot")
            return WatchEvent(index: index, payload: .keys(changes, snapshot: snapshot))
        case .service:
            return WatchEvent(index: index, payload: .service(try readServiceHealthList("instances")))
        case .services:
            return WatchEvent(index: index, payload: .services(try readServiceSummaryList("services")))
        }
    }
}
