import ArgumentParser
import Foundation
import Peregrine

/// Options shared by `peregrine bench conv|pool|batchnorm`.
struct LayerBenchOptions: ParsableArguments {
    @Option(help: "Threads (default: OMP_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Samples per measurement (kernel and baseline alternate); the best is reported.")
    var samples: Int = 5

    @Option(help: "Measurements per row; the one with the median ratio is printed, with the range.")
    var runs: Int = 3

    func apply() throws {
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads expects a positive count, got \(threads)") }
            Runtime.threads = threads
        }
    }

    func header(_ what: String) {
        print("\(what): \(Runtime.threads) threads, isa \(Runtime.isa) (all rows measured now, in this run)")
    }
}

/// `peregrine bench conv`: the cnn workload's convolutions against ck_sgemm on their own im2col
/// products (forward: M = N·H_out·W_out, N = filters, K = kh·kw·Cin; backward: the dW and dX
/// products), in GFLOP/s and as a ratio.
struct ConvBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv", abstract: "GFLOP/s of conv forward/backward vs the GEMM of their im2col shapes.")

    @OptionGroup var options: LayerBenchOptions

    func run() throws {
        try options.apply()
        options.header("conv")
        let timings = LayerKernelBenchmarks.convolution()
        // pairs: (gemm, conv forward), (gemm backward, conv backward) per problem
        for pair in stride(from: 0, to: timings.count, by: 2) {
            let (kernel, baseline, range) = LayerBenchReport.median(runs: options.runs) {
                KernelTiming.measureAlternately(timings[pair + 1], timings[pair], samples: options.samples)
            }
            LayerBenchReport.row(baseline.name, String(format: "%8.1f GFLOP/s", baseline.gflops), "")
            LayerBenchReport.row(
                kernel.name, String(format: "%8.1f GFLOP/s", kernel.gflops),
                String(format: "%5.0f%% of the GEMM", 100 * kernel.gflops / baseline.gflops) + " (runs: \(range))")
        }
    }
}

/// `peregrine bench pool`: max/average/global pooling forward and backward in GB/s, against a
/// threaded copy of the same number of bytes.
struct PoolBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "GB/s of the pooling kernels vs a plain copy of the same bytes.")

    @OptionGroup var options: LayerBenchOptions

    func run() throws {
        try options.apply()
        options.header("pool")
        LayerBenchReport.memoryBound(LayerKernelBenchmarks.pooling(), samples: options.samples, runs: options.runs)
    }
}

/// `peregrine bench batchnorm`: batch-norm forward (training and inference) and backward in
/// GB/s, against a threaded copy of the same number of bytes.
struct BatchNormBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batchnorm", abstract: "GB/s of the batch-norm kernels vs a plain copy of the same bytes.")

    @OptionGroup var options: LayerBenchOptions

    func run() throws {
        try options.apply()
        options.header("batchnorm")
        LayerBenchReport.memoryBound(LayerKernelBenchmarks.batchNormalization(), samples: options.samples, runs: options.runs)
    }
}

enum LayerBenchReport {
    /// Runs `measure` `runs` times; returns the run with the median kernel/baseline ratio and
    /// all the ratios in percent, e.g. "61 62 64".
    static func median(runs: Int, _ measure: () -> (kernel: KernelResult, baseline: KernelResult))
        -> (KernelResult, KernelResult, String)
    {
        let results = (0..<max(runs, 1)).map { _ in measure() }
            .sorted { $0.baseline.seconds / $0.kernel.seconds < $1.baseline.seconds / $1.kernel.seconds }
        let middle = results[results.count / 2]
        let range = results.map { String(format: "%.0f", 100 * $0.baseline.seconds / $0.kernel.seconds) }
        return (middle.kernel, middle.baseline, range.joined(separator: " "))
    }

    static func row(_ name: String, _ rate: String, _ ratio: String) {
        let padded = name.count >= 64 ? name + " " : name + String(repeating: " ", count: 64 - name.count)
        print(padded + rate + "   " + ratio)
    }

    /// Each kernel against a copy of its byte count, sampled alternately.
    static func memoryBound(_ timings: [KernelTiming], samples: Int, runs: Int) {
        for timing in timings {
            let copyTiming = LayerKernelBenchmarks.copy(bytes: timing.bytes)
            let (kernel, copy, range) = median(runs: runs) {
                KernelTiming.measureAlternately(timing, copyTiming, samples: samples)
            }
            row(
                kernel.name, String(format: "%7.1f GB/s", kernel.gigabytesPerSecond),
                String(format: "%5.0f%% of copy (%.1f GB/s, %.1f MB)", 100 * kernel.gigabytesPerSecond / copy.gigabytesPerSecond,
                       copy.gigabytesPerSecond, timing.bytes / 1e6) + " (runs: \(range))")
        }
    }
}
