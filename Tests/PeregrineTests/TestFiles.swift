import Foundation

/// Where tests write files: one folder per test process, `<tmp>/peregrine-tests-<pid>`, removed
/// when the process exits, so that runs do not leave folders behind in the temporary directory.
///
/// ```swift
/// let folder = try TestFiles.directory("data")   // a fresh, empty folder
/// ```
enum TestFiles {
    /// The process's folder, made (and its removal at exit registered) on first use.
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit {
            // A C callback captures nothing: the path is rebuilt from the process id.
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-tests-\(getpid())")
            try? FileManager.default.removeItem(at: url)
        }
        return url
    }()

    /// A new empty folder inside ``root``, its name starting with `name`.
    static func directory(_ name: String) throws -> URL {
        let url = root.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
