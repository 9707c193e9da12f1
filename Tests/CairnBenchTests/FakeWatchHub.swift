import CairnBench
import CairnWire
import Foundation

/// An in-memory watch source fed by ``FakeExecutor``'s writes. Watch number `n` (in the order
/// they were opened) starts with a snapshot at the current index, then gets one event per
/// published write, each `lag` after it was published, in index order — unless the script says
/// otherwise.
final class FakeWatchHub: BenchmarkWatchSource, @unchecked Sendable {
    /// What goes wrong, and how late events arrive.
    struct Script: Sendable {
        /// Watches that never get their snapshot (nor anything else).
        var silent: Set<Int> = []
        /// Watches that fail at once with an error.
        var failing: Set<Int> = []
        /// Whether watch `n` does not get the event at an index.
        var skips: @Sendable (_ watch: Int, _ index: UInt64) -> Bool = { _, _ in false }
        /// How long after its publication each event is handed to the watcher.
        var lag: Duration = .zero
    }

    struct Failure: Error {}

    typealias Stream = AsyncThrowingStream<(event: WatchEvent, published: ContinuousClock.Instant), any Error>

    private let lock = NSLock()
    private let script: Script
    private var index: UInt64 = 0
    private var subscribers: [(number: Int, continuation: Stream.Continuation)] = []
    private var opened = 0

    init(_ script: Script = Script()) {
        self.script = script
    }

    /// How many watches were opened here.
    var openedWatches: Int { lock.withLock { opened } }

    func watch(prefix: String) -> any BenchmarkWatch {
        lock.withLock {
            let number = opened
            opened += 1
            let (stream, continuation) = Stream.makeStream()
            if script.failing.contains(number) {
                continuation.finish(throwing: Failure())
            } else {
                if !script.silent.contains(number) {
                    continuation.yield((WatchEvent(index: index, payload: .keys([], snapshot: true)), .now))
                }
                subscribers.append((number, continuation))
            }
            return FakeWatch(stream: stream, lag: script.lag)
        }
    }

    /// A write at `index` of `key`, published to every watch the script lets have it.
    func publish(index: UInt64, key: String) {
        lock.withLock {
            self.index = index
            let now = ContinuousClock.now
            let event = WatchEvent(index: index, payload: .keys([KVChange(key: key, entry: nil)], snapshot: false))
            for subscriber in subscribers where !script.silent.contains(subscriber.number) && !script.skips(subscriber.number, index) {
                subscriber.continuation.yield((event, now))
            }
        }
    }

    /// The state moved to `index` without a change to publish.
    func advance(to index: UInt64) {
        lock.withLock { self.index = index }
    }

    /// One fake watch: the hub's stream, each event held back until `lag` after its publication.
    struct FakeWatch: BenchmarkWatch {
        typealias Element = WatchEvent
        let stream: Stream
        let lag: Duration
        var resumes: Int { 0 }
        var droppedEvents: Int { 0 }

        func makeAsyncIterator() -> Iterator { Iterator(inner: stream.makeAsyncIterator(), lag: lag) }

        struct Iterator: AsyncIteratorProtocol {
            var inner: Stream.Iterator
            let lag: Duration

            mutating func next() async throws -> WatchEvent? {
                guard let (event, published) = try await inner.next() else { return nil }
                if lag > .zero { try await Task.sleep(until: published + lag, clock: .continuous) }
                return event
            }
        }
    }
}
