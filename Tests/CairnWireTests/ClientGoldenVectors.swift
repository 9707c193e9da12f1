import CairnWire

/// The values the client vectors are made of: one small cluster with a `web` service on node-1.
enum Sample {
    static let session = "adf4238a-882b-9ddc-4a9d-5b6758e4159e"

    static let node = CatalogNode(name: "node-1", address: "10.0.1.5", meta: ["rack": "r1"])

    static let httpCheck = CheckDefinition(
        id: "web-1-http", name: "web health",
        kind: .http(url: "http://10.0.1.5:8080/health", intervalMilliseconds: 10_000, timeoutMilliseconds: 2_000),
        initialStatus: .critical, deregisterCriticalAfterMilliseconds: 600_000)

    static let tcpCheck = CheckDefinition(
        id: "node-ssh", name: "ssh", kind: .tcp(address: "10.0.1.5:22", intervalMilliseconds: 30_000, timeoutMilliseconds: 5_000),
        initialStatus: .critical)

    static let ttlCheck = CheckDefinition(
        id: "service:worker-1", name: "worker heartbeat", kind: .ttl(ttlMilliseconds: 15_000), initialStatus: .warning)

    /// `web-1` as a client registers it (node and indexes are the server's to fill in).
    static let registeredInstance = ServiceInstance(
        id: "web-1", name: "web", tags: ["v2", "primary"], address: "10.0.1.5", port: 8080,
        meta: ["zone": "a", "version": "2.1"])

    /// `web-1` as the catalog holds it.
    static let instance = ServiceInstance(
        id: "web-1", name: "web", tags: ["v2", "primary"], address: "10.0.1.5", port: 8080,
        meta: ["zone": "a", "version": "2.1"], node: "node-1", createIndex: 20, modifyIndex: 20)

    static let worker = ServiceInstance(
        id: "worker-1", name: "worker", port: 0, node: "node-1", createIndex: 22, modifyIndex: 22)

    static let nodeHealth = HealthCheck(
        id: "node-ssh", name: "ssh", node: "node-1", serviceID: "", serviceName: "", status: .passing,
        output: "connected to 10.0.1.5:22", definition: tcpCheck, createIndex: 19, modifyIndex: 19)

    static let webHealth = HealthCheck(
        id: "web-1-http", name: "web health", node: "node-1", serviceID: "web-1", serviceName: "web", status: .passing,
        output: "HTTP GET http://10.0.1.5:8080/health: 200 OK", definition: httpCheck, createIndex: 20, modifyIndex: 21)

    static let workerHealth = HealthCheck(
        id: "service:worker-1", name: "worker heartbeat", node: "node-1", serviceID: "worker-1", serviceName: "worker",
        status: .critical, output: "TTL expired", definition: ttlCheck, createIndex: 22, modifyIndex: 25)

    static let webHealthEntry = ServiceHealth(node: node, service: instance, checks: [nodeHealth, webHealth])

    static let summaries = [
        ServiceSummary(name: "web", tags: ["primary", "v2"]), ServiceSummary(name: "worker", tags: []),
    ]

    static let sessionValue = Session(
        id: session, name: "leader-election", node: "node-1", ttlMilliseconds: 15_000, lockDelayMilliseconds: 15_000,
        behavior: .release, checks: ["node-ssh"], createIndex: 30)

    static let dbEntry = KVEntry(
        key: "config/db", value: bytesOf("postgres://db:5432"), flags: 0, createIndex: 7, modifyIndex: 9)

    static let portEntry = KVEntry(key: "config/port", value: bytesOf("8080"), flags: 42, createIndex: 8, modifyIndex: 8)

    static let lockEntry = KVEntry(
        key: "locks/leader", value: bytesOf("node-1"), flags: 0, createIndex: 31, modifyIndex: 31, lockIndex: 1,
        session: session)

    /// A linearizable answer from the leader.
    static let leaderMeta = ReadMeta(index: 45, knownLeader: true, lastContactMilliseconds: 0)
    /// A stale answer from a follower that heard from the leader 35 ms ago.
    static let staleMeta = ReadMeta(index: 44, knownLeader: true, lastContactMilliseconds: 35)
}

extension GoldenVector {
    private static func request(_ name: String, _ streamID: UInt64, _ comment: String, _ request: ClientRequest)
        -> GoldenVector
    {
        GoldenVector(
            name: "request-" + name, comment: "request frame, stream \(streamID): " + comment,
            value: .message(.request(streamID: streamID, request)))
    }

