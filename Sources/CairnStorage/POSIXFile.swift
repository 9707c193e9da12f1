#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor and the path it was opened from, with throwing wrappers around the
/// POSIX calls the storage layer uses. Every failure is a ``StorageError`` with code
/// ``StorageError/Code/ioFailure`` that names the call, the path, the offset and errno.
///
/// Not thread-safe; the owner closes it exactly once.
struct POSIXFile {
    let descriptor: Int32
    let path: String

    /// Opens `path` with `flags` (`O_CLOEXEC` is added); `mode` applies when creating.
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws -> POSIXFile {
        while true {
            #if canImport(Darwin)
            let fd = Darwin.open(path, flags | O_CLOEXEC, mode)
            #elseif canImport(Glibc)
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            #else
            let fd = Musl.open(path, flags | O_CLOEXEC, mode)
            #endif
            if fd >= 0 { return POSIXFile(descriptor: fd, path: path) }
            let code = errno
            if code == EINTR { continue }
            throw POSIX.failure("open", path, errno: code)
        }
    }

    /// Closes the descriptor. Errors from close are reported but the descriptor is gone either way.
    func close() throws {
        #if canImport(Darwin)
        let result = Darwin.close(descriptor)
        #elseif canImport(Glibc)
        let result = Glibc.close(descriptor)
        #else
        let result = Musl.close(descriptor)
        #endif
        if result != 0 && errno != EINTR { throw POSIX.failure("close", path, errno: errno) }
    }

    /// The file's current size in bytes.
    func size() throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw POSIX.failure("fstat", path, errno: errno) }
        return Int(info.st_size)
    }

    /// Writes all of `buffer` at `offset`, retrying short writes and EINTR.
    func write(_ buffer: UnsafeRawBufferPointer, at offset: Int) throws {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let written = pwrite(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw POSIX.failure("pwrite of \(buffer.count) bytes", path, offset: offset + done, errno: code)
            }
            if written == 0 {
                throw StorageError(.ioFailure, "pwrite to \(path) at offset \(offset + done) wrote nothing")
            }
            done += written
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    /// Reads the whole file.
    func readAll() throws -> [UInt8] {
        let size = try size()
        var failure: StorageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let count = pread(descriptor, buffer.baseAddress! + done, size - done, off_t(done))
                if count < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    failure = POSIX.failure("pread", path, offset: done, errno: code)
                    break
                }
                if count == 0 { break }  // The file shrank under us; report what is there.
                done += count
            }
            initialized = done
        }
        if let failure { throw failure }
        return bytes
    }

    /// Flushes the file's data (and the metadata needed to read it back, such as its size).
    func syncData() throws {
        #if canImport(Darwin)
        // fsync on Darwin does not flush the drive cache; F_FULLFSYNC does.
        if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
        guard fsync(descriptor) == 0 else { throw POSIX.failure("fsync", path, errno: errno) }
        #else
        guard fdatasync(descriptor) == 0 else { throw POSIX.failure("fdatasync", path, errno: errno) }
        #endif
    }

    /// Flushes the file's data and all of its metadata.
    func syncAll() throws {
        #if canImport(Darwin)
        if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
        #endif
        guard fsync(descriptor) == 0 else { throw POSIX.failure("fsync", path, errno: errno) }
    }

    /// Sets the file's size.
    func truncate(to size: Int) throws {
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw POSIX.failure("ftruncate to \(size) bytes", path, errno: errno)
        }
    }

    /// Reserves `size` bytes of disk for the file (`posix_fallocate`); the new range reads as zeros.
    func allocate(_ size: Int) throws {
        #if os(Linux)
        let code = posix_fallocate(descriptor, 0, off_t(size))
        guard code == 0 else { throw POSIX.failure("posix_fallocate of \(size) bytes", path, errno: code) }
        #else
        try truncate(to: size)
        #endif
    }

    /// Writes zeros over `range`, in chunks of at most 1 MiB.
    func writeZeros(_ range: Range<Int>) throws {
        guard !range.isEmpty else { return }
        let chunk = [UInt8](repeating: 0, count: min(range.count, 1 << 20))
        var offset = range.lowerBound
        try chunk.withUnsafeBytes { zeros in
            while offset < range.upperBound {
                let count = min(zeros.count, range.upperBound - offset)
                try write(UnsafeRawBufferPointer(rebasing: zeros[0..<count]), at: offset)
                offset += count
            }
        }
    }
}

/// Directory and path operations, and the ``StorageError`` built from errno.
enum POSIX {
    /// An ``StorageError/Code/ioFailure`` naming the failed call, the path and errno.
    static func failure(
        _ call: String, _ path: String, offset: Int? = nil, errno code: Int32,
        file: String = #fileID, line: Int = #line
    ) -> StorageError {
        let at = offset.map { " at offset \($0)" } ?? ""
        let message = String(cString: strerror(code))
        return StorageError(.ioFailure, "\(call) on \(path)\(at) failed: \(message) (errno \(code))", file: file, line: line)
    }

    /// `directory/name`.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Flushes a directory so that file creations, renames and deletions in it are durable.
    static func syncDirectory(_ path: String) throws {
        let directory = try POSIXFile.open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { try? directory.close() }
        guard fsync(directory.descriptor) == 0 else { throw failure("fsync of directory", path, errno: errno) }
    }

    /// Creates `path` and any missing parents (like `mkdir -p`), making each new directory durable
    /// in its parent. An existing directory is fine; an existing non-directory is an error.
    static func makeDirectories(_ path: String) throws {
        if isDirectory(path) { return }
        if mkdir(path, 0o755) == 0 {
            try syncDirectory(parent(of: path))
            return
        }
        let code = errno
        switch code {
        case EEXIST where isDirectory(path):
            return
        case ENOENT:
            try makeDirectories(parent(of: path))
            guard mkdir(path, 0o755) == 0 || (errno == EEXIST && isDirectory(path)) else {
                throw failure("mkdir", path, errno: errno)
            }
            try syncDirectory(parent(of: path))
        default:
            throw failure("mkdir", path, errno: code)
        }
    }

    /// Whether `path` names an existing directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The directory containing `path` (`.` for a bare name).
    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// The names in a directory, without `.` and `..`, in no particular order.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else { throw failure("opendir", path, errno: errno) }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw failure("readdir", path, errno: errno) }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Atomically replaces `destination` with `source`.
    static func rename(_ source: String, to destination: String) throws {
        #if canImport(Darwin)
        let result = Darwin.rename(source, destination)
        #elseif canImport(Glibc)
        let result = Glibc.rename(source, destination)
        #else
        let result = Musl.rename(source, destination)
        #endif
        guard result == 0 else { throw failure("rename to \(destination)", source, errno: errno) }
    }

    /// Deletes a file; a file that is already gone is fine.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path, errno: errno) }
    }
}

/// Formats `value` as exactly 16 lowercase hexadecimal digits (the `%016x` of file names).
func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

/// Parses exactly 16 lowercase hexadecimal digits.
func parseHex16(_ text: Substring) -> UInt64? {
    guard text.utf8.count == 16, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
        return nil
    }
    return UInt64(text, radix: 16)
}
