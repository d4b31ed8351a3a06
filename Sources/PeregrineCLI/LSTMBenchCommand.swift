import ArgumentParser
import Foundation
import Peregrine

/// `peregrine bench lstm`: the LSTM kernels (forward; forward + backward) on the lstm workload
/// against ck_sgemm running the same products, and the LSTM layer through a GradientTape.
///
/// ```
/// peregrine bench lstm --threads 2
/// ```
struct LSTMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lstm",
        abstract: "GFLOP/s of the LSTM forward/backward vs ck_sgemm on the same GEMM shapes.")

    @Option(help: "Threads (default: OMP_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Samples per measurement (GEMM and LSTM alternate); the best is reported.")
    var samples: Int = 10

    @Option(help: "batch,steps,features,units (default: the lstm workload 128,28,28,128).")
    var shape: String = "128,28,28,128"

    func run() throws {
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads expects a positive count, got \(threads)") }
            Runtime.threads = threads
        }
        let sizes = shape.split(separator: ",").compactMap { Int($0) }
        guard sizes.count == 4, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--shape expects batch,steps,features,units, got \(shape)")
        }
        let bench = LSTMBenchmark(batch: sizes[0], steps: sizes[1], features: sizes[2], units: sizes[3])
        print("lstm x[\(sizes[0]),\(sizes[1]),\(sizes[2])] units \(sizes[3]): \(Runtime.threads) threads, isa \(Runtime.isa) (all rows measured now, in this run)")
        for backward in [false, true] {
            let what = backward ? "forward+backward" : "forward"
            let flops = bench.flops(backward: backward)
            let (gemm, lstm) = bench.compare(backward: backward, samples: samples)
            Self.row("ck_sgemm, the LSTM's \(what) products", String(format: "%7.2f ms %7.1f GFLOP/s", gemm * 1e3, flops / gemm * 1e-9), "")
            Self.row("ck_lstm \(what)", String(format: "%7.2f ms %7.1f GFLOP/s", lstm * 1e3, flops / lstm * 1e-9),
                     String(format: "%5.0f%% of the GEMMs", 100 * gemm / lstm))
        }
        // The layer as a user runs it: allocation, the tape, and the packed outputs included.
        let layer = LSTM(units: sizes[3])
        let x = try Tensor.randomUniform([sizes[0], sizes[1], sizes[2]], lowerBound: -1, upperBound: 1, seed: 1)
        _ = try layer(x)
        let forward = LSTMBenchmark.bestSeconds(samples: samples) { _ = try? layer(x) }
        let step = LSTMBenchmark.bestSeconds(samples: samples) {
            let tape = GradientTape()
            guard let loss = try? tape.recording({ try layer(x).sum() }) else { return }
            _ = try? tape.gradient(loss, layer.trainableWeights)
        }
        Self.row("LSTM layer forward", String(format: "%7.2f ms %7.1f GFLOP/s", forward * 1e3, bench.flops(backward: false) / forward * 1e-9), "")
        Self.row("LSTM layer forward+backward (tape)", String(format: "%7.2f ms %7.1f GFLOP/s", step * 1e3, bench.flops(backward: true) / step * 1e-9), "")
    }

    static func row(_ name: String, _ rate: String, _ ratio: String) {
        let padded = name.count >= 48 ? name + " " : name + String(repeating: " ", count: 48 - name.count)
        print(padded + rate + "   " + ratio)
    }
}
