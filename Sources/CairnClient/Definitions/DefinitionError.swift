/// A problem with a definition a person wrote: a service definition file, a duration.
///
/// ``reason`` is one line meant for that person, naming the field (`service.check.ttl`) and
/// what is wrong with it. Two errors are equal when their ``code``s and ``field``s are.
public struct DefinitionError: Error, Hashable, CustomStringConvertible {
    /// What kind of problem. The set is open: compare against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The code's name.
        public var description: String { raw }
        /// The text is not JSON.
        public static let invalidJSON = Code(raw: "invalidJSON")
        /// A required field is missing.
        public static let missingField = Code(raw: "missingField")
        /// A field has the wrong type or an out-of-range value.
        public static let invalidValue = Code(raw: "invalidValue")
        /// A field Cairn does not know (or does not support).
        public static let unknownField = Code(raw: "unknownField")
        /// A duration is malformed (`10x`, `ten seconds`).
        public static let invalidDuration = Code(raw: "invalidDuration")
    }

    /// What kind of problem.
    public var code: Code
    /// The field's path (`service.checks[1].interval`); empty for the whole text.
    public var field: String
    /// What is wrong, in words, naming the field.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, field: String, _ reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    /// The ``reason``.
    public var description: String { reason }

    /// Compares ``code`` and ``field``.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.field == rhs.field }
    /// Hashes ``code`` and ``field``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(field)
    }
}
