/// An error raised by the storage layer: the write-ahead log, the snapshot store or their
/// combination.
///
/// `code` says what kind of failure it is and is what callers match on; `reason` is a sentence for
/// a human that names the file and, where it matters, the byte offset. Two errors are equal when
/// their codes are equal, so a test can write `#expect(throws: StorageError(.corruptRecord))`.
public struct StorageError: Error, Sendable {
    /// The kind of a ``StorageError``. Opaque so new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable {
        private enum Value: Hashable, Sendable {
            case ioFailure
            case corruptRecord
            case missingSegment
            case unsupportedVersion
            case badSnapshotChecksum
            case corruptSnapshot
            case missingSnapshot
            case gapInLog
            case invalidArgument
            case closed
        }

        private let value: Value

        private init(_ value: Value) { self.value = value }

        /// A system call failed (open, pwrite, fdatasync, rename, ...); the reason carries errno.
        /// After a failed write or sync the log refuses further writes: reopen it to recover.
        public static let ioFailure = Code(.ioFailure)
        /// A log record before the torn tail fails its checksum or does not decode: acknowledged
        /// data may be damaged, so the log refuses to open rather than drop it.
        public static let corruptRecord = Code(.corruptRecord)
        /// A log segment between two others is missing.
        public static let missingSegment = Code(.missingSegment)
        /// A file was written by a newer, unknown format version.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A snapshot file's trailing checksum does not match its contents.
        public static let badSnapshotChecksum = Code(.badSnapshotChecksum)
        /// A snapshot file's checksum matches but its structure is invalid.
        public static let corruptSnapshot = Code(.corruptSnapshot)
        /// The log was reset to a snapshot (or its prefix was released) that no snapshot file covers.
        public static let missingSnapshot = Code(.missingSnapshot)
        /// The entries after the snapshot do not continue it: some indices are missing.
        public static let gapInLog = Code(.gapInLog)
        /// The caller passed something the storage cannot accept (non-contiguous entries, ...).
        public static let invalidArgument = Code(.invalidArgument)
        /// The object was closed.
        public static let closed = Code(.closed)
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation naming the file and byte offset where relevant.
    public var reason: String
    /// The source file that raised the error.
    public var file: String
    /// The source line that raised the error.
    public var line: Int

    /// Creates an error; `file` and `line` default to the caller's location.
    public init(_ code: Code, _ reason: String = "", file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }
}

extension StorageError: Equatable {
    /// Errors compare by ``code`` only.
    public static func == (lhs: StorageError, rhs: StorageError) -> Bool { lhs.code == rhs.code }
}

extension StorageError.Code: CustomStringConvertible {
    /// The code's name, e.g. `corruptRecord`.
    public var description: String { String(describing: value) }
}

extension StorageError: CustomStringConvertible {
    /// `StorageError.corruptRecord: <reason> (raised at File.swift:12)`.
    public var description: String { "StorageError.\(code): \(reason) (raised at \(file):\(line))" }
}
