/// The in-memory view of a node's log: a compacted base (the latest snapshot point) followed by
/// the entries after it, with the commit, stable (durable) and applied (handed out) marks.
///
/// Invariants: `entries[i].index == base.index + 1 + i`; `applied <= committed`;
/// `stable <= lastIndex`; `committed` never moves back and no committed entry is ever truncated.
/// `applied` may run ahead of `stable`: a committed entry is durable on a quorum, so it may be
/// applied before this node's own write of it has finished (see ``Ready``).
struct RaftLog: Sendable {
    /// The last compacted index and its term (0, 0 for an uncompacted log).
    private(set) var baseIndex: LogIndex
    private(set) var baseTerm: Term
    private(set) var entries: [Entry]
    /// The highest index known committed.
    var committed: LogIndex
    /// The highest index handed to the shell for application.
    var applied: LogIndex
    /// The highest index known durable on this node.
    var stable: LogIndex
    /// The lowest index not yet handed to the shell for persistence.
    var unpersistedFrom: LogIndex

    init(baseIndex: LogIndex, baseTerm: Term, entries: [Entry], committed: LogIndex) {
        self.baseIndex = baseIndex
        self.baseTerm = baseTerm
        self.entries = entries
        let last = baseIndex + LogIndex(entries.count)
        self.committed = min(max(committed, baseIndex), last)
        self.applied = baseIndex
        self.stable = last
        self.unpersistedFrom = last + 1
    }

    var firstIndex: LogIndex { baseIndex + 1 }
    var lastIndex: LogIndex { baseIndex + LogIndex(entries.count) }
    var lastTerm: Term { entries.last?.term ?? baseTerm }

    /// The term of the entry at `index`, or nil when it is compacted away or beyond the end.
    func term(at index: LogIndex) -> Term? {
        if index == baseIndex { return baseTerm }
        if index < baseIndex || index > lastIndex { return nil }
        return entries[Int(index - baseIndex - 1)].term
    }

    func entry(at index: LogIndex) -> Entry? {
        guard index > baseIndex, index <= lastIndex else { return nil }
        return entries[Int(index - baseIndex - 1)]
    }

    func matches(index: LogIndex, term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// Whether a log ending at `(lastIndex, lastTerm)` is at least as up to date as this one.
    func isUpToDate(lastIndex: LogIndex, lastTerm: Term) -> Bool {
        lastTerm > self.lastTerm || (lastTerm == self.lastTerm && lastIndex >= self.lastIndex)
    }

    /// Entries in `[from, through]`, stopping once `maxBytes` is exceeded (at least one entry).
    /// Nil when `from` is compacted.
    func slice(from: LogIndex, through: LogIndex? = nil, maxBytes: Int = .max) -> [Entry]? {
        guard from > baseIndex else { return nil }
        let end = min(through ?? lastIndex, lastIndex)
        guard from <= end else { return [] }
        let lo = Int(from - baseIndex - 1)
        let hi = Int(end - baseIndex - 1)
        var bytes = 0
        var stop = lo
        while stop <= hi {
            bytes += entries[stop].byteSize
            if bytes > maxBytes && stop > lo { break }
            stop += 1
        }
        return Array(entries[lo..<stop])
    }

    /// The largest index `<= index` whose term is `<= term`: where a leader should look for the
    /// point of agreement after a follower reported `(index, term)` as its conflicting entry.
    func lastIndex(atOrBelow index: LogIndex, withTermAtMost term: Term) -> LogIndex {
        var i = min(index, lastIndex)
        while i > baseIndex {
            if let t = self.term(at: i), t <= term { return i }
            i -= 1
        }
        return baseIndex
    }

    /// Appends entries (contiguous, from `entries[0].index <= lastIndex + 1`), truncating any
    /// existing suffix from the first index onwards. Precondition: nothing committed is truncated.
    mutating func append(_ new: [Entry]) {
        guard let first = new.first else { return }
        precondition(first.index <= lastIndex + 1, "append leaves a gap")
        precondition(first.index > committed, "truncating a committed entry \(first.index) <= \(committed)")
        if first.index <= lastIndex {
            entries.removeSubrange(Int(first.index - baseIndex - 1)...)
            stable = min(stable, first.index - 1)
        }
        entries.append(contentsOf: new)
        unpersistedFrom = min(unpersistedFrom, first.index)
    }

    /// Follower-side append: `new` follows `(prevIndex, prevTerm)`, which the caller has
    /// verified this log matches. Skips entries already present with the same term, truncates
    /// from the first conflict, and returns the index of the last new entry.
    mutating func appendMatching(after prevIndex: LogIndex, _ new: [Entry]) -> LogIndex {
        let lastNew = prevIndex + LogIndex(new.count)
        var conflictAt: Int? = nil
        for (offset, entry) in new.enumerated() {
            if entry.index <= baseIndex { continue }
            if entry.index > lastIndex || term(at: entry.index) != entry.term {
                conflictAt = offset
                break
            }
        }
        if let c = conflictAt {
            append(Array(new[c...]))
        }
        return lastNew
    }

    /// Raises the commit index (never lowers it).
    mutating func commit(to index: LogIndex) {
        if index > committed {
            precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
            committed = index
        }
    }

    /// Drops entries up to and including `index` (known to be covered by a snapshot).
    mutating func compact(through index: LogIndex) {
        guard index > baseIndex else { return }
        precondition(index <= applied, "compacting unapplied entries")
        let t = term(at: index)!
        entries.removeFirst(Int(index - baseIndex))
        baseIndex = index
        baseTerm = t
    }

    /// Replaces the whole log with a snapshot's point.
    mutating func restore(index: LogIndex, term: Term) {
        entries.removeAll()
        baseIndex = index
        baseTerm = term
        committed = index
        applied = index
        stable = index
        unpersistedFrom = index + 1
    }

    /// Entries not yet handed out for persistence; marks them handed out.
    mutating func takeUnpersisted() -> [Entry] {
        guard unpersistedFrom <= lastIndex else {
            unpersistedFrom = lastIndex + 1
            return []
        }
        let from = max(unpersistedFrom, firstIndex)
        let out = Array(entries[Int(from - baseIndex - 1)...])
        unpersistedFrom = lastIndex + 1
        return out
    }

    /// Committed entries not yet handed out for application (durable on a quorum, not
    /// necessarily on this node yet); marks them handed out.
    mutating func takeCommitted(maxBytes: Int = .max) -> [Entry] {
        guard committed > applied else { return [] }
        let out = slice(from: applied + 1, through: committed, maxBytes: maxBytes) ?? []
        if let last = out.last { applied = last.index }
        return out
    }

    /// Records that entries through `(index, term)` are durable, unless they were since replaced.
    mutating func markStable(index: LogIndex, term: Term) {
        guard index > stable, index < unpersistedFrom, self.term(at: index) == term else { return }
        stable = index
    }
}
