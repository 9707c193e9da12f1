/// A run that could not complete (not a failed request: those are counted in the summary), such as
/// a preload that did not finish or watchers that never became ready.
public struct BenchmarkError: Error, Hashable, CustomStringConvertible {
    /// What went wrong and, where there is one, what to change.
    public var reason: String
    /// Creates the error.
    public init(reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}
