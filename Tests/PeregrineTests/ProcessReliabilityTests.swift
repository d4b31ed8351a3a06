import Foundation
import Peregrine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Reliability checks that need a process of their own: a save killed half-way, and fd/thread
/// leaks across repeated fit/save/load cycles. Both run the `peregrine` executable that
/// `swift build --build-tests` (and `swift test`) builds beside the test bundle.
@Suite struct ProcessReliabilityTests {
    /// The `peregrine` executable next to this test bundle.
    static func peregrineExecutable() throws -> URL {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let url = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("peregrine")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw PeregrineError.invalidArgument(
                operation: "ProcessReliabilityTests", expected: "the peregrine executable beside the tests",
                actual: "nothing at \(url.path) (build with swift build --build-tests)")
        }
        return url
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        try TestFiles.directory(name)
    }

    /// A child that runs `peregrine train --save` over an existing checkpoint is killed with
    /// SIGKILL in the middle of writing the new one (`PEREGRINE_TEST_PAUSE_IN_SAVE` holds it
    /// after half the bytes): the previous checkpoint must still load, bit for bit the weights
    /// it held. With a direct (non-atomic) write the destination would be half a file and this
    /// test fails.
    @Test func saveKilledHalfWayLeavesThePreviousCheckpoint() throws {
        let folder = try Self.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("mlp.weights.safetensors")
        let original = try CompassWorkload.mlp.makeModel()
        try original.saveWeights(to: checkpoint)
        let originalBytes = try Data(contentsOf: checkpoint)
        let originalValues = original.weights.map(\.value.scalars)

        let log = folder.appendingPathComponent("child.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let child = Process()
        child.executableURL = try Self.peregrineExecutable()
        child.arguments = [
            "train", "--model", "mlp", "--epochs", "1", "--limit", "64", "--batch-size", "32",
            "--seed", "5", "--data", folder.appendingPathComponent("no-data").path, "--save", checkpoint.path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PEREGRINE_TEST_PAUSE_IN_SAVE"] = "120"
        environment["OMP_NUM_THREADS"] = "1"
        child.environment = environment
        let logHandle = try FileHandle(forWritingTo: log)
        child.standardOutput = logHandle
        child.standardError = logHandle
        try child.run()

        // Wait (at most 3 minutes, the host may be loaded) for the child to pause half-way.
        let deadline = ContinuousClock.now + .seconds(180)
        var paused = false
        while ContinuousClock.now < deadline && child.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.contains("PEREGRINE_TEST_PAUSE_IN_SAVE: paused") { paused = true; break }
            usleep(50_000)
        }
        if child.isRunning { kill(child.processIdentifier, SIGKILL) }
        child.waitUntilExit()
        try logHandle.close()
        let childLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(paused, "the child never reached the save's pause: \(childLog)")
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL, "\(childLog)")

        // The previous checkpoint: byte for byte, and it loads into a fresh model with the same values.
        #expect(try Data(contentsOf: checkpoint) == originalBytes)
        let restored = try CompassWorkload.mlp.makeModel()
        try restored.loadWeights(from: checkpoint)
        #expect(restored.weights.map(\.value.scalars) == originalValues)
        // The killed write's temporary file is what is left over, beside it.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(".mlp.weights.safetensors.tmp-") }
        #expect(leftovers.count == 1, "\(leftovers)")
    }

    /// Six cycles of build/compile/fit/save/load/saveWeights/loadWeights/predict in a child
    /// process (`peregrine leak-cycles`): after the first cycle, neither the open file
    /// descriptors nor the threads may grow.
    @Test func fitSaveLoadCyclesLeakNoFileDescriptorsOrThreads() throws {
        let folder = try Self.temporaryDirectory("leaks")
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = Process()
        child.executableURL = try Self.peregrineExecutable()
        child.arguments = ["leak-cycles", "--cycles", "6", "--directory", folder.path]
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "2"
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(child.terminationStatus == 0, "\(text)")

        // "cycle=K fds=N threads=T" per cycle.
        let rows: [(fds: Int, threads: Int)] = text.split(separator: "\n").compactMap { line in
            let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").compactMap { field in
                let parts = field.split(separator: "=")
                return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? -1) : nil
            })
            guard let fds = fields["fds"], let threads = fields["threads"] else { return nil }
            return (fds, threads)
        }
        try #require(rows.count == 6, "\(text)")
        let first = rows[0]
        #expect(first.fds > 0 && first.threads > 0)
        for (cycle, row) in rows.enumerated().dropFirst() {
            #expect(row.fds <= first.fds, "cycle \(cycle + 1): \(row.fds) fds, \(first.fds) after the first\n\(text)")
            #expect(row.threads <= first.threads, "cycle \(cycle + 1): \(row.threads) threads, \(first.threads) after the first\n\(text)")
        }
    }
}
