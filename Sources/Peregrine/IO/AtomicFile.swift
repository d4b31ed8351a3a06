#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that readers see either the old contents or the new ones, never a mix:
/// the bytes go to a temporary file in the same directory, which is flushed to disk (`fsync`)
/// and then renamed over the destination (`rename` is atomic within a file system).
///
/// A write that fails, or a process killed in the middle of one, leaves the previous file
/// intact (at worst a stray `.name.tmp-XXXXXX` beside it after a kill). Everything Peregrine
/// saves goes through it.
///
/// ```swift
/// try AtomicFile.write(Array("hello".utf8), to: URL(fileURLWithPath: "/tmp/greeting.txt"))
/// ```
public enum AtomicFile {
    /// Replaces the file at `url` with `bytes`, atomically. A new file gets mode 0644; a
    /// replaced one keeps its mode. Throws ``PeregrineError`` naming the file and the system
    /// error when the directory is not writable, the disk is full, or the rename fails.
    ///
    /// ```swift
    /// try AtomicFile.write(try SafeTensors.encode([("w", w)]), to: weightsURL)
    /// ```
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(bytes, to: url, beforeRename: { _ in })
    }

    /// Test-only: seconds to sleep after writing the first half of the temporary file, read once
    /// from the environment variable `PEREGRINE_TEST_PAUSE_IN_SAVE` (unset: 0, no pause). The
    /// crash-safety test starts a child process with it, kills the child with SIGKILL during
    /// the pause, and checks that the previous file still loads.
    static let pauseInSave: Int = {
        guard let text = getenv("PEREGRINE_TEST_PAUSE_IN_SAVE") else { return 0 }
        return max(0, Int(String(cString: text)) ?? 0)
    }()

    /// The same, with a hook between writing the temporary file and renaming it: the tests
    /// make it throw to check that a failed write leaves the old file.
    static func write(
        _ bytes: [UInt8], to url: URL, beforeRename: (_ temporary: String) throws -> Void
    ) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let fail = { (what: String) in
            PeregrineError.invalidArgument(
                operation: "AtomicFile.write '\(path)'", expected: "a writable destination",
                actual: "\(what): \(FileBytes.systemError(errno))")
        }

        var template = Array("\(directory.isEmpty ? "." : directory)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw fail("cannot create a temporary file in '\(directory)'") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { buffer in
                // The crash test's pause (see `pauseInSave`): half the bytes, then a sleep.
                let pauseAt = pauseInSave > 0 ? buffer.count / 2 : buffer.count
                var done = 0
                while done < buffer.count {
                    let end = done < pauseAt ? pauseAt : buffer.count
                    let n = Glibc.write(fd, buffer.baseAddress! + done, end - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw fail("writing '\(temporary)' failed") }
                    done += n
                    if done == pauseAt && pauseInSave > 0 {
                        let note = Array("PEREGRINE_TEST_PAUSE_IN_SAVE: paused after \(done) of \(buffer.count) bytes\n".utf8)
                        _ = Glibc.write(2, note, note.count)
                        sleep(UInt32(pauseInSave))
                    }
                }
            }
            // mkstemp makes the file 0600: keep the destination's mode, or use a data file's 0644.
            var info = stat()
            let mode = stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
            guard fchmod(fd, mode) == 0 else { throw fail("cannot set the mode of '\(temporary)'") }
            guard fsync(fd) == 0 else { throw fail("fsync of '\(temporary)' failed") }
        }
        try beforeRename(temporary)
        guard rename(temporary, path) == 0 else { throw fail("cannot rename '\(temporary)' over it") }
        renamed = true
        // Make the rename itself durable: flush the directory entry.
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}