    private static func response(_ name: String, _ streamID: UInt64, _ comment: String, _ response: ClientResponse)
        -> GoldenVector
    {
        GoldenVector(
            name: "response-" + name, comment: "response frame, stream \(streamID): " + comment,
            value: .message(.response(streamID: streamID, response)))
    }

    /// One vector of every request operation (and of every watch target).
    static let requests: [GoldenVector] = [
        request(
            "kv-get", 1, "kvGet(key \"config/café\" (é is 2 UTF-8 bytes), consistency linearizable (0))",
            .kvGet(key: "config/café", consistency: .linearizable)),
        request(
            "kv-put", 2, "kvPut(key \"app/port\", value \"8080\", flags 0, cas 17)",
            .kvPut(key: "app/port", value: bytesOf("8080"), flags: 0, cas: 17)),
        request("kv-delete", 3, "kvDelete(key \"app/port\", cas absent)", .kvDelete(key: "app/port", cas: nil)),
        request(
            "kv-list", 10, "kvList(prefix \"config/\", consistency stale (1))",
            .kvList(prefix: "config/", consistency: .stale)),
        request(
            "kv-keys", 11, "kvKeys(prefix \"config/\", separator \"/\", consistency linearizable)",
            .kvKeys(prefix: "config/", separator: "/", consistency: .linearizable)),
        request("kv-delete-tree", 12, "kvDeleteTree(prefix \"cache/\")", .kvDeleteTree(prefix: "cache/")),
        request(
            "kv-acquire", 13, "kvAcquire(key \"locks/leader\", value \"node-1\", flags 0, session \"\(Sample.session)\")",
            .kvAcquire(key: "locks/leader", value: bytesOf("node-1"), flags: 0, session: Sample.session)),
        request(
            "kv-release", 14, "kvRelease(key \"locks/leader\", value \"\", flags 0, session \"\(Sample.session)\")",
            .kvRelease(key: "locks/leader", value: [], flags: 0, session: Sample.session)),
        request(
            "kv-transaction", 15,
            "kvTransaction([checkIndex(key \"config/db\", index 9) (tag 10), set(key \"config/db\", value \"postgres://db2:5432\", flags 0) (tag 3), get(key \"config/port\") (tag 1), deleteTree(prefix \"cache/\") (tag 8)])",
            .kvTransaction([
                .checkIndex(key: "config/db", index: 9),
                .set(key: "config/db", value: bytesOf("postgres://db2:5432"), flags: 0),
                .get(key: "config/port"),
                .deleteTree(prefix: "cache/"),
            ])),
        request("members", 4, "members (no fields)", .members),
        request("remove-peer", 5, "removePeer(id 3)", .removePeer(id: 3)),
        request("snapshot-save", 16, "snapshotSave (no fields)", .snapshotSave),
        request(
            "snapshot-restore", 17,
            "snapshotRestore(archive: 8 bytes 01 02 03 04 05 06 07 08, opaque here; a real archive is the server's snapshot archive format)",
            .snapshotRestore(archive: [1, 2, 3, 4, 5, 6, 7, 8])),
        request(
            "catalog-register", 18,
            "catalogRegister(node \"node-1\", nodeAddress \"10.0.1.5\", service(id \"web-1\", name \"web\", tags [\"v2\", \"primary\"], address \"10.0.1.5\", port 8080, meta {version: \"2.1\", zone: \"a\"} (keys sorted), node \"\", createIndex 0, modifyIndex 0), checks [(id \"web-1-http\", name \"web health\", kind http (tag 2: url \"http://10.0.1.5:8080/health\", interval 10000 ms, timeout 2000 ms), initialStatus critical (2), deregisterCriticalAfter 600000 ms)])",
            .catalogRegister(
                ServiceRegistration(
                    node: "node-1", nodeAddress: "10.0.1.5", service: Sample.registeredInstance, checks: [Sample.httpCheck]))),
        request(
            "catalog-deregister", 19, "catalogDeregister(node \"\", serviceID \"web-1\")",
            .catalogDeregister(node: "", serviceID: "web-1")),
        request("catalog-services", 20, "catalogServices(consistency stale)", .catalogServices(consistency: .stale)),
        request(
            "catalog-service", 21, "catalogService(name \"web\", tag \"v2\", passingOnly true, consistency linearizable)",
            .catalogService(name: "web", tag: "v2", passingOnly: true, consistency: .linearizable)),
        request("catalog-nodes", 22, "catalogNodes(consistency linearizable)", .catalogNodes(consistency: .linearizable)),
        request(
            "catalog-node-services", 23, "catalogNodeServices(node \"node-1\", consistency stale)",
            .catalogNodeServices(node: "node-1", consistency: .stale)),
        request(
            "health-checks", 24, "healthChecks(serviceName \"worker\", consistency linearizable)",
            .healthChecks(serviceName: "worker", consistency: .linearizable)),
        request(
            "check-update", 25, "checkUpdate(node \"\", checkID \"service:worker-1\", status passing (0), output \"ok\")",
            .checkUpdate(node: "", checkID: "service:worker-1", status: .passing, output: "ok")),
        request(
            "session-create", 26,
            "sessionCreate(name \"leader-election\", node \"node-1\", ttl 15000 ms, lockDelay 15000 ms, behavior release (0), checks [\"node-ssh\"])",
            .sessionCreate(
                SessionRequest(
                    name: "leader-election", node: "node-1", ttlMilliseconds: 15_000, lockDelayMilliseconds: 15_000,
                    behavior: .release, checks: ["node-ssh"]))),
        request("session-renew", 27, "sessionRenew(id \"\(Sample.session)\")", .sessionRenew(id: Sample.session)),
        request("session-destroy", 28, "sessionDestroy(id \"\(Sample.session)\")", .sessionDestroy(id: Sample.session)),
        request(
            "session-info", 29, "sessionInfo(id \"\(Sample.session)\", consistency linearizable)",
            .sessionInfo(id: Sample.session, consistency: .linearizable)),
        request("session-list", 30, "sessionList(consistency stale)", .sessionList(consistency: .stale)),
        request(
            "watch-key-prefix", 31, "watch(target keyPrefix (tag 2) \"config/\", fromIndex 42)",
            .watch(.keyPrefix("config/"), fromIndex: 42)),
        request("watch-key", 32, "watch(target key (tag 1) \"config/db\", fromIndex 0)", .watch(.key("config/db"), fromIndex: 0)),
        request(
            "watch-service", 33, "watch(target service (tag 3) name \"web\", tag \"\", passingOnly true, fromIndex 45)",
            .watch(.service(name: "web", tag: "", passingOnly: true), fromIndex: 45)),
        request("watch-services", 34, "watch(target services (tag 4), fromIndex 0)", .watch(.services, fromIndex: 0)),
        request("watch-cancel", 35, "watchCancel(streamID 31)", .watchCancel(streamID: 31)),
    ]

