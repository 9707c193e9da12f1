import CairnRaft

/// One module of the replicated state machine (KV, catalog, sessions, ...): it owns its commands,
/// its part of the snapshot and its queries. Adding a module touches neither Raft nor storage.
public protocol StateMachineModule {
    /// The module's tag: the first byte of each of its commands and the name of its snapshot
    /// section. Unique within one ``ModuleRouter``; never reused for another module.
    var tag: UInt8 { get }
    /// Applies one command (the entry's bytes after the tag) committed at `index`.
    mutating func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8]
    /// Serializes the module's state.
    func snapshot() -> [UInt8]
    /// Replaces the module's state. Zero bytes mean the empty state (a snapshot taken before the
    /// module existed has no section for it).
    mutating func restore(_ bytes: ArraySlice<UInt8>) throws
}

/// The replicated state machine as a set of modules: routes each committed command to the
/// module named by its first byte, and writes the snapshot as one section per module.
///
/// Command format: `u8 tag, module bytes`. A command whose tag no module claims, or an empty
/// command, is applied as a no-op whose result is ``ModuleRouter/unknownModuleResult`` — every
/// replica does the same, so they stay identical.
///
/// Tag 0 is the kernel's own: ``restoreCommand(_:)`` replaces every module's state with the
/// sections of a snapshot, as a Raft operation (`cairn snapshot restore`): every server applies
/// it at the same index. Its result is ``restoreAppliedResult``, or an explanation when the
/// sections do not decode (then nothing changes, on every server alike).
///
/// Snapshot format (``BinaryWriter``, big-endian): `u64 appliedIndex, u32 sectionCount,
/// (u8 tag, u32 length, bytes)...`.
public struct ModuleRouter: ReplicatedStateMachine {
    /// The result returned for a command no module understands.
    public static let unknownModuleResult: [UInt8] = Array("unknown module".utf8)

    private var modules: [UInt8: any StateMachineModule] = [:]
    /// The index of the last entry applied.
    public private(set) var appliedIndex: LogIndex = 0

    /// Creates a router over `modules`; their tags must be distinct.
    public init(modules: [any StateMachineModule]) {
        for module in modules {
            precondition(self.modules[module.tag] == nil, "two modules share the tag \(module.tag)")
            self.modules[module.tag] = module
        }
    }

    /// The module with `tag` as its concrete type, for queries; nil when absent or of another type.
    public func module<M: StateMachineModule>(tagged tag: UInt8, as _: M.Type) -> M? { modules[tag] as? M }

    /// Runs `body` with mutable access to the module with `tag` (for instance to take the changes
    /// it recorded for watchers). Must not change the replicated state: every replica has to
    /// reach the same state from the same entries alone. Nil when absent or of another type.
    public mutating func withModule<M: StateMachineModule, R>(tagged tag: UInt8, as _: M.Type, _ body: (inout M) -> R) -> R? {
        guard modules[tag] != nil else { return nil }
        // In place: the dictionary's accessor moves the module out while it is mutated, and the
        // opened existential is the module itself — no cast, no copy of the store, no new box.
        return Self.withConcrete(&modules[tag]!, body)
    }

    /// Runs `body` on `module` in place when its type is `M`; nil otherwise.
    private static func withConcrete<T: StateMachineModule, M, R>(_ module: inout T, _ body: (inout M) -> R) -> R? {
        guard T.self == M.self else { return nil }
        return withUnsafeMutablePointer(to: &module) { pointer in
            pointer.withMemoryRebound(to: M.self, capacity: 1) { body(&$0.pointee) }
        }
    }

    /// The tag of the kernel's restore command.
    public static let restoreTag: UInt8 = 0
    /// The result of a restore command that replaced the state.
    public static let restoreAppliedResult: [UInt8] = Array("restored".utf8)

    /// A command that replaces every module's state with the sections of `snapshot` (the bytes of
    /// ``snapshot()``); its applied index stays the entry's own.
    public static func restoreCommand(_ snapshot: [UInt8]) -> [UInt8] { [restoreTag] + snapshot }

    public mutating func apply(_ entry: Entry) -> [UInt8] {
        appliedIndex = entry.index
        if entry.kind == .normal, entry.data.first == Self.restoreTag {
            do {
                try restoreSections(entry.data.dropFirst(), expectedIndex: nil)
                return Self.restoreAppliedResult
            } catch {
                return Array("\(error)".utf8)
            }
        }
        guard entry.kind == .normal, let tag = entry.data.first, modules[tag] != nil else {
            return entry.kind == .normal ? Self.unknownModuleResult : []
        }
        // In place (see ``withModule(tagged:as:_:)``).
        return modules[tag]!.apply(entry.data[1...], at: entry.index)
    }

    public func snapshot() -> [UInt8] {
        var w = BinaryWriter(capacity: 64)
        w.write(appliedIndex)
        w.write(UInt32(modules.count))
        for tag in modules.keys.sorted() {
            w.write(tag)
            w.write(bytes: modules[tag]!.snapshot())
        }
        return w.bytes
    }

    public mutating func restore(_ snapshot: [UInt8], at index: LogIndex) throws {
        let applied = try restoreSections(snapshot[...], expectedIndex: index)
        appliedIndex = applied
    }

    /// Replaces every module's state with the sections of `snapshot`; all or nothing. Returns the
    /// snapshot's applied index, which must equal `expectedIndex` when given.
    @discardableResult
    private mutating func restoreSections(_ snapshot: ArraySlice<UInt8>, expectedIndex: LogIndex?) throws -> LogIndex {
        var r = BinaryReader(snapshot)
        guard let applied = r.read(UInt64.self), let count = r.read(UInt32.self) else {
            throw StateMachineError(.malformedSnapshot, "snapshot header truncated (\(snapshot.count) bytes)")
        }
        if let index = expectedIndex, applied != index {
            throw StateMachineError(.malformedSnapshot, "snapshot of index \(applied) restored as index \(index)")
        }
        var restored = modules
        var seen = Set<UInt8>()
        for n in 0..<count {
            guard let tag = r.read(UInt8.self), let section = r.readBytes() else {
                throw StateMachineError(.malformedSnapshot, "snapshot section \(n) of \(count) is truncated")
            }
            guard var module = restored[tag] else {
                throw StateMachineError(.unknownModule, "snapshot has a section for module \(tag), which this server does not have")
            }
            guard seen.insert(tag).inserted else {
                throw StateMachineError(.malformedSnapshot, "snapshot has two sections for module \(tag)")
            }
            try module.restore(section[...])
            restored[tag] = module
        }
        guard r.isAtEnd else {
            throw StateMachineError(.malformedSnapshot, "stray bytes after the last snapshot section")
        }
        for tag in restored.keys where !seen.contains(tag) {
            try restored[tag]!.restore([])
        }
        modules = restored
        return applied
    }
}
