// GEMM throughput: ck_sgemm and OpenBLAS on the squares and on the products training runs,
// plus the machine's FMA peak measured in the same run, all reported as MFLOP/s (the benchmark
// framework's custom metrics are integers). Compare the two backends' rows of one run: the
// machine is shared and absolute numbers drift, ratios within a run do not.
import Benchmark
import Peregrine

let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, mflops],
        timeUnits: .microseconds,
        maxDuration: .seconds(2),
        maxIterations: 1000)

    Benchmark("FMA peak") { benchmark in
        for _ in benchmark.scaledIterations {
            benchmark.measurement(mflops, Int(Runtime.measureFMAPeak() * 1000))
        }
    }

    for problem in GEMMProblem.squares + GEMMProblem.trainingShapes {
        let operands = GEMMBenchmark(problem: problem)
        for backend in GEMM.availableBackends {
            Benchmark("GEMM \(backend) \(problem)") { benchmark in
                let clock = ContinuousClock()
                for _ in benchmark.scaledIterations {
                    let start = clock.now
                    operands.run(backend: backend)
                    let elapsed = clock.now - start
                    let seconds = Double(elapsed.components.seconds)
                        + Double(elapsed.components.attoseconds) * 1e-18
                    benchmark.measurement(mflops, Int(problem.flops / seconds * 1e-6))
                }
            }
        }
    }
}