    /// One vector of every response kind (and of every transaction outcome and watch payload).
    static let responses: [GoldenVector] = [
        response(
            "kv-get", 1,
            "kvGet(entry present: key \"config/db\", value \"postgres://db:5432\", flags 0, createIndex 7, modifyIndex 9, lockIndex 0, session \"\"; meta index 45, knownLeader true, lastContact 0 ms)",
            .kvGet(Sample.dbEntry, Sample.leaderMeta)),
        response(
            "kv-get-absent", 1, "kvGet(entry absent; meta index 44, knownLeader true, lastContact 35 ms)",
            .kvGet(nil, Sample.staleMeta)),
        response("kv-put", 2, "kvPut(succeeded true, index 18)", .kvPut(succeeded: true, index: 18)),
        response("kv-delete", 3, "kvDelete(succeeded false, index 18)", .kvDelete(succeeded: false, index: 18)),
        response(
            "kv-list", 10,
            "kvList(entries [(key \"config/db\", value \"postgres://db:5432\", flags 0, createIndex 7, modifyIndex 9, lockIndex 0, session \"\"), (key \"config/port\", value \"8080\", flags 42, createIndex 8, modifyIndex 8, lockIndex 0, session \"\")]; meta index 44, knownLeader true, lastContact 35 ms)",
            .kvList([Sample.dbEntry, Sample.portEntry], Sample.staleMeta)),
        response(
            "kv-keys", 11, "kvKeys(keys [\"config/db\", \"config/port\", \"config/tls/\"]; meta index 45, knownLeader true, lastContact 0 ms)",
            .kvKeys(["config/db", "config/port", "config/tls/"], Sample.leaderMeta)),
        response(
            "kv-transaction-committed", 15,
            "kvTransaction(outcome committed (tag 1): index 46, results [(key \"config/db\", value \"postgres://db2:5432\", flags 0, createIndex 7, modifyIndex 46, lockIndex 0, session \"\"), (key \"config/port\", value \"8080\", flags 42, createIndex 8, modifyIndex 8, lockIndex 0, session \"\")])",
            .kvTransaction(
                .committed(
                    index: 46,
                    results: [
                        KVEntry(key: "config/db", value: bytesOf("postgres://db2:5432"), createIndex: 7, modifyIndex: 46),
                        Sample.portEntry,
                    ]))),
        response(
            "kv-transaction-failed", 15,
            "kvTransaction(outcome failed (tag 2): index 46, operation 0, reason \"key \\\"config/db\\\" has modify index 12, not 9\")",
            .kvTransaction(.failed(index: 46, operation: 0, reason: "key \"config/db\" has modify index 12, not 9"))),
        response(
            "members", 4,
            "members [(1, \"cairn-1\", \"10.0.0.1:8300\", \"10.0.0.1:8502\", voter, \"leader\", term 5, lastIndex 18, reachable), (4, \"cairn-4\", \"10.0.0.4:8300\", \"10.0.0.4:8502\", learner, \"learner\", term 5, lastIndex 12, unreachable)]",
            .members([
                MemberInfo(
                    id: 1, name: "cairn-1", peerAddress: "10.0.0.1:8300", clientAddress: "10.0.0.1:8502", voter: true,
                    role: "leader", term: 5, lastIndex: 18, reachable: true),
                MemberInfo(
                    id: 4, name: "cairn-4", peerAddress: "10.0.0.4:8300", clientAddress: "10.0.0.4:8502", voter: false,
                    role: "learner", term: 5, lastIndex: 12, reachable: false),
            ])),
        response("peer-removed", 5, "peerRemoved(index 19)", .peerRemoved(index: 19)),
        response(
            "snapshot-archive", 16, "snapshotArchive(index 45, archive: 8 bytes 01 02 03 04 05 06 07 08, opaque here)",
            .snapshotArchive(index: 45, archive: [1, 2, 3, 4, 5, 6, 7, 8])),
        response("applied", 19, "applied(index 47)", .applied(index: 47)),
        response(
            "catalog-services", 20,
            "catalogServices(services [(name \"web\", tags [\"primary\", \"v2\"]), (name \"worker\", tags [])]; meta index 44, knownLeader true, lastContact 35 ms)",
            .catalogServices(Sample.summaries, Sample.staleMeta)),
        response(
            "catalog-service", 21,
            "catalogService(instances [(node (name \"node-1\", address \"10.0.1.5\", meta {rack: \"r1\"}), service (id \"web-1\", name \"web\", tags [\"v2\", \"primary\"], address \"10.0.1.5\", port 8080, meta {version: \"2.1\", zone: \"a\"}, node \"node-1\", createIndex 20, modifyIndex 20), checks [(id \"node-ssh\", name \"ssh\", node \"node-1\", serviceID \"\", serviceName \"\", status passing, output \"connected to 10.0.1.5:22\", definition (id \"node-ssh\", name \"ssh\", kind tcp (tag 3: address \"10.0.1.5:22\", interval 30000 ms, timeout 5000 ms), initialStatus critical, deregisterCriticalAfter 0), createIndex 19, modifyIndex 19), (id \"web-1-http\", name \"web health\", node \"node-1\", serviceID \"web-1\", serviceName \"web\", status passing, output \"HTTP GET http://10.0.1.5:8080/health: 200 OK\", definition (as registered in request-catalog-register), createIndex 20, modifyIndex 21)])]; meta index 45, knownLeader true, lastContact 0 ms)",
            .catalogService([Sample.webHealthEntry], Sample.leaderMeta)),
        response(
            "catalog-nodes", 22,
            "catalogNodes(nodes [(name \"node-1\", address \"10.0.1.5\", meta {rack: \"r1\"}), (name \"node-2\", address \"10.0.1.6\", meta {})]; meta index 45, knownLeader true, lastContact 0 ms)",
            .catalogNodes([Sample.node, CatalogNode(name: "node-2", address: "10.0.1.6")], Sample.leaderMeta)),
        response(
            "catalog-node-services", 23,
            "catalogNodeServices(node present (name \"node-1\", address \"10.0.1.5\", meta {rack: \"r1\"}), services [web-1 as in response-catalog-service, (id \"worker-1\", name \"worker\", tags [], address \"\", port 0, meta {}, node \"node-1\", createIndex 22, modifyIndex 22)]; meta index 44, knownLeader true, lastContact 35 ms)",
            .catalogNodeServices(Sample.node, [Sample.instance, Sample.worker], Sample.staleMeta)),
        response(
            "health-checks", 24,
            "healthChecks(checks [(id \"service:worker-1\", name \"worker heartbeat\", node \"node-1\", serviceID \"worker-1\", serviceName \"worker\", status critical (2), output \"TTL expired\", definition (id \"service:worker-1\", name \"worker heartbeat\", kind ttl (tag 1: 15000 ms), initialStatus warning (1), deregisterCriticalAfter 0), createIndex 22, modifyIndex 25)]; meta index 45, knownLeader true, lastContact 0 ms)",
            .healthChecks([Sample.workerHealth], Sample.leaderMeta)),
        response(
            "session-created", 26, "sessionCreated(id \"\(Sample.session)\", index 30)",
            .sessionCreated(id: Sample.session, index: 30)),
        response(
            "session", 29,
            "session(session present (id \"\(Sample.session)\", name \"leader-election\", node \"node-1\", ttl 15000 ms, lockDelay 15000 ms, behavior release, checks [\"node-ssh\"], createIndex 30); meta index 45, knownLeader true, lastContact 0 ms)",
            .session(Sample.sessionValue, Sample.leaderMeta)),
        response(
            "sessions", 30,
            "sessions(sessions [the session of response-session, (id \"6f1c4c0e-0d9a-4b7e-9b1e-2a4f3c5d6e7f\", name \"\", node \"node-2\", ttl 0, lockDelay 0, behavior delete (1), checks [], createIndex 33)]; meta index 44, knownLeader false, lastContact 2500 ms)",
            .sessions(
                [
                    Sample.sessionValue,
                    Session(
                        id: "6f1c4c0e-0d9a-4b7e-9b1e-2a4f3c5d6e7f", name: "", node: "node-2", ttlMilliseconds: 0,
                        lockDelayMilliseconds: 0, behavior: .delete, checks: [], createIndex: 33),
                ], ReadMeta(index: 44, knownLeader: false, lastContactMilliseconds: 2_500))),
        response(
            "watch-event-keys", 31,
            "watchEvent(index 47, payload keys (tag 1): changes [(key \"config/db\", entry present (key \"config/db\", value \"postgres://db3:5432\", flags 0, createIndex 7, modifyIndex 47, lockIndex 0, session \"\")), (key \"config/old\", entry absent: deleted)], snapshot false)",
            .watchEvent(
                WatchEvent(
                    index: 47,
                    payload: .keys(
                        [
                            KVChange(
                                key: "config/db",
                                entry: KVEntry(
                                    key: "config/db", value: bytesOf("postgres://db3:5432"), createIndex: 7, modifyIndex: 47)),
                            KVChange(key: "config/old", entry: nil),
                        ], snapshot: false)))),
        response(
            "watch-event-service", 33,
            "watchEvent(index 45, payload service (tag 2): instances [the instance of response-catalog-service])",
            .watchEvent(WatchEvent(index: 45, payload: .service([Sample.webHealthEntry])))),
        response(
            "watch-event-services", 34,
            "watchEvent(index 45, payload services (tag 3): services [(name \"web\", tags [\"primary\", \"v2\"]), (name \"worker\", tags [])])",
            .watchEvent(WatchEvent(index: 45, payload: .services(Sample.summaries)))),
        response(
            "not-leader", 6, "notLeader(leaderID 2, leaderAddress \"10.0.0.2:8502\")",
            .notLeader(leaderID: 2, leaderAddress: "10.0.0.2:8502")),
        response(
            "error", 7, "error(code unknownOperation (2), message \"request operation 0x0999 is not defined\")",
            .error(.unknownOperation, message: "request operation 0x0999 is not defined")),
        response(
            "error-history-compacted", 31,
            "error(code historyCompacted (10), message \"index 42 is older than the oldest change kept (1000): watch again from 0\") — ends the watch of stream 31",
            .error(.historyCompacted, message: "index 42 is older than the oldest change kept (1000): watch again from 0")),
    ]
}
