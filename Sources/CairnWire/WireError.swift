/// A violation of the Cairn wire protocol: bytes that do not form a valid preface, frame or message.
///
/// Every decoding function of this module throws a `WireError` and nothing else. The `code` says
/// what class of violation it is and is what the `error` frame carries on the wire (as
/// ``Code/wireValue``); the `reason` says precisely what was wrong — which field, which kind, what
/// size against what limit — for logs on both sides. `file` and `line` say where it was raised.
///
/// Two errors are equal when their codes are equal, so tests and callers can match on the code
/// alone: `error == WireError(.frameTooLarge)` or `error.code == .frameTooLarge`.
///
/// A `WireError` is fatal to its connection (the receiver sends an `error` frame and closes), except
/// one case a server answers per request: ``Code/unknownMessageKind`` raised by
/// `readClientRequest()` for an operation code it does not know, which a server answers with
/// ``ClientResponse/error(_:message:)`` carrying ``ClientErrorCode/unknownOperation``.
public struct WireError: Error, Sendable, CustomStringConvertible {
    /// The class of a protocol violation. An open set of `UInt16` values: the codes this version
    /// defines are the static members; a code received from a newer peer keeps its value.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The value carried by the `error` frame.
        public let wireValue: UInt16

        /// The code with this wire value (any value; unknown ones describe themselves as numbers).
        public init(wireValue: UInt16) { self.wireValue = wireValue }

        /// A frame header is invalid: a length below the 10 bytes of header it must cover, reserved
        /// flag bits set, or a stream id that the frame kind does not allow.
        public static let malformedFrame = Code(wireValue: 1)
        /// A frame's length exceeds the receiver's maximum frame length (16 MiB by default).
        public static let frameTooLarge = Code(wireValue: 2)
        /// A frame's kind byte is not a kind this version defines.
        public static let unknownFrameKind = Code(wireValue: 3)
        /// The preface names a protocol version the receiver does not speak.
        public static let unsupportedVersion = Code(wireValue: 4)
        /// The connection does not start with the ASCII magic `CAIRN`.
        public static let badMagic = Code(wireValue: 5)
        /// A length-prefixed field (bytes, string) or a list count claims more bytes than remain in
        /// the payload.
        public static let fieldOverrun = Code(wireValue: 6)
        /// A message's kind or operation code (Raft body kind, client operation, response kind) is
        /// unknown.
        public static let unknownMessageKind = Code(wireValue: 7)
        /// A field holds a value outside its domain: a bool or presence byte not 0/1, an enum value
        /// not defined, a string that is not UTF-8, a zero, duplicate or unordered node id, a
        /// preface role or reserved byte that is not allowed.
        public static let invalidValue = Code(wireValue: 8)
        /// Bytes remain in a payload after its message was decoded.
        public static let trailingBytes = Code(wireValue: 9)
        /// A well-formed frame of a kind this connection does not carry (a `raft` frame on a client
        /// connection, a `request` sent by a server, anything but a preface or an `error` frame in
        /// place of a preface).
        public static let unexpectedFrame = Code(wireValue: 10)
        /// The sender is shutting down and closes the connection.
        public static let shuttingDown = Code(wireValue: 11)
        /// A fixed-width field is cut short by the end of its payload, or the connection ended in
        /// the middle of a preface or a frame.
        public static let truncated = Code(wireValue: 12)

        /// The code's name as the specification spells it (`frameTooLarge`), or `code N`.
        public var description: String {
            switch wireValue {
            case 1: return "malformedFrame"
            case 2: return "frameTooLarge"
            case 3: return "unknownFrameKind"
            case 4: return "unsupportedVersion"
            case 5: return "badMagic"
            case 6: return "fieldOverrun"
            case 7: return "unknownMessageKind"
            case 8: return "invalidValue"
            case 9: return "trailingBytes"
            case 10: return "unexpectedFrame"
            case 11: return "shuttingDown"
            case 12: return "truncated"
            default: return "code \(wireValue)"
            }
        }
    }

    /// The class of the violation.
    public var code: Code
    /// What exactly was wrong, for a human.
    public var reason: String
    /// The source file that raised the error (or `remote` for one a peer reported).
    public var file: String
    /// The line that raised the error (0 for one a peer reported).
    public var line: UInt

    /// Creates an error.
    public init(_ code: Code, _ reason: String = "", file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    /// `WireError.<code>: <reason> (<file>:<line>)`.
    public var description: String {
        "WireError.\(code): \(reason) (\(file):\(line))"
    }
}

extension WireError: Hashable {
    /// Errors are equal when their codes are.
    public static func == (lhs: WireError, rhs: WireError) -> Bool { lhs.code == rhs.code }

    /// Hashes the code only, consistently with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
