import ArgumentParser
import CairnClient
import Foundation

/// `cairn snapshot`: save and restore the whole replicated state.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Save and restore the cluster's state.",
        subcommands: [SnapshotSave.self, SnapshotRestore.self])
}

struct SnapshotSave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save a snapshot of every module's state to a file.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Overwrite FILE if it exists.") var force = false
    @Argument(help: "Where to write the snapshot archive.") var file: String

    func run() async throws {
        if !force && FileManager.default.fileExists(atPath: file) {
            fail("\(file) already exists; pass --force to overwrite it", code: 2)
        }
        let (index, archive) = try await connection.withClient { try await $0.saveSnapshot() }
        do {
            // Written whole to a temporary file, then renamed: a crash never leaves half an archive.
            try Data(archive).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            fail("cannot write \(file): \(error.localizedDescription)", code: 1)
        }
        emit("Saved snapshot at index \(index) to \(file) (\(archive.count) bytes)\n")
    }
}

struct SnapshotRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Replace the cluster's whole state with a saved snapshot.",
        discussion: "Every key, service, check and session is replaced by the archive's, on every server.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "A snapshot archive from `cairn snapshot save`.") var file: String

    func run() async throws {
        let archive: [UInt8]
        do {
            archive = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            fail("cannot read \(file): \(error.localizedDescription)", code: 2)
        }
        let index = try await connection.withClient { try await $0.restoreSnapshot(archive) }
        emit("Restored snapshot from \(file) (at index \(index))\n")
    }
}
