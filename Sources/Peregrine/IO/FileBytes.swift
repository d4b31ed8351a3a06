#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Reading a whole file into memory and the errors of POSIX file calls (internal: the IDX and
/// safetensors readers parse from memory, so the fuzzers exercise exactly the code that files
/// go through).
enum FileBytes {
    /// The largest file the readers load: far above any dataset or weight file they are for,
    /// and a clear error instead of an allocation failure on something that is not one.
    static let maximumSize = 16 << 30

    /// The file's bytes. Throws, naming `operation` and the file, when it cannot be opened,
    /// is not a regular file, is larger than ``maximumSize`` or fails to read.
    static func read(_ url: URL, operation: String) throws -> [UInt8] {
        let path = url.path
        let fd = url.withUnsafeFileSystemRepresentation { name -> Int32 in
            guard let name else { return -1 }
            return open(name, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            throw fileError(operation, path, "a readable file", systemError(errno))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw fileError(operation, path, "a readable file", systemError(errno))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw fileError(operation, path, "a regular file", "something else (a directory or a device)")
        }
        let size = Int(info.st_size)
        guard size <= maximumSize else {
            throw fileError(operation, path, "a file of at most \(maximumSize) bytes", "\(size) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let n = Glibc.read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw fileError(operation, path, "a readable file", systemError(errno)) }
                if n == 0 { break }   // the file shrank while we read it
                done += n
            }
        }
        bytes.removeLast(size - done)
        return bytes
    }

    /// `strerror(code)` as a Swift string.
    static func systemError(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static func fileError(_ operation: String, _ path: String, _ expected: String, _ actual: String)
        -> PeregrineError
    {
        .invalidArgument(operation: "\(operation) '\(path)'", expected: expected, actual: actual)
    }
}
