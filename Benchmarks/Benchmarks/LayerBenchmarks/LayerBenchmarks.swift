// Convolution, pooling and batch-norm throughput, each beside the baseline it is judged against,
// measured in the same run: the cnn workload's convolutions against ck_sgemm on their own
// im2col products (MFLOP/s), the memory-bound kernels against a threaded copy of the same bytes
// (MB/s). The framework's custom metrics are integers, hence MFLOP/s and MB/s. Compare rows of
// one run: the machine is shared and absolute numbers drift, ratios within a run do not.
//
//   cd Benchmarks && swift package benchmark --target LayerBenchmarks
import Benchmark
import Peregrine

let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
let megabytes = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)

/// One benchmark per kernel timing: each iteration runs it once and reports its rate.
func register(_ timing: KernelTiming, computeBound: Bool) {
    Benchmark(timing.name) { benchmark in
        let clock = ContinuousClock()
        timing.run()
        for _ in benchmark.scaledIterations {
            let start = clock.now
            timing.run()
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if computeBound {
                benchmark.measurement(mflops, Int(timing.flops / seconds * 1e-6))
            } else {
                benchmark.measurement(megabytes, Int(timing.bytes / seconds * 1e-6))
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, mflops, megabytes],
        timeUnits: .microseconds,
        maxDuration: .seconds(2),
        maxIterations: 1000)

    // gemm (im2col shape), conv forward, gemm (backward shapes), conv backward — per problem
    for timing in LayerKernelBenchmarks.convolution() { register(timing, computeBound: true) }
    // each memory-bound kernel, then a copy of exactly its bytes
    for timing in LayerKernelBenchmarks.pooling() + LayerKernelBenchmarks.batchNormalization() {
        register(timing, computeBound: false)
        let copy = LayerKernelBenchmarks.copy(bytes: timing.bytes)
        // the closure holds `copy`, and with it the buffers it copies
        register(
            KernelTiming(name: "\(copy.name) (baseline of \(timing.name))", flops: 0, bytes: copy.bytes) { copy.run() },
            computeBound: false)
    }
}
