import ArgumentParser
import Foundation
import Peregrine

/// `peregrine leak-cycles` (hidden, for the tests): repeats a small model's whole life —
/// build, compile, `fit`, `save`, `Model.load`, `saveWeights`, `loadWeights`, `predict` — and
/// prints the process's open file descriptors (`/proc/self/fd`) and threads (`Threads:` of
/// `/proc/self/status`) after each cycle, one line each: `cycle=K fds=N threads=T`.
///
/// It runs in its own process so that the counts are this workload's alone: inside the test
/// runner, other suites open files and start threads (and libgomp keeps a worker pool per
/// calling thread) at the same time.
///
/// ```sh
/// peregrine leak-cycles --cycles 6 --directory /tmp/leaks
/// ```
struct LeakCyclesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leak-cycles",
        abstract: "Repeat fit/save/load cycles and print fd and thread counts (for the tests).",
        shouldDisplay: false)

    @Option(help: "Number of cycles.")
    var cycles: Int = 5

    @Option(help: "Folder for the checkpoints (created).")
    var directory: String

    func run() throws {
        let folder = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (images, labels) = SyntheticImages.make(count: 96, seed: 1)
        let x = try images.reshaped(to: [96, 784])
        for cycle in 1...cycles {
            let model = try Sequential([InputLayer(shape: [784]), Dense(units: 16, activation: .relu), Dense(units: 10)])
            try model.compile(
                optimizer: try Adam(learningRate: 1e-3),
                loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            try model.fit(x, labels, batchSize: 32, epochs: 1, verbose: .silent)
            let modelURL = folder.appendingPathComponent("model.safetensors")
            let weightsURL = folder.appendingPathComponent("model.weights.safetensors")
            try model.save(to: modelURL)
            let loaded = try Model.load(from: modelURL)
            try model.saveWeights(to: weightsURL)
            try loaded.loadWeights(from: weightsURL)
            _ = try loaded.predict(x, batchSize: 32)
            print("cycle=\(cycle) fds=\(Self.openFileDescriptors()) threads=\(Self.threads())")
        }
    }

    /// Entries of /proc/self/fd (the directory listing itself holds one while it is read).
    static func openFileDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// The `Threads:` line of /proc/self/status.
    static func threads() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) ?? -1
        }
        return -1
    }
}
