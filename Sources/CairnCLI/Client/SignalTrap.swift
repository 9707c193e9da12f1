import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Catches signals (SIGINT, SIGTERM…): their default action (ending the process) is replaced
/// by the current handler, called on a background queue.
///
/// Trap each signal once per process and change what it does with ``setHandler(_:)``: libdispatch
/// installs its own signal handler only for the first source of a signal, so re-trapping (or
/// resetting the disposition in between) would silently lose the signal. Unchecked `Sendable`:
/// the sources never change after `init` and dispatch sources are thread-safe.
final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let handler: NIOLockedValueBox<@Sendable (Int32) -> Void>

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        let box = NIOLockedValueBox<@Sendable (Int32) -> Void>(handler)
        self.handler = box
        let queue = DispatchQueue(label: "cairn.signals")
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { box.withLockedValue { $0 }(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Replaces what the trapped signals do.
    func setHandler(_ handler: @escaping @Sendable (Int32) -> Void) {
        self.handler.withLockedValue { $0 = handler }
    }
}
