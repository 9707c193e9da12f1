import ArgumentParser
import CairnClient
import CairnWire
import Foundation

/// `cairn lock PREFIX -- COMMAND…`: run a command while holding a distributed lock.
struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock", abstract: "Run a command while holding a lock.",
        discussion: """
            Acquires the lock at key PREFIX/.lock (with a session renewed in the background), runs COMMAND while \
            holding it, then releases it and exits with the command's status.

            The command's environment gets CAIRN_LOCK_INDEX (the key's lock index: a fencing token that grows \
            with every acquisition), CAIRN_LOCK_KEY and CAIRN_LOCK_SESSION. SIGINT, SIGTERM and SIGHUP are \
            passed on to it.

            If the lock is lost while the command runs (the session expired or was destroyed, or the key was \
            released or deleted), the command gets SIGTERM (SIGKILL 10 s later) and cairn lock exits with status 1.

              cairn lock jobs/nightly -- ./backup.sh --full
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The session TTL (10s to 24h).") var ttl = "15s"
    @Option(help: "The session's lock-delay: after it is lost, nobody can take the lock for this long.") var lockDelay = "15s"
    @Option(help: "Give up if the lock is not acquired within this long (default: wait as long as it takes).") var timeout: String?
    @Argument(help: "The lock's key prefix; the lock is the key PREFIX/.lock.") var prefix: String
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after --: cairn lock PREFIX -- COMMAND ARGS...") }
        let ttl = try duration(self.ttl, "--ttl")
        guard (SessionRequest.minimumTTLMilliseconds...SessionRequest.maximumTTLMilliseconds).contains(ttl) else {
            throw ValidationError("--ttl must be between 10s and 24h")
        }
        _ = try duration(lockDelay, "--lock-delay")
        if let timeout { _ = try duration(timeout, "--timeout") }
    }

    private func duration(_ text: String, _ flag: String) throws -> UInt64 {
        do {
            return try ConsulDuration.milliseconds(text, field: flag)
        } catch {
            throw ValidationError(error.reason)
        }
    }

    /// The lock's key.
    var key: String {
        var base = Substring(prefix)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/.lock"
    }

    func run() async throws {
        let key = key
        let command = command
        let ttl = Duration.milliseconds(try duration(self.ttl, "--ttl"))
        let lockDelay = Duration.milliseconds(try duration(self.lockDelay, "--lock-delay"))
        let timeout = try self.timeout.map { Duration.milliseconds(try duration($0, "--timeout")) }
        let status: Int32 = try await connection.withClient { client in
            let holder = "cairn lock (\(ProcessInfo.processInfo.hostName) pid \(getpid()))"
            let lock = CairnLock(client: client, key: key, value: Array(holder.utf8), sessionTTL: ttl, lockDelay: lockDelay)
            let acquiring = Task { () throws -> LockLease? in
                if let timeout { return try await lock.acquire(within: timeout) }
                return try await lock.acquire()
            }
            // One trap for the command's whole life: while waiting, a signal stops the wait;
            // while the command runs, it is passed on to the command.
            let trap = SignalTrap([SIGINT, SIGTERM, SIGHUP]) { _ in acquiring.cancel() }
            let acquired: LockLease?
            do {
                acquired = try await acquiring.value
            } catch is CancellationError {
                fail("interrupted while waiting for the lock on \(key)", code: 1)
            }
            guard let lease = acquired else { fail("the lock on \(key) was not acquired within \(self.timeout ?? "")", code: 1) }
            return await Self.runHolding(lease, command: command, key: key, trap: trap)
        }
        if status != 0 { throw ExitCode(status) }
    }

    private enum Event: Sendable {
        case exited(Int32)
        case lost(LockLoss)
        case signal(Int32)
    }

    /// Runs `command` while `lease` is held; returns the exit status for cairn lock.
    private static func runHolding(_ lease: LockLease, command: [String], key: String, trap: SignalTrap) async -> Int32 {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        trap.setHandler { continuation.yield(.signal($0)) }
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_LOCK_INDEX"] = String(lease.lockIndex)
        environment["CAIRN_LOCK_KEY"] = key
        environment["CAIRN_LOCK_SESSION"] = lease.sessionID
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(command, environment: environment)
        } catch {
            try? await lease.release()
            fail("\(error)", code: 127)
        }
        let waiter = Task {
            continuation.yield(.exited(await child.wait()))
        }
        let watcher = Task {
            for await loss in lease.lost { continuation.yield(.lost(loss)) }
        }
        defer {
            waiter.cancel()
            watcher.cancel()
        }
        var loss: LockLoss? = nil
        var killer: Task<Void, Never>? = nil
        // Bounded: the child's exit ends it, and a lost lock makes sure the child exits.
        for await event in events {
            switch event {
            case .signal(let number):
                child.signal(number)
            case .lost(let reason):
                guard loss == nil else { continue }
                loss = reason
                StandardStreams.error("Error! lock on \(key) lost (\(reason)); terminating the command\n")
                child.signal(SIGTERM)
                killer = Task {
                    try? await Task.sleep(for: .seconds(10))
                    if !Task.isCancelled { child.signal(SIGKILL) }
                }
            case .exited(let status):
                killer?.cancel()
                if loss != nil { return 1 }
                do {
                    try await lease.release()
                } catch {
                    StandardStreams.error("Error! could not release the lock on \(key): \(error)\n")
                }
                return status
            }
        }
        return 1
    }
}
