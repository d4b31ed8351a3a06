import ArgumentParser
import Foundation
import Peregrine

/// Options shared by `peregrine bench conv|pool|batchnorm`.
struct LayerBenchOptions: ParsableArguments {
    @Option(help: "Threads (default: OMP_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Samples per measurement; the best is reported.")
    var samples: Int = 5

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
            let baseline = timings[pair].measure(samples: options.samples)
            let kernel = timings[pair + 1].measure(samples: options.samples)
            LayerBenchReport.row(baseline.name, String(format: "%8.1f GFLOP/s", baseline.gflops), "")
            LayerBenchReport.row(
                kernel.name, String(format: "%8.1f GFLOP/s", kernel.gflops),
                String(format: "%5.0f%% of the GEMM", 100 * kernel.gflops / baseline.gflops))
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
        LayerBenchReport.memoryBound(LayerKernelBenchmarks.pooling(), samples: options.samples)
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
        LayerBenchReport.memoryBound(LayerKernelBenchmarks.batchNormalization(), samples: options.samples)
    }
}

enum LayerBenchReport {
    static func row(_ name: String, _ rate: String, _ ratio: String) {
        let padded = name.count >= 64 ? name + " " : name + String(repeating: " ", count: 64 - name.count)
        print(padded + rate + "   " + ratio)
    }

    /// Each kernel, then a copy of its byte count measured right after it.
    static func memoryBound(_ timings: [KernelTiming], samples: Int) {
        for timing in timings {
            let kernel = timing.measure(samples: samples)
            let copy = LayerKernelBenchmarks.copy(bytes: timing.bytes).measure(samples: samples)
            row(
                kernel.name, String(format: "%7.1f GB/s", kernel.gigabytesPerSecond),
                String(format: "%5.0f%% of copy (%.1f GB/s, %.1f MB)", 100 * kernel.gigabytesPerSecond / copy.gigabytesPerSecond,
                       copy.gigabytesPerSecond, timing.bytes / 1e6))
        }
    }
}
