#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing to standard output and standard error without buffering, and without crashing when
/// the reader has gone.
///
/// The process ignores SIGPIPE (the networking library does, so that a peer closing a
/// connection cannot kill it), so a write to a closed pipe fails with EPIPE instead; and
/// Foundation's `FileHandle.write(_:)` stops the program on any failed write. So `cairn kv get
/// --recurse "" | head -1` crashed with a backtrace. These helpers end the command the way a
/// Unix tool ends when its reader goes away: by SIGPIPE, silently.
public enum StandardStreams {
    /// Writes `bytes` to standard output. A closed pipe ends the process by SIGPIPE; any other
    /// failure (a full disk, say) ends it with one line on standard error and exit code 1.
    public static func output(_ bytes: [UInt8]) {
        if let errorNumber = write(bytes, to: 1) {
            if errorNumber == EPIPE { endByBrokenPipe() }
            error(Array("Error! cannot write the output: \(String(cString: strerror(errorNumber)))\n".utf8))
            exit(1)
        }
    }

    /// Writes `text` to standard output (see ``output(_:)-([UInt8])``).
    public static func output(_ text: String) { output(Array(text.utf8)) }

    /// Writes `bytes` to standard error; a failure is ignored (there is nowhere left to say so).
    public static func error(_ bytes: [UInt8]) { _ = write(bytes, to: 2) }

    /// Writes `text` to standard error (see ``error(_:)-([UInt8])``).
    public static func error(_ text: String) { error(Array(text.utf8)) }

    /// Writes all of `bytes` to `descriptor`; the errno of a failed write, or nil.
    static func write(_ bytes: [UInt8], to descriptor: Int32) -> Int32? {
        bytes.withUnsafeBytes { buffer -> Int32? in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
    }

    /// Dies by SIGPIPE, as a program that did not ignore it would have on the failed write.
    static func endByBrokenPipe() -> Never {
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        exit(128 + SIGPIPE)  // not reached: SIGPIPE's default action ends the process
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Musl)
private let systemWrite = Musl.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
