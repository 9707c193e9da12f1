import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A command run as a child process with every signal at its default disposition and none
/// blocked — whatever this process ignores or blocks (Foundation's `Process` would pass on an
/// ignored SIGINT, and the command could then not be interrupted).
struct ChildProcess: Sendable {
    /// The child's process id.
    let pid: pid_t

    /// Starts `arguments[0]` (looked up in `PATH` unless it contains a `/`) with `arguments` and
    /// `environment`, sharing this process's standard input, output and error.
    static func spawn(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        precondition(!arguments.isEmpty, "a command is needed")
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawnp(&pid, arguments[0], nil, &attributes, argv, envp)
        guard result == 0 else {
            throw ChildProcessError(command: arguments[0], reason: String(cString: strerror(result)))
        }
        return ChildProcess(pid: pid)
    }

    /// Sends `signal` to the child.
    func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the child to end; returns its exit status, or 128 + the signal that ended it.
    func wait() async -> Int32 {
        let pid = pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                // Retried only when a signal interrupts the wait.
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                let signal = status & 0x7F
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
            }
        }
    }
}

/// A command that could not be started.
struct ChildProcessError: Error, CustomStringConvertible {
    var command: String
    var reason: String
    var description: String { "cannot run \(command): \(reason)" }
}
