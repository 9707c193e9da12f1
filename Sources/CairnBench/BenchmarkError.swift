/// A run that could not complete (not a failed request: those are counted in the summary).
public struct BenchmarkError: Error, Hashable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
