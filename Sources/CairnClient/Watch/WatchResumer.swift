import CairnWire

/// The decisions behind a resumable watch, as a value that does no IO: which events reach the
/// consumer, and what to do when a server stream ends. ``CairnWatch`` is the shell that runs it
/// (connects, sends the `watch` requests, sleeps the delays).
///
/// Invariants:
/// - Delivered events have strictly increasing indexes. An event at or below the last delivered
///   index (or below the `fromIndex` the watch started after) is dropped and counted in
///   ``droppedEvents``; a server never sends one, so a non-zero count means a server or resume
///   bug.
/// - A resumed watch asks for the changes after the last delivered index, so nothing is missed
///   and nothing repeated — except after ``ClientErrorCode/historyCompacted``: the server no
///   longer has the changes since then, so the watch starts over from index 0 and the next event
///   is a snapshot of the whole current state (``WatchEvent/Payload/keys(_:snapshot:)`` with
///   `snapshot: true`), which the consumer must treat as a full re-read.
/// - Errors that retrying cannot fix (a bad key, an unknown operation, bad TLS files, a closed
///   client) end the watch; everything else is retried, immediately the first time and then with
///   a capped exponential backoff, until an event arrives again (or, with
///   ``maxAttemptsWithoutProgress``, until that many attempts in a row delivered nothing).
public struct WatchResumer: Sendable, Hashable {
    /// Why a server stream ended, or could not start.
    public enum StreamEnd: Sendable, Hashable {
        /// The server ended the stream with this error code.
        case serverError(ClientErrorCode, message: String)
        /// The connection closed (the server stopped, the network failed).
        case connectionLost(String)
        /// No connection could be made; the error says why.
        case connectFailed(CairnClientError)
        /// The consumer fell behind the client's bounded buffer; the library cancelled the
        /// server stream and resumes it once the consumer has read what was buffered.
        case clientBufferFull
        /// The server answered as if it were not the right server for the watch.
        case redirected
        /// The server sent a response that makes no sense on a watch stream.
        case unexpectedResponse(String)
    }

    /// What the shell does next.
    public enum Action: Sendable, Hashable {
        /// Wait `delay`, then send `watch(target, fromIndex:)` — first dialling another server
        /// when `switchServer` is true.
        case watch(fromIndex: UInt64, delay: Duration, switchServer: Bool)
        /// End the watch with this error.
        case fail(CairnClientError)
    }

    /// What happens to a received event.
    public enum Delivery: Sendable, Hashable {
        /// Hand it to the consumer.
        case deliver
        /// Discard it: its index is not above the last delivered one.
        case drop
    }

    /// The index of the last delivered event, or the `fromIndex` the watch started after; nil
    /// when the watch started from the current state (index 0) and nothing was delivered yet.
    public private(set) var lastIndex: UInt64?
    /// Events discarded because their index was not above ``lastIndex``.
    public private(set) var droppedEvents = 0
    /// How many times a server stream was (re)opened after the first.
    public private(set) var resumes = 0
    /// Stream ends since the last delivered event.
    public private(set) var failuresWithoutProgress = 0
    /// Give up after this many stream ends in a row without a delivered event; nil: never.
    public let maxAttemptsWithoutProgress: Int?
    /// The first backoff delay (the second retry in a row waits this long).
    public let backoffBase: Duration
    /// The longest backoff delay.
    public let backoffCap: Duration

    /// Creates the logic of a watch that delivers the changes after `fromIndex` (0: first the
    /// current state).
    public init(fromIndex: UInt64, maxAttemptsWithoutProgress: Int? = nil,
                backoffBase: Duration = .milliseconds(50), backoffCap: Duration = .seconds(2)) {
        self.lastIndex = fromIndex == 0 ? nil : fromIndex
        self.maxAttemptsWithoutProgress = maxAttemptsWithoutProgress
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
    }

    /// The index a (re)opened stream asks for: the changes after it.
    public var resumeIndex: UInt64 { lastIndex ?? 0 }

    /// The first request.
    public func start() -> Action {
        .watch(fromIndex: resumeIndex, delay: .zero, switchServer: false)
    }

    /// Decides what happens to an event the server sent.
    public mutating func received(_ event: WatchEvent) -> Delivery {
        if let lastIndex, event.index <= lastIndex {
            droppedEvents += 1
            return .drop
        }
        lastIndex = event.index
        failuresWithoutProgress = 0
        return .deliver
    }

    /// Decides what to do after a stream ended (or could not be opened).
    public mutating func ended(_ end: StreamEnd) -> Action {
        failuresWithoutProgress += 1
        var fromIndex = resumeIndex
        let switchServer: Bool
        switch end {
        case .serverError(let code, let message):
            switch code {
            case .historyCompacted:
                fromIndex = 0
                switchServer = false
            case .watchTooSlow:
                switchServer = false
            case .timeout, .internalError:
                switchServer = false
            case .shuttingDown, .noLeader:
                switchServer = true
            default:
                return .fail(CairnClientError(.server, "\(code): \(message)", serverCode: code))
            }
        case .connectionLost:
            switchServer = true
        case .connectFailed(let error):
            if error.code == .tls || error.code == .closed { return .fail(error) }
            switchServer = true
        case .clientBufferFull:
            switchServer = false
        case .redirected:
            switchServer = true
        case .unexpectedResponse(let what):
            return .fail(CairnClientError(.protocolViolation, "the server answered a watch with \(what)"))
        }
        if let maxAttemptsWithoutProgress, failuresWithoutProgress > maxAttemptsWithoutProgress {
            return .fail(CairnClientError(.unreachable, "the watch could not be resumed after \(maxAttemptsWithoutProgress) attempts (last: \(end))"))
        }
        resumes += 1
        return .watch(fromIndex: fromIndex, delay: backoff(), switchServer: switchServer)
    }

    /// No wait for the first retry in a row, then `backoffBase` doubling up to `backoffCap`.
    private func backoff() -> Duration {
        guard failuresWithoutProgress > 1 else { return .zero }
        let doublings = min(failuresWithoutProgress - 2, 16)
        let delay = backoffBase * (1 << doublings)
        return min(delay, backoffCap)
    }
}
