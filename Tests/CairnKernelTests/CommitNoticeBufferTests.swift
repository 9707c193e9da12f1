import CairnKernel
import CairnRaft
import Testing

@Suite("Commit notice buffer")
struct CommitNoticeBufferTests {
    func notice(to peer: NodeID, term: Term = 2, commit: LogIndex) -> Message {
        Message(from: 1, to: peer, term: term, body: .append(.init(prevIndex: commit, prevTerm: term, entries: [], commit: commit)))
    }

    func append(to peer: NodeID, term: Term = 2, index: LogIndex, commit: LogIndex) -> Message {
        let entry = Entry(term: term, index: index, data: Array("x".utf8))
        return Message(from: 1, to: peer, term: term, body: .append(.init(prevIndex: index - 1, prevTerm: term, entries: [entry], commit: commit)))
    }

    @Test("held notices go out in follower order, only the newest per follower")
    func newestPerFollower() {
        var buffer = CommitNoticeBuffer()
        #expect(buffer.isEmpty)
        buffer.hold([notice(to: 3, commit: 5), notice(to: 2, commit: 5)], at: 10)
        buffer.hold([notice(to: 2, commit: 6)], at: 10)
        #expect(buffer.count == 2)
        let out = buffer.takeHeld(atOrBefore: 10)
        #expect(out.map(\.to) == [2, 3])
        #expect(out == [notice(to: 2, commit: 6), notice(to: 3, commit: 5)])
        #expect(buffer.isEmpty)
        #expect(buffer.takeHeld(atOrBefore: .max).isEmpty)
    }

    @Test("an append to a follower makes its held notice redundant; other messages and other followers do not")
    func appendsSupersede() {
        var buffer = CommitNoticeBuffer()
        buffer.hold([notice(to: 2, commit: 5), notice(to: 3, commit: 5)], at: 0)
        buffer.sent([Message(from: 1, to: 2, term: 2, body: .heartbeat(.init(commit: 5, readContext: 0)))])
        #expect(buffer.count == 2, "a heartbeat does not drop a notice")
        buffer.sent([append(to: 2, index: 6, commit: 5)])
        #expect(buffer.takeHeld(atOrBefore: .max) == [notice(to: 3, commit: 5)])
    }

    @Test("an append of an older term does not make a notice of a newer term redundant")
    func olderTermDoesNotSupersede() {
        var buffer = CommitNoticeBuffer()
        buffer.hold([notice(to: 2, term: 3, commit: 7)], at: 0)
        buffer.sent([append(to: 2, term: 2, index: 6, commit: 5)])
        #expect(buffer.count == 1)
        buffer.sent([append(to: 2, term: 3, index: 8, commit: 7)])
        #expect(buffer.isEmpty)
    }

    @Test("removeAll forgets every notice (the leader stepped down)")
    func removeAll() {
        var buffer = CommitNoticeBuffer()
        buffer.hold([notice(to: 2, commit: 5)], at: 0)
        buffer.removeAll()
        #expect(buffer.isEmpty)
        #expect(buffer.takeHeld(atOrBefore: .max).isEmpty)
    }

    @Test("a notice is due only once held long enough; a newer notice to the same follower restarts its clock")
    func dueByAge() {
        var buffer = CommitNoticeBuffer()
        buffer.hold([notice(to: 2, commit: 5), notice(to: 3, commit: 5)], at: 1_000)
        buffer.hold([notice(to: 3, commit: 6)], at: 1_900)
        #expect(buffer.takeHeld(atOrBefore: 999).isEmpty)
        #expect(buffer.takeHeld(atOrBefore: 1_000) == [notice(to: 2, commit: 5)])
        #expect(buffer.takeHeld(atOrBefore: 1_899).isEmpty)
        #expect(buffer.takeHeld(atOrBefore: 1_900) == [notice(to: 3, commit: 6)])
        #expect(buffer.isEmpty)
    }
}
