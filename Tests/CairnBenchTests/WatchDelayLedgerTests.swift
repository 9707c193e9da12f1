import CairnBench
import Testing

@Suite struct WatchDelayLedgerTests {
    let t0 = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    @Test func anEventAfterItsAcknowledgementIsTimedFromTheAcknowledgement() {
        var ledger = WatchDelayLedger(startIndexes: [10])
        ledger.acknowledged(index: 11, at: at(100), measured: true)
        ledger.arrived(watcher: 0, index: 11, at: at(101))
        #expect(ledger.histogram.totalCount == 1)
        // (Below 2048 µs the histogram holds exact values.)
        #expect(ledger.histogram.max == 1000, "1 ms in microseconds")
        #expect(ledger.matchedEvents == 1)
        #expect(ledger.missedEvents == 0)
    }

    @Test func anEventRecordedBeforeItsAcknowledgementWaitsAndIsTimedWhenTheAcknowledgementComes() {
        var ledger = WatchDelayLedger(startIndexes: [10])
        // The event's arrival is recorded first, but it arrived 2 ms after the write's reply.
        ledger.arrived(watcher: 0, index: 11, at: at(102))
        #expect(ledger.histogram.totalCount == 0)
        #expect(ledger.unacknowledgedEvents == 1)
        ledger.acknowledged(index: 11, at: at(100), measured: true)
        #expect(ledger.unacknowledgedEvents == 0)
        #expect(ledger.histogram.totalCount == 1)
        #expect(ledger.histogram.max == 2000)
    }

    @Test func anEventThatBeatTheReplyToItsWriterCountsAsNoDelayNeverANegativeOne() {
        var ledger = WatchDelayLedger(startIndexes: [10, 10])
        ledger.arrived(watcher: 0, index: 11, at: at(97))
        ledger.acknowledged(index: 11, at: at(100), measured: true)
        ledger.arrived(watcher: 1, index: 11, at: at(99))
        #expect(ledger.histogram.totalCount == 2, "both events are samples")
        #expect(ledger.histogram.max == 0)
        #expect(ledger.matchedEvents == 2)
    }

    @Test func warmupWritesAreMatchedButNotTimed() {
        var ledger = WatchDelayLedger(startIndexes: [10])
        ledger.acknowledged(index: 11, at: at(0), measured: false)
        ledger.arrived(watcher: 0, index: 11, at: at(50))
        ledger.arrived(watcher: 0, index: 12, at: at(60))
        ledger.acknowledged(index: 12, at: at(55), measured: false)
        #expect(ledger.histogram.totalCount == 0)
        #expect(ledger.matchedEvents == 2)
        #expect(ledger.expectedEvents == 2)
        #expect(ledger.missedEvents == 0)
    }

    @Test func eachWatcherIsExpectedToReceiveEveryAcknowledgedWriteAfterItsStart() {
        var ledger = WatchDelayLedger(startIndexes: [10, 10, 12])
        for index: UInt64 in [11, 12, 13] { ledger.acknowledged(index: index, at: at(0), measured: true) }
        for index: UInt64 in [11, 12, 13] { ledger.arrived(watcher: 0, index: index, at: at(1)) }
        for index: UInt64 in [11, 13] { ledger.arrived(watcher: 1, index: index, at: at(1)) }
        ledger.arrived(watcher: 2, index: 13, at: at(1))
        #expect(ledger.expectedEvents == 7, "3 + 3 + 1: watcher 2 started after index 12")
        #expect(ledger.matchedEvents == 6)
        #expect(ledger.missedEvents == 1)
        #expect(ledger.missedEvents(watcher: 0) == 0)
        #expect(ledger.missedEvents(watcher: 1) == 1)
        #expect(ledger.missedEvents(watcher: 2) == 0)
    }

    @Test func anEventOfAWriteNoWriterSawAcknowledgedIsCountedButNotTimed() {
        var ledger = WatchDelayLedger(startIndexes: [10])
        ledger.acknowledged(index: 11, at: at(0), measured: true)
        ledger.arrived(watcher: 0, index: 11, at: at(1))
        ledger.arrived(watcher: 0, index: 12, at: at(2))
        #expect(ledger.unacknowledgedEvents == 1)
        #expect(ledger.histogram.totalCount == 1)
        #expect(ledger.missedEvents == 0, "an unacknowledged write is not expected")
    }

    @Test func pruningKeepsWhatASlowerWatcherStillNeeds() {
        var ledger = WatchDelayLedger(startIndexes: [10, 10])
        ledger.acknowledged(index: 11, at: at(0), measured: true)
        ledger.acknowledged(index: 12, at: at(0), measured: true)
        ledger.arrived(watcher: 0, index: 11, at: at(1))
        ledger.arrived(watcher: 0, index: 12, at: at(1))
        ledger.prune()
        ledger.arrived(watcher: 1, index: 11, at: at(4))
        ledger.prune()
        ledger.arrived(watcher: 1, index: 12, at: at(4))
        #expect(ledger.matchedEvents == 4)
        #expect(ledger.unacknowledgedEvents == 0)
        #expect(ledger.histogram.totalCount == 4)
        #expect(ledger.missedEvents == 0)
    }

    @Test func whatAWatcherDidNotReceiveIsMissedBelowItsLastIndexAndUndeliveredAboveIt() {
        var ledger = WatchDelayLedger(startIndexes: [10, 10])
        for index: UInt64 in 11...15 { ledger.acknowledged(index: index, at: at(0), measured: true) }
        for index: UInt64 in 11...15 { ledger.arrived(watcher: 0, index: index, at: at(1)) }
        // Watcher 1 skipped 12 and has not received 14 and 15 yet.
        for index: UInt64 in [11, 13] { ledger.arrived(watcher: 1, index: index, at: at(1)) }
        ledger.prune()
        #expect(ledger.expectedEvents == 10)
        #expect(ledger.missedEvents(watcher: 1) == 1)
        #expect(ledger.undeliveredEvents(watcher: 1) == 2)
        #expect(ledger.missedEvents == 1)
        #expect(ledger.undeliveredEvents == 2)
        #expect(ledger.missedEvents(watcher: 0) == 0 && ledger.undeliveredEvents(watcher: 0) == 0)
        // Later writes count as undelivered for a watcher that stopped.
        ledger.acknowledged(index: 16, at: at(2), measured: true)
        ledger.arrived(watcher: 0, index: 16, at: at(3))
        ledger.prune()
        #expect(ledger.undeliveredEvents(watcher: 1) == 3)
        #expect(ledger.missedEvents == 1)
    }
}
