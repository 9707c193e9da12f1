/// How a ``CairnWatch`` buffers events and how long it keeps trying to resume.
public struct WatchOptions: Sendable, Hashable {
    /// The most events the client holds for a consumer that has not read them yet (at least 1).
    /// When a slow consumer lets more arrive, the library cancels the server stream and, once
    /// the consumer has caught up with the buffer, resumes it after the last event read — so a
    /// slow consumer costs a resume, never a lost event.
    public var bufferCapacity: Int
    /// Give up (the sequence throws) after this many failed resumes in a row, that is without an
    /// event in between; nil: keep trying as long as the consumer iterates.
    public var maxAttemptsWithoutProgress: Int?

    /// Creates options; the defaults buffer 256 events and never give up.
    public init(bufferCapacity: Int = 256, maxAttemptsWithoutProgress: Int? = nil) {
        self.bufferCapacity = max(1, bufferCapacity)
        self.maxAttemptsWithoutProgress = maxAttemptsWithoutProgress
    }
}
