// LSTM throughput on the lstm workload (batch 128, 28 steps of 28 features, 128 units): the
// ck_lstm kernels forward and forward+backward, and ck_sgemm running exactly the products they
// run, all in MFLOP/s of the same flop count (the framework's custom metrics are integers).
// The ratio of an LSTM row to its GEMM row of the same run is the figure of merit.
import Benchmark
import Peregrine

let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, mflops],
        timeUnits: .milliseconds,
        maxDuration: .seconds(3),
        maxIterations: 200)

    let bench = LSTMBenchmark.workload()
    for backward in [false, true] {
        let what = backward ? "forward+backward" : "forward"
        let flops = bench.flops(backward: backward)
        for (name, body) in [
            ("GEMMs of the LSTM \(what)", { bench.runGEMMs(backward: backward) }),
            ("LSTM \(what)", { bench.runLSTM(backward: backward) }),
        ] as [(String, () -> Void)] {
            Benchmark(name) { benchmark in
                let clock = ContinuousClock()
                for _ in benchmark.scaledIterations {
                    let start = clock.now
                    body()
                    let elapsed = clock.now - start
                    let seconds = Double(elapsed.components.seconds)
                        + Double(elapsed.components.attoseconds) * 1e-18
                    benchmark.measurement(mflops, Int(flops / seconds * 1e-6))
                }
            }
        }
    }
}
